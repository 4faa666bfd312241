"""The owner corrects, deletes and adds lines of their own note, and types the text
of a note the engine read nothing on: recorded like a reviewer's correction,
searchable at once, out of the review queue; other people's notes are a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ocr_app.models import DeletedLine, Line, Note, ReviewAction, ReviewEvent
from ocr_app.search import search_notes
from ocr_app.services import owner_edits, review
from tests.factories import make_note

pytestmark = pytest.mark.django_db


def found(user, query: str) -> list[int]:
    return [r.note.pk for r in search_notes(user, query).notes if not r.fuzzy]


@pytest.fixture
def note(user):
    return make_note(user, ["Call the plumbcr", "Buy milk", "~~ smudge ~~"], confidences=[60.0, 95.0, 40.0])


@pytest.fixture
def nothing(user):
    return make_note(user, [], name="pencil list.jpg")


def test_the_owner_corrects_a_line_on_the_note_page_like_a_reviewer(alice_client, user, note):
    line = note.lines.get(order=0)
    assert line.pk in review.pending_lines().values_list("pk", flat=True)
    response = alice_client.post(reverse("ocr_app:line_edit", args=[note.pk, line.pk]), {"text": "Call the  plumber "})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.text, line.reviewed_by, line.needs_review, line.is_corrected) == ("Call the plumber", user, False, True)
    event = line.events.get()
    assert (event.action, event.reviewer, event.old_text, event.new_text) == (
        ReviewAction.CORRECT, user, "Call the plumbcr", "Call the plumber")
    assert found(user, "plumber") == [note.pk]
    assert line.pk not in review.pending_lines().values_list("pk", flat=True)
    # History and restore for the owner, without the review permission.
    history = reverse("ocr_app:line_history", args=[note.pk, line.pk])
    page = alice_client.get(history).content.decode()
    assert "Call the plumbcr" in page and "Corrected" in page
    alice_client.post(history, {"text": "Call the plumbcr"})
    line.refresh_from_db()
    assert line.text == "Call the plumbcr"
    assert [e.action for e in line.events.order_by("created_at", "pk")] == [ReviewAction.CORRECT, ReviewAction.RESTORE]


def test_an_empty_or_too_long_correction_is_refused_and_nothing_changes(alice_client, note):
    line = note.lines.get(order=1)
    for text in ("   ", "x" * 2001):
        response = alice_client.post(reverse("ocr_app:line_edit", args=[note.pk, line.pk]), {"text": text}, follow=True)
        assert "line" in response.content.decode()
    line.refresh_from_db()
    assert (line.text, line.reviewed_at) == ("Buy milk", None)
    assert not ReviewEvent.objects.exists()


def test_deleting_a_line_hides_it_from_page_and_search_and_put_back_restores_it_with_history(alice_client, user, note):
    line = note.lines.get(order=2)
    owner_edits.correct_own_line(line_id=line.pk, owner=user, text="~~ smudge ~~")  # accepted first: some history
    alice_client.post(reverse("ocr_app:line_edit", args=[note.pk, line.pk]), {"action": "delete"})
    assert not Line.objects.filter(pk=line.pk).exists()
    assert found(user, "smudge") == []
    page = alice_client.get(note.get_absolute_url()).content.decode()
    assert 'id="line-2"' not in page and "Deleted lines" in page
    deleted = DeletedLine.objects.get(note=note)
    assert ReviewEvent.objects.filter(note=note, action=ReviewAction.DELETE, reviewer=user).count() == 1
    alice_client.post(reverse("ocr_app:line_undelete", args=[note.pk, deleted.pk]))
    back = note.lines.get(text="~~ smudge ~~")
    assert back.order == 2
    assert [e.action for e in back.events.order_by("created_at", "pk")] == [
        ReviewAction.ACCEPT, ReviewAction.DELETE, ReviewAction.UNDELETE]
    assert found(user, "smudge") == [note.pk]
    assert not DeletedLine.objects.exists()


def test_adding_a_line_with_a_box_puts_it_in_reading_order_and_without_one_last(alice_client, user, note):
    url = reverse("ocr_app:line_add", args=[note.pk])
    alice_client.post(url, {"text": "and the electrician", "x": "10", "y": "72", "width": "400", "height": "36"})
    alice_client.post(url, {"text": "water plants"})
    lines = list(note.lines.order_by("order"))
    assert [li.text for li in lines] == [
        "Call the plumbcr", "and the electrician", "Buy milk", "~~ smudge ~~", "water plants"]
    added = lines[1]
    assert (added.x, added.y, added.width, added.height) == (10, 72, 400, 36)
    assert added.is_added and added.reviewed_by == user and not added.needs_review
    assert (lines[4].width, lines[4].height) == (0, 0)
    assert ReviewEvent.objects.filter(note=note, action=ReviewAction.ADD).count() == 2
    assert found(user, "electrician") == [note.pk]


def test_other_peoples_notes_and_lines_are_a_404(client, other_user, note):
    client.force_login(other_user)
    line = note.lines.get(order=0)
    urls = [
        reverse("ocr_app:line_edit", args=[note.pk, line.pk]),
        reverse("ocr_app:line_add", args=[note.pk]),
        reverse("ocr_app:note_type_text", args=[note.pk]),
        reverse("ocr_app:line_history", args=[note.pk, line.pk]),
    ]
    for url in urls:
        assert client.post(url, {"text": "mine now", "action": "delete"}).status_code == 404
    mine = make_note(other_user, ["my own line"])
    # Another note's line through one's own note's URL is missing too.
    assert client.post(reverse("ocr_app:line_edit", args=[mine.pk, line.pk]), {"text": "x"}).status_code == 404
    with pytest.raises(Line.DoesNotExist):
        owner_edits.correct_own_line(line_id=line.pk, owner=other_user, text="mine now")
    line.refresh_from_db()
    assert line.text == "Call the plumbcr" and not ReviewEvent.objects.exists()


def test_a_note_with_nothing_read_is_marked_and_the_owner_types_its_text(alice_client, user, nothing, note):
    assert list(Note.objects.nothing_read()) == [nothing]
    listing = alice_client.get(reverse("ocr_app:note_list")).content.decode()
    assert listing.count('class="warning nothing-read">Nothing read') == 1  # its card only (not the other note's)
    page = alice_client.get(nothing.get_absolute_url()).content.decode()
    assert "Nothing read" in page and "Reprocess" in page and 'id="type-text-form"' in page
    status = alice_client.get(reverse("ocr_app:note_status", args=[nothing.pk])).json()
    assert status["nothing_read"] is True
    alice_client.post(reverse("ocr_app:note_type_text", args=[nothing.pk]), {"text": "COSTCO\n\n 3 bananas \nbread\n"})
    assert [li.text for li in nothing.lines.order_by("order")] == ["COSTCO", "3 bananas", "bread"]
    assert ReviewEvent.objects.filter(note=nothing, action=ReviewAction.ADD, reviewer=user).count() == 3
    assert not Note.objects.nothing_read().exists()
    assert found(user, "bananas") == [nothing.pk]


def test_typing_nothing_is_refused(alice_client, nothing):
    response = alice_client.post(reverse("ocr_app:note_type_text", args=[nothing.pk]), {"text": " \n "}, follow=True)
    assert "one line per line" in response.content.decode()
    assert not nothing.lines.exists()


# --- nothing read, in the review queue ------------------------------------------------------


def test_a_note_with_nothing_read_is_a_whole_note_item_in_the_review_queue(client, user, other_user, staff_user):
    from django.contrib.auth.models import Permission
    from PIL import Image

    from tests.notegen import encode

    staff_user.user_permissions.add(Permission.objects.get(codename="review_line"))
    blank = encode(Image.new("RGB", (400, 300), "white"))
    empty = make_note(other_user, [], name="pencil list.jpg", image=blank)
    with_text = make_note(other_user, ["Dentist at 4pm"], image=blank)
    client.force_login(staff_user)
    page = client.get(reverse("ocr_app:review_queue")).content.decode()
    assert 'id="review-note"' in page and "pencil list.jpg" in page and "Nothing read" in page
    photo = client.get(reverse("ocr_app:review_note_photo", args=[empty.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    # Only notes with nothing read are reachable that way.
    assert client.get(reverse("ocr_app:review_note_photo", args=[with_text.pk])).status_code == 404
    client.post(reverse("ocr_app:review_type_note", args=[empty.pk]), {"action": "save", "text": "milk\neggs"})
    assert [li.text for li in empty.lines.order_by("order")] == ["milk", "eggs"]
    assert set(ReviewEvent.objects.filter(note=empty).values_list("reviewer", "action")) == {(staff_user.pk, "add")}
    assert [r.note.pk for r in search_notes(other_user, "eggs").notes] == [empty.pk]
    # Once it has text, a reviewer can no longer add to someone else's note.
    response = client.post(reverse("ocr_app:review_type_note", args=[empty.pk]), {"action": "save", "text": "more"}, follow=True)
    assert "has text now" in response.content.decode()
    assert client.post(reverse("ocr_app:review_type_note", args=[with_text.pk]), {"text": "x"}).status_code == 302
    assert with_text.lines.count() == 1
    assert 'id="review-note"' not in client.get(reverse("ocr_app:review_queue")).content.decode()
    # Without the review permission: 403.
    client.force_login(user)
    assert client.get(reverse("ocr_app:review_note_photo", args=[empty.pk])).status_code == 403
    assert client.post(reverse("ocr_app:review_type_note", args=[empty.pk]), {"text": "x"}).status_code == 403


# --- the API ------------------------------------------------------------------------------------


def test_the_api_says_nothing_read_and_lets_the_owner_correct_a_line(user, other_user, note, nothing):
    from ocr_app.pipeline.tasks import request_recognition
    from ocr_app.services.tokens import create_token
    from tests.test_api import assert_error, bearer

    api = bearer(create_token(user=user, name="tests")[1])
    listed = {n["id"]: n for n in api.get("/api/v1/notes/").json()["results"]}
    assert (listed[nothing.pk]["nothing_read"], listed[note.pk]["nothing_read"]) == (True, False)
    assert api.get(f"/api/v1/notes/{nothing.pk}/").json()["nothing_read"] is True

    line = note.lines.get(order=0)
    url = f"/api/v1/notes/{note.pk}/lines/{line.pk}/"
    response = api.patch(url, {"text": "Call the  plumber"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["text"], response.json()["review_state"]) == ("Call the plumber", "corrected")
    assert line.events.get().reviewer == user
    assert found(user, "plumber") == [note.pk]
    assert_error(api.patch(url, {"text": "   "}, format="json"), 400, "validation_error")
    assert_error(api.patch(url, {}, format="json"), 400, "validation_error")
    # Another user's line, or a line through another note, is missing.
    other = bearer(create_token(user=other_user, name="tests")[1])
    assert_error(other.patch(url, {"text": "mine"}, format="json"), 404, "not_found")
    assert_error(api.patch(f"/api/v1/notes/{nothing.pk}/lines/{line.pk}/", {"text": "x"}, format="json"), 404, "not_found")
    # While the note is recognised again its lines are about to be replaced.
    request_recognition(note)
    assert_error(api.patch(url, {"text": "later"}, format="json"), 409, "note_busy")
    line.refresh_from_db()
    assert line.text == "Call the plumber"


def test_the_admin_shows_nothing_read_notes_added_and_deleted_lines(admin_client, user, note, nothing):
    owner_edits.add_own_line(note_id=note.pk, owner=user, text="water plants")
    owner_edits.delete_own_line(line_id=note.lines.get(order=2).pk, owner=user)
    listing = admin_client.get(reverse("admin:ocr_app_note_changelist"), {"nothing_read": "yes"}).content.decode()
    assert "pencil list.jpg" in listing and "Call the plumbcr" not in listing
    page = admin_client.get(reverse("admin:ocr_app_note_change", args=[note.pk])).content.decode()
    assert "~~ smudge ~~" in page and "deleted by alice" in page
    added = admin_client.get(reverse("admin:ocr_app_line_changelist"), {"reviewed": "added"}).content.decode()
    assert "water plants" in added and "Buy milk" not in added


def test_odd_input_to_the_owners_edits_is_refused_or_cleaned_never_a_500(alice_client, user, note):
    # A box of numbers no pixel can hold.
    for x in ("inf", "1e400", "nan"):
        response = alice_client.post(reverse("ocr_app:line_add", args=[note.pk]),
                                     {"text": "Ring Sam", "x": x, "y": "1", "width": "5", "height": "5"}, follow=True)
        assert response.status_code == 200 and "The box must be four numbers" in response.content.decode()
    assert not note.lines.filter(text="Ring Sam").exists()
    # A NUL (which PostgreSQL cannot store) is a space, like other control characters.
    line = note.lines.get(order=1)
    alice_client.post(reverse("ocr_app:line_edit", args=[note.pk, line.pk]), {"text": "Buy\x00oat\tmilk"})
    line.refresh_from_db()
    assert line.text == "Buy oat milk"


def test_a_line_typed_by_a_person_cannot_be_restored_to_empty(alice_client, user, note):
    added = owner_edits.add_own_line(note_id=note.pk, owner=user, text="Ring Sam")
    assert review.earlier_texts(added) == []  # its text before it existed is not one to go back to
    history = reverse("ocr_app:line_history", args=[note.pk, added.pk])
    alice_client.post(history, {"text": ""})
    added.refresh_from_db()
    assert added.text == "Ring Sam"
    deleted = owner_edits.delete_own_line(line_id=note.lines.get(order=1).pk, owner=user)
    back = owner_edits.undelete_own_line(deleted_id=deleted.pk, owner=user)
    assert "" not in review.earlier_texts(back)


def test_a_deleted_line_is_put_back_only_through_its_own_note(alice_client, user, note):
    other = make_note(user, ["Another note"])
    deleted = owner_edits.delete_own_line(line_id=note.lines.get(order=1).pk, owner=user)
    url = reverse("ocr_app:line_undelete", args=[other.pk, deleted.pk])
    assert alice_client.post(url).status_code == 404
    assert DeletedLine.objects.filter(pk=deleted.pk).exists() and not other.lines.filter(text="Buy milk").exists()


def test_the_owner_cannot_restore_a_text_while_the_note_is_being_recognised(user, note):
    line = note.lines.get(order=0)
    owner_edits.correct_own_line(line_id=line.pk, owner=user, text="Call the plumber")
    Note.objects.filter(pk=note.pk).update(status="processing")
    with pytest.raises(review.ReviewError):
        review.restore_text(line_id=line.pk, reviewer=user, text="Call the plumbcr")
    line.refresh_from_db()
    assert line.text == "Call the plumber"
