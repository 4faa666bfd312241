"""The review queue: services (actions, claims, history, accuracy) and who may reach it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from io import BytesIO, StringIO

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from ocr_app.models import Line, Note, ReviewAction, ReviewEvent, Word
from ocr_app.search import search_notes, suggest
from ocr_app.services import accuracy, owner_edits, review
from ocr_app.services.notes import delete_note
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload, run_worker_until_idle
from tests.factories import make_note
from tests.notegen import SAMPLE_LINES, encode, note_bytes, render_note

pytestmark = pytest.mark.django_db


def allow_review(user):
    """Give ``user`` the review permission, as an admin does on the user's page."""
    user.user_permissions.add(Permission.objects.get(content_type__app_label="ocr_app", codename="review_line"))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached per object


@pytest.fixture
def reviewer(staff_user):
    """Sam, staff with the review permission."""
    return allow_review(staff_user)


@pytest.fixture
def second_reviewer(django_user_model):
    return allow_review(
        django_user_model.objects.create_user("rita", "rita@example.com", "rita-password-1", is_staff=True)
    )


@pytest.fixture
def queue_notes(user, other_user):
    """Two users' notes; lines under 75 wait for review."""
    blank = encode(Image.new("RGB", (1000, 320), "white"))
    return {
        "a": make_note(user, ["Call the plumbcr", "Buy milk", "Pay the bi11"], confidences=[60.0, 90.0, 70.0], image=blank),
        "b": make_note(other_user, ["Dentist at 4pm", "Renew passpor"], confidences=[40.0, 74.0], image=blank),
        "sure": make_note(user, ["Water the garden"], confidences=[99.0], image=blank),
    }


def line_of(note, order) -> Line:
    return note.lines.get(order=order)


def texts(lines) -> list[str]:
    return [line.text for line in lines]


# --- the queue ---------------------------------------------------------------------


def test_queue_holds_unsure_unreviewed_lines_of_done_notes_grouped_by_note(queue_notes):
    # Note b's least sure line (40) beats note a's (60); within a note, reading order.
    assert texts(review.pending_lines()) == ["Dentist at 4pm", "Renew passpor", "Call the plumbcr", "Pay the bi11"]


@pytest.mark.django_db(transaction=True)  # the worker commits
def test_after_a_threshold_change_the_queue_notes_list_api_and_ocr_command_agree(queue_notes, user, alice_client, settings,
                                                                                tmp_path):
    """The flag is set when a line is read, under the threshold of that moment: lines read
    before a change keep theirs, lines read after get the new threshold's, and every place
    that tells whether a line needs review tells the same."""
    picture = note_bytes(SAMPLE_LINES[:3])
    settings.INKDEX = {**settings.INKDEX, "REVIEW_THRESHOLD": 99.5}
    later = create_note(owner=user, uploaded_file=image_upload("later.jpg", picture))
    run_worker_until_idle()
    settings.INKDEX = {**settings.INKDEX, "REVIEW_THRESHOLD": 95.0}
    read_later = {line.pk: line.confidence < 99.5 for line in Line.objects.filter(note=later)}
    assert True in read_later.values(), "some line of the note should be read under 99.5%"

    # Read at 75: the 60 and the 70 are flagged, the 90 is not, though under 95 now. Read at 99.5: as then.
    expected = {line.pk for line in queue_notes["a"].lines.all() if line.confidence < 75}
    expected |= {pk for pk, flagged in read_later.items() if flagged}
    mine = Line.objects.filter(note__owner=user)
    assert {line.pk for line in review.pending_lines() if line.note.owner_id == user.pk} == expected
    api = APIClient()
    api.force_authenticate(user)
    in_api = {line["id"] for note in Note.objects.filter(owner=user)
              for line in api.get(f"/api/v1/notes/{note.pk}/").json()["lines"] if line["review_state"] == "needs_review"}
    assert in_api == expected
    listed = {note.pk: note.flagged_count for note in alice_client.get(reverse("ocr_app:note_list")).context["notes"]}
    assert listed == {note_id: sum(1 for line in mine.filter(note_id=note_id) if line.pk in expected)
                      for note_id in listed}
    to_review = alice_client.get(reverse("ocr_app:note_list") + "?review=1").context["notes"]
    assert {note.pk for note in to_review} == {queue_notes["a"].pk, later.pk}

    # The ocr command's verdict on the same picture, at the threshold it was read with, is the stored flag.
    path = tmp_path / "later.jpg"
    path.write_bytes(picture)
    out = StringIO()
    call_command("ocr", str(path), "--json", "--threshold", "99.5", stdout=out)
    [printed] = json.loads(out.getvalue())
    stored = Line.objects.filter(note=later).order_by("order")
    assert [not line["accepted"] for line in printed["lines"]] == [line.needs_review for line in stored]


def test_queue_leaves_out_notes_being_recognized_again(queue_notes):
    Note.objects.filter(pk=queue_notes["b"].pk).update(status="queued")
    assert texts(review.pending_lines()) == ["Call the plumbcr", "Pay the bi11"]


def test_two_reviewers_never_get_the_same_line(queue_notes, staff_user, second_reviewer):
    first = review.claim_next_line(staff_user)
    second = review.claim_next_line(second_reviewer)
    assert first.text == "Dentist at 4pm"
    assert second.text == "Renew passpor"
    # Coming back (a reload) gives each the line they hold.
    assert review.claim_next_line(staff_user).pk == first.pk
    assert review.claim_next_line(second_reviewer).pk == second.pk


def test_an_expired_claim_lets_another_reviewer_take_the_line(queue_notes, staff_user, second_reviewer):
    held = review.claim_next_line(staff_user)
    Line.objects.filter(pk=held.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert review.claim_next_line(second_reviewer).pk == held.pk
    # The first reviewer moves on to the next free line.
    assert review.claim_next_line(staff_user).text == "Renew passpor"


def test_a_reviewer_holds_one_line_at_a_time(queue_notes, staff_user):
    first = review.claim_next_line(staff_user)
    review.claim_next_line(staff_user, skipped=[first.pk])
    assert Line.objects.filter(claimed_by=staff_user).count() == 1
    assert Line.objects.get(pk=first.pk).claimed_by is None


@pytest.mark.django_db(transaction=True)
def test_reviewers_claiming_at_the_same_moment_get_different_lines(queue_notes, django_user_model):
    reviewers = [
        django_user_model.objects.create_user(f"reviewer{i}", password="pw-12345678", is_staff=True) for i in range(4)
    ]
    claimed: dict[str, int | None] = {}
    start = threading.Barrier(len(reviewers))

    def claim(reviewer):
        try:
            start.wait()
            line = review.claim_next_line(reviewer)
            claimed[reviewer.username] = line.pk if line else None
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(claimed) == 4
    assert None not in claimed.values()
    assert len(set(claimed.values())) == 4


def test_skipped_lines_come_after_the_others(queue_notes, staff_user):
    waiting = [line.pk for line in review.pending_lines()]
    first = review.claim_next_line(staff_user)
    review.skip_line(line_id=first.pk, reviewer=staff_user)
    offered = []
    while (line := review.claim_next_line(staff_user, skipped=[first.pk])) is not None:
        offered.append(line.pk)
        review.accept_line(line_id=line.pk, reviewer=staff_user)
    # Every other waiting line, once each, in the queue's order; the skipped one not among them.
    assert offered == [pk for pk in waiting if pk != first.pk]
    # Then, the skips forgotten (the page's "start over"), the skipped line, still waiting.
    assert Line.objects.get(pk=first.pk).reviewed_at is None
    assert review.claim_next_line(staff_user).pk == first.pk


# --- actions -----------------------------------------------------------------------


def test_a_correction_changes_the_line_keeps_the_original_and_is_searchable_at_once(queue_notes, user, staff_user):
    line = line_of(queue_notes["a"], 0)
    assert [r.note.pk for r in search_notes(user, "plumbcr").notes] == [queue_notes["a"].pk]

    event = review.correct_line(line_id=line.pk, reviewer=staff_user, text="  Call the   plumber ")

    line.refresh_from_db()
    assert (line.text, line.ocr_text) == ("Call the plumber", "Call the plumbcr")
    assert line.is_corrected and not line.needs_review
    assert line.reviewed_by == staff_user and line.reviewed_at is not None
    assert (event.action, event.old_text, event.new_text, event.reviewer) == (
        ReviewAction.CORRECT, "Call the plumbcr", "Call the plumber", staff_user,
    )
    exact = search_notes(user, "plumber").notes
    assert [(r.note.pk, r.fuzzy) for r in exact] == [(queue_notes["a"].pk, False)]
    # The misreading no longer matches exactly; only as a near miss of "plumber".
    assert [(r.note.pk, r.fuzzy) for r in search_notes(user, "plumbcr").notes] == [(queue_notes["a"].pk, True)]
    # The vocabulary follows: suggestions offer the corrected word, not the misreading.
    assert suggest(user, "plumb") == ["plumber"]
    assert not Word.objects.filter(owner=user, word="plumbcr").exists()
    assert line not in review.pending_lines()


def test_saving_the_text_unchanged_counts_as_accepting(queue_notes, staff_user):
    line = line_of(queue_notes["a"], 2)
    event = review.correct_line(line_id=line.pk, reviewer=staff_user, text="Pay the bi11")
    assert event.action == ReviewAction.ACCEPT
    line.refresh_from_db()
    assert line.reviewed_at and not line.is_corrected


def test_accept_keeps_the_text_and_leaves_the_queue(queue_notes, staff_user):
    line = line_of(queue_notes["b"], 0)
    event = review.accept_line(line_id=line.pk, reviewer=staff_user)
    assert (event.action, event.old_text, event.new_text) == (ReviewAction.ACCEPT, "Dentist at 4pm", "Dentist at 4pm")
    assert texts(review.pending_lines())[0] == "Renew passpor"


def test_accept_rest_of_note_accepts_its_waiting_lines_but_not_another_reviewers(queue_notes, staff_user, second_reviewer):
    note = make_note(queue_notes["a"].owner, ["one", "two", "three", "four"], confidences=[10.0, 20.0, 30.0, 99.0])
    Line.objects.filter(note=note, order=2).update(
        claimed_by=second_reviewer, claimed_until=timezone.now() + timedelta(minutes=5)
    )
    accepted = review.accept_rest_of_note(line_id=line_of(note, 0).pk, reviewer=staff_user)
    assert accepted == 2
    assert texts(review.pending_lines().filter(note=note)) == ["three"]
    assert ReviewEvent.objects.filter(note=note, action=ReviewAction.ACCEPT).count() == 2


def test_a_line_held_by_another_reviewer_cannot_be_changed(queue_notes, staff_user, second_reviewer):
    line = review.claim_next_line(second_reviewer)
    with pytest.raises(review.ReviewError, match="Another reviewer"):
        review.correct_line(line_id=line.pk, reviewer=staff_user, text="Dentist at 5pm")
    line.refresh_from_db()
    assert line.text == "Dentist at 4pm" and not ReviewEvent.objects.exists()


def test_a_line_that_is_gone_gives_a_clear_error(staff_user):
    with pytest.raises(review.ReviewError, match="no longer exists"):
        review.accept_line(line_id=999999, reviewer=staff_user)


def test_too_long_text_is_refused_and_nothing_changes(queue_notes, staff_user):
    line = line_of(queue_notes["a"], 0)
    with pytest.raises(review.ReviewError, match="at most"):
        review.correct_line(line_id=line.pk, reviewer=staff_user, text="x" * (review.MAX_LINE_LENGTH + 1))
    line.refresh_from_db()
    assert line.text == "Call the plumbcr" and line.reviewed_at is None


def test_any_earlier_text_can_be_restored_and_that_is_recorded(queue_notes, user, staff_user):
    line = line_of(queue_notes["a"], 0)
    review.correct_line(line_id=line.pk, reviewer=staff_user, text="Call the plumber")
    review.correct_line(line_id=line.pk, reviewer=user, text="Call the plumber today")  # the owner, on her own note
    line.refresh_from_db()
    assert review.earlier_texts(line) == ["Call the plumbcr", "Call the plumber"]

    event = review.restore_text(line_id=line.pk, reviewer=user, text="Call the plumbcr")
    line.refresh_from_db()
    assert line.text == "Call the plumbcr" and not line.is_corrected
    assert (event.action, event.old_text, event.new_text) == (ReviewAction.RESTORE, "Call the plumber today", "Call the plumbcr")
    assert [e.action for e in line.events.order_by("created_at", "pk")] == ["correct", "correct", "restore"]
    assert [(r.note.pk, r.fuzzy) for r in search_notes(user, "plumbcr").notes] == [(queue_notes["a"].pk, False)]
    with pytest.raises(review.ReviewError, match="history"):
        review.restore_text(line_id=line.pk, reviewer=user, text="something never there")


def test_history_outlives_a_reprocess_that_replaces_the_lines(queue_notes, staff_user):
    note = queue_notes["a"]
    review.correct_line(line_id=line_of(note, 0).pk, reviewer=staff_user, text="Call the plumber")
    Line.objects.filter(note=note).delete()  # what a reprocess does before storing new lines
    event = ReviewEvent.objects.get(note=note)
    assert event.line is None and event.line_order == 0 and event.new_text == "Call the plumber"
    assert accuracy.reviewed_lines()[0].final_text == "Call the plumber"
    delete_note(note)  # deleting the note does take its history
    assert not ReviewEvent.objects.exists()


def test_counters(queue_notes, staff_user, second_reviewer):
    review.accept_line(line_id=line_of(queue_notes["b"], 0).pk, reviewer=staff_user)
    review.correct_line(line_id=line_of(queue_notes["b"], 1).pk, reviewer=second_reviewer, text="Renew passport")
    counts = review.queue_counts(staff_user)
    assert (counts.waiting, counts.done_today, counts.done_today_by_reviewer) == (2, 2, 1)


# --- accuracy ----------------------------------------------------------------------


def test_accuracy_from_reviews(user, staff_user):
    note = make_note(user, ["plumbcr", "milk", "bi11s", "garden"], confidences=[60.0, 70.0, 80.0, 95.0])
    lines = list(note.lines.order_by("order"))
    review.correct_line(line_id=lines[0].pk, reviewer=staff_user, text="plumber")  # 1 edit, flagged at 75
    review.accept_line(line_id=lines[1].pk, reviewer=staff_user)  # right, flagged at 75
    # Lines no one flagged: only their owner reviews those.
    review.correct_line(line_id=lines[2].pk, reviewer=user, text="bills")  # 2 edits, not flagged at 75
    review.accept_line(line_id=lines[3].pk, reviewer=user)  # right, not flagged

    reviewed = accuracy.reviewed_lines()
    [engine] = accuracy.engine_accuracy(reviewed)
    assert (engine.engine, engine.reviewed, engine.corrected, engine.edits) == ("rapidocr", 4, 2, 3)
    assert engine.character_error_percent == pytest.approx(100 * 3 / len("plumbermilkbillsgarden"))
    outcomes = {o.threshold: o for o in accuracy.threshold_outcomes(reviewed, [75, 90])}
    assert (outcomes[75].flagged, outcomes[75].caught_percent, outcomes[75].needless_percent) == (2, 50.0, 50.0)
    assert (outcomes[90].flagged, outcomes[90].caught_percent) == (3, 100.0)


def test_accuracy_page_shows_the_figures(client, user, reviewer):
    note = make_note(user, ["plumbcr"], confidences=[60.0])
    review.correct_line(line_id=note.lines.get().pk, reviewer=reviewer, text="plumber")
    client.force_login(reviewer)
    page = client.get(reverse("ocr_app:review_accuracy")).content.decode()
    assert "rapidocr" in page and "14.3 %" in page  # 1 edit in 7 characters
    assert '<tr class="current"><td>75% (now)' in page


# --- pages -------------------------------------------------------------------------


def test_queue_page_shows_the_crop_the_text_and_the_counters(client, user, reviewer):
    image, drawn = render_note(["Call the plumber", "Buy milk"])
    note = make_note(user, ["Call the plumbcr", "Buy milk"], confidences=[55.0, 95.0], image=encode(image),
                     boxes=[line.box for line in drawn])
    client.force_login(reviewer)
    page = client.get(reverse("ocr_app:review_queue")).content.decode()
    line = note.lines.get(order=0)
    assert 'value="Call the plumbcr"' in page
    assert reverse("ocr_app:review_crop", args=[line.pk]) in page
    assert '<strong id="count-waiting">1</strong>' in page

    crop = client.get(reverse("ocr_app:review_crop", args=[line.pk]))
    assert crop["Content-Type"] == "image/jpeg"
    with Image.open(BytesIO(crop.content)) as cut:
        # The line's box with a margin on each side, kept inside the image.
        margin = max(12, round(line.height * 0.6))
        assert cut.height == min(line.y + line.height + margin, image.height) - max(0, line.y - margin)
        assert cut.width == min(line.x + line.width + margin, image.width) - max(0, line.x - margin)


def test_queue_actions_through_the_page(client, queue_notes, user, reviewer):
    client.force_login(reviewer)
    client.get(reverse("ocr_app:review_queue"))
    first = Line.objects.get(claimed_by=reviewer)
    response = client.post(reverse("ocr_app:review_act", args=[first.pk]), {"action": "save", "text": "Dentist at 5pm"})
    assert response.status_code == 302 and response["Location"] == reverse("ocr_app:review_queue")
    assert Line.objects.get(pk=first.pk).text == "Dentist at 5pm"

    page = client.get(reverse("ocr_app:review_queue")).content.decode()
    second = Line.objects.get(claimed_by=reviewer)
    assert second.text == "Renew passpor" and 'value="Renew passpor"' in page
    client.post(reverse("ocr_app:review_act", args=[second.pk]), {"action": "skip"})
    client.get(reverse("ocr_app:review_queue"))
    third = Line.objects.get(claimed_by=reviewer)
    assert third.text == "Call the plumbcr"
    client.post(reverse("ocr_app:review_act", args=[third.pk]), {"action": "accept_note", "text": "ignored"})
    page = client.get(reverse("ocr_app:review_queue")).content.decode()
    assert Line.objects.get(pk=third.pk).text == "Call the plumbcr"
    assert "apart from the 1 line you skipped" in page
    assert client.post(reverse("ocr_app:review_act", args=[third.pk]), {"action": "explode"}).status_code == 400


def test_a_correction_typed_with_decomposed_accents_is_stored_composed_and_found(queue_notes, user, staff_user):
    line = line_of(queue_notes["a"], 0)
    review.correct_line(line_id=line.pk, reviewer=staff_user, text="Cafe\u0301 menu")
    line.refresh_from_db()
    assert line.text == "Café menu"
    # Queries are composed too: either way of writing it finds the note.
    for query in ("café", "Cafe\u0301"):
        assert [r.note.pk for r in search_notes(user, query).notes] == [queue_notes["a"].pk], query


def test_the_owner_sees_a_corrected_mark_on_the_note_page(alice_client, queue_notes, staff_user):
    note = queue_notes["a"]
    review.correct_line(line_id=line_of(note, 0).pk, reviewer=staff_user, text="Call the plumber")
    page = alice_client.get(note.get_absolute_url()).content.decode()
    assert "Call the plumber" in page and 'class="flag corrected"' in page
    assert page.count('class="flag corrected"') == 1


def test_history_page_lists_changes_and_restores(client, queue_notes, reviewer):
    line = line_of(queue_notes["a"], 0)
    review.correct_line(line_id=line.pk, reviewer=reviewer, text="Call the <b>plumber</b>")
    client.force_login(reviewer)
    url = reverse("ocr_app:review_history", args=[line.pk])
    page = client.get(url).content.decode()
    assert "Call the &lt;b&gt;plumber&lt;/b&gt;" in page and "<b>plumber</b>" not in page
    assert client.post(url, {"text": "Call the plumbcr"}).status_code == 302
    line.refresh_from_db()
    assert line.text == "Call the plumbcr"


# --- who may review ----------------------------------------------------------------


def review_urls(line_id: int):
    """Every review URL, with the methods it answers."""
    return [
        ("get", reverse("ocr_app:review_queue"), {}),
        ("get", reverse("ocr_app:review_accuracy"), {}),
        ("post", reverse("ocr_app:review_act", args=[line_id]), {"action": "accept"}),
        ("get", reverse("ocr_app:review_crop", args=[line_id]), {}),
        ("get", reverse("ocr_app:review_history", args=[line_id]), {}),
        ("post", reverse("ocr_app:review_history", args=[line_id]), {"text": "x"}),
        # A note with nothing read (the id is a line's here: a door is refused before any lookup).
        ("post", reverse("ocr_app:review_type_note", args=[line_id]), {"text": "x"}),
        ("get", reverse("ocr_app:review_note_photo", args=[line_id]), {}),
    ]


def test_every_review_url_needs_the_review_permission(queue_notes, user, staff_user, reviewer):
    """Signed out: off to sign in. Signed in without the permission, staff or not, and
    whoever's line it is: 403 from every door, before any line is looked up."""
    own_line = line_of(queue_notes["a"], 0)  # alice's own line: still not hers to review
    others_line = line_of(queue_notes["b"], 0)
    line_ids = [own_line.pk, others_line.pk, 999999]
    from ocr_app import urls

    review_names = {p.name for p in urls.urlpatterns if p.name.startswith("review_")}
    assert review_names == {
        "review_queue", "review_accuracy", "review_act", "review_crop", "review_history",
        "review_type_note", "review_note_photo",
    }

    anonymous = Client()
    ordinary = Client()
    ordinary.force_login(user)
    staff_without_permission = type(user).objects.create_user("stan", password="stan-password-1", is_staff=True)
    staff = Client()
    staff.force_login(staff_without_permission)
    for line_id in line_ids:
        for method, url, data in review_urls(line_id):
            response = getattr(anonymous, method)(url, data)
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
            assert getattr(ordinary, method)(url, data).status_code == 403, url
            assert getattr(staff, method)(url, data).status_code == 403, url
    assert not ReviewEvent.objects.exists()
    assert Line.objects.filter(reviewed_at__isnull=False).count() == 0
    assert not Line.objects.filter(claimed_by__isnull=False).exists()

    allowed = Client()
    allowed.force_login(reviewer)
    assert allowed.get(reverse("ocr_app:review_queue")).status_code == 200
    assert allowed.get(reverse("ocr_app:review_accuracy")).status_code == 200
    held = Line.objects.get(claimed_by=reviewer)
    assert allowed.get(reverse("ocr_app:review_crop", args=[held.pk])).status_code == 200
    assert allowed.get(reverse("ocr_app:review_history", args=[held.pk])).status_code == 200


def test_the_issues_probe_staff_without_the_permission_cannot_rewrite_a_confident_line(client, other_user, staff_user):
    """The issue's probe: a staff account with no permissions posted a new text for
    another user's confidently read line through the review page, and it was saved."""
    note = make_note(other_user, ["Dentist at 4pm"], confidences=[98.0])
    line = note.lines.get()
    client.force_login(staff_user)
    response = client.post(reverse("ocr_app:review_act", args=[line.pk]), {"action": "save", "text": "rewritten"})
    assert response.status_code == 403
    assert client.get(reverse("ocr_app:review_history", args=[line.pk])).status_code == 403
    assert client.get(reverse("ocr_app:review_crop", args=[line.pk])).status_code == 403
    line.refresh_from_db()
    assert (line.text, line.reviewed_at) == ("Dentist at 4pm", None)
    assert not ReviewEvent.objects.exists()
    # With the permission it is still refused: the line waits for no review.
    allow_review(staff_user)
    response = client.post(reverse("ocr_app:review_act", args=[line.pk]), {"action": "save", "text": "rewritten"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.text, line.reviewed_at) == ("Dentist at 4pm", None)
    assert not ReviewEvent.objects.exists()


def blank_image() -> bytes:
    return encode(Image.new("RGB", (1000, 320), "white"))


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def assert_out_of_reach(client, line: Line) -> None:
    """Every review door refuses ``line`` and nothing about it changes."""
    before = Line.objects.filter(pk=line.pk).values().get()
    events_before = ReviewEvent.objects.count()
    for action in ("save", "accept", "accept_note"):
        response = client.post(reverse("ocr_app:review_act", args=[line.pk]), {"action": action, "text": "rewritten"})
        assert response.status_code == 302, action
        assert any("not waiting for review" in m or "being recognised" in m for m in message_texts(response)), action
    assert client.get(reverse("ocr_app:review_crop", args=[line.pk])).status_code == 404
    assert client.get(reverse("ocr_app:review_history", args=[line.pk])).status_code == 404
    assert client.post(reverse("ocr_app:review_history", args=[line.pk]), {"text": line.ocr_text}).status_code == 404
    assert Line.objects.filter(pk=line.pk).values().get() == before
    assert ReviewEvent.objects.count() == events_before


def test_on_other_peoples_notes_a_reviewer_reaches_only_lines_waiting_for_review(client, user, other_user, reviewer, second_reviewer):
    waiting, confident = make_note(other_user, ["Renew passpor", "Dentist at 4pm"], confidences=[60.0, 98.0],
                                   image=blank_image()).lines.order_by("order")
    already_reviewed = make_note(other_user, ["Pay the bi11"], confidences=[50.0]).lines.get()
    review.accept_line(line_id=already_reviewed.pk, reviewer=second_reviewer)
    recognising = make_note(user, ["Call the plumbcr"], confidences=[40.0])
    Note.objects.filter(pk=recognising.pk).update(status="processing")
    # Even a line the reviewer holds is out of reach while its note is being recognised.
    Line.objects.filter(note=recognising).update(claimed_by=reviewer, claimed_until=timezone.now() + timedelta(minutes=5))

    client.force_login(reviewer)
    for line in (confident, already_reviewed, recognising.lines.get()):
        assert_out_of_reach(client, line)
    assert list(ReviewEvent.objects.values_list("reviewer__username", flat=True)) == ["rita"]

    # The waiting line is the reviewer's to see and to correct.
    assert client.get(reverse("ocr_app:review_crop", args=[waiting.pk])).status_code == 200
    assert client.get(reverse("ocr_app:review_history", args=[waiting.pk])).status_code == 200
    client.post(reverse("ocr_app:review_act", args=[waiting.pk]), {"action": "save", "text": "Renew passport"})
    waiting.refresh_from_db()
    assert (waiting.text, waiting.reviewed_by) == ("Renew passport", reviewer)


def test_a_line_the_reviewer_holds_stays_theirs_and_one_held_by_another_is_not(client, other_user, reviewer, second_reviewer):
    mine, theirs = make_note(other_user, ["Renew passpor", "Dentist at 4pm"], confidences=[60.0, 61.0],
                             image=blank_image()).lines.order_by("order")
    until = timezone.now() + timedelta(minutes=5)
    # Sam's held line stopped waiting meanwhile (e.g. the threshold went down): still his to finish.
    Line.objects.filter(pk=mine.pk).update(claimed_by=reviewer, claimed_until=until, needs_review=False, confidence=90.0)
    Line.objects.filter(pk=theirs.pk).update(claimed_by=second_reviewer, claimed_until=until)

    client.force_login(reviewer)
    response = client.post(reverse("ocr_app:review_act", args=[theirs.pk]), {"action": "save", "text": "Dentist at 5pm"})
    assert "Another reviewer is working on this line." in message_texts(response)
    theirs.refresh_from_db()
    assert theirs.text == "Dentist at 4pm" and theirs.reviewed_at is None

    assert client.get(reverse("ocr_app:review_crop", args=[mine.pk])).status_code == 200
    client.post(reverse("ocr_app:review_act", args=[mine.pk]), {"action": "save", "text": "Renew passport"})
    mine.refresh_from_db()
    assert (mine.text, mine.reviewed_by, mine.claimed_by) == ("Renew passport", reviewer, None)


def test_a_reviewer_may_see_and_undo_their_own_change_and_no_one_elses(client, other_user, reviewer, second_reviewer):
    line = make_note(other_user, ["Renew passpor"], confidences=[60.0], image=blank_image()).lines.get()
    client.force_login(reviewer)
    client.post(reverse("ocr_app:review_act", args=[line.pk]), {"action": "save", "text": "Renew passport"})
    history = reverse("ocr_app:review_history", args=[line.pk])
    assert "Renew passport" in client.get(history).content.decode()
    assert client.get(reverse("ocr_app:review_crop", args=[line.pk])).status_code == 200

    # Rita did not make the last change: the line is out of her reach, history included.
    rita = Client()
    rita.force_login(second_reviewer)
    assert rita.get(history).status_code == 404
    assert rita.post(history, {"text": "Renew passpor"}).status_code == 404
    assert rita.get(reverse("ocr_app:review_crop", args=[line.pk])).status_code == 404
    # Nor may Sam correct it again through the queue: only undo.
    response = client.post(reverse("ocr_app:review_act", args=[line.pk]), {"action": "save", "text": "Renew passports"})
    assert any("not waiting for review" in m for m in message_texts(response))
    line.refresh_from_db()
    assert line.text == "Renew passport"

    assert client.post(history, {"text": "Renew passpor"}).status_code == 302
    line.refresh_from_db()
    assert (line.text, line.reviewed_by) == ("Renew passpor", reviewer)
    assert list(line.events.order_by("created_at", "pk").values_list("action", "reviewer__username")) == [
        ("correct", "sam"), ("restore", "sam"),
    ]


def test_an_owner_with_the_permission_reviews_any_line_of_their_own_notes(client, user, queue_notes):
    confident = line_of(queue_notes["sure"], 0)
    client.force_login(user)
    # The permission is still what opens the review pages...
    assert client.post(reverse("ocr_app:review_act", args=[confident.pk]), {"action": "accept"}).status_code == 403
    # ...but on her own notes the waiting rule does not hold her back.
    client.force_login(allow_review(user))
    assert client.get(reverse("ocr_app:review_history", args=[confident.pk])).status_code == 200
    client.post(reverse("ocr_app:review_act", args=[confident.pk]), {"action": "save", "text": "Water the roses"})
    confident.refresh_from_db()
    assert (confident.text, confident.reviewed_by) == ("Water the roses", user)


def test_only_reviewers_see_the_review_links(alice_client, staff_user, reviewer):
    assert reverse("ocr_app:review_queue") not in alice_client.get(reverse("ocr_app:note_list")).content.decode()
    stan = Client()
    stan.force_login(type(staff_user).objects.create_user("stan", password="stan-password-1", is_staff=True))
    page = stan.get(reverse("ocr_app:note_list")).content.decode()
    assert reverse("ocr_app:review_queue") not in page and reverse("admin:index") in page
    assert 'id="review-queue-link"' not in stan.get(reverse("admin:index")).content.decode()
    sam = Client()
    sam.force_login(reviewer)
    assert reverse("ocr_app:review_queue") in sam.get(reverse("ocr_app:note_list")).content.decode()
    assert 'id="review-queue-link"' in sam.get(reverse("admin:index")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_upgrading_gives_the_review_permission_to_todays_staff(django_user_model):
    """The database as the previous version left it: no review permission, migration
    0010 not applied. ``migrate`` makes the permission and gives it to staff only."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db.migrations.recorder import MigrationRecorder

    staff = django_user_model.objects.create_user("stan", password="stan-password-1", is_staff=True)
    django_user_model.objects.create_user("olga", password="olga-password-1")
    django_user_model.objects.create_user("ivan", password="ivan-password-1", is_staff=True, is_active=False)
    Permission.objects.filter(codename="review_line").delete()
    # Later migrations (if any) are recorded again afterwards: their changes are in place.
    MigrationRecorder(connection).migration_qs.filter(app="ocr_app", name__gte="0010").delete()
    assert not django_user_model.objects.get(pk=staff.pk).has_perm(review.REVIEW_PERMISSION)

    call_command("migrate", "ocr_app", "0010_review_permission", verbosity=0)
    call_command("migrate", fake=True, verbosity=0)
    ContentType.objects.clear_cache()
    fresh = {u.username: u for u in django_user_model.objects.all()}
    assert fresh["stan"].has_perm(review.REVIEW_PERMISSION) and review.may_review(fresh["stan"])
    assert not fresh["olga"].has_perm(review.REVIEW_PERMISSION)
    assert Permission.objects.filter(codename="review_line").count() == 1
    # Every staff account gets it; a disabled one can use it only once enabled again.
    assert fresh["ivan"].user_permissions.filter(codename="review_line").exists()
    assert not review.may_review(fresh["ivan"])


# --- admin -------------------------------------------------------------------------


@pytest.fixture
def admin_client_logged_in(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(admin)
    client.admin = admin
    return client


def test_admin_line_filters_keep_the_lines_they_name(admin_client_logged_in, queue_notes, user, staff_user):
    notes = queue_notes["a"]
    review.correct_line(line_id=line_of(notes, 0).pk, reviewer=staff_user, text="Call the plumber")  # 60
    review.accept_line(line_id=line_of(notes, 2).pk, reviewer=staff_user)  # 70
    owner_edits.add_own_line(note_id=notes.pk, owner=user, text="Buy eggs")  # typed: 100

    def kept(query: str) -> list[str]:
        changelist = admin_client_logged_in.get(reverse("admin:ocr_app_line_changelist") + query)
        return sorted(line.text for line in changelist.context["cl"].queryset)

    assert kept("?confidence=0-50") == ["Dentist at 4pm"]
    assert kept("?confidence=50-75") == ["Call the plumber", "Pay the bi11", "Renew passpor"]
    assert kept("?confidence=75-90") == []
    assert kept("?confidence=90-100") == ["Buy eggs", "Buy milk", "Water the garden"]
    assert kept("?reviewed=no") == ["Buy milk", "Dentist at 4pm", "Renew passpor", "Water the garden"]
    assert kept("?reviewed=yes") == ["Buy eggs", "Call the plumber", "Pay the bi11"]
    assert kept("?reviewed=corrected") == ["Call the plumber"]
    assert kept("?reviewed=added") == ["Buy eggs"]


def test_admin_lines_filters_bulk_accept_and_edit(admin_client_logged_in, queue_notes):
    client = admin_client_logged_in
    changelist = reverse("admin:ocr_app_line_changelist")
    for query in ("", "?needs_review__exact=1", "?confidence=50-75", "?reviewed=no", "?reviewed=corrected",
                  "?note__engine_name=rapidocr", "?q=plumbcr"):
        assert client.get(changelist + query).status_code == 200, query
    page = client.get(changelist + "?confidence=0-50").content.decode()
    assert "Dentist at 4pm" in page and "Renew passpor" not in page
    assert reverse("ocr_app:review_queue") in page

    flagged = list(Line.objects.filter(needs_review=True).values_list("pk", flat=True))
    response = client.post(changelist, {"action": "accept_lines", "_selected_action": flagged[:2]})
    assert response.status_code == 302
    assert ReviewEvent.objects.filter(action="accept", reviewer=client.admin).count() == 2

    line = line_of(queue_notes["b"], 1)
    response = client.post(reverse("admin:ocr_app_line_change", args=[line.pk]), {"text": "Renew passport"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.text == "Renew passport" and line.ocr_text == "Renew passpor"
    assert ReviewEvent.objects.filter(line=line, action="correct", reviewer=client.admin).exists()

    assert reverse("ocr_app:review_queue") in client.get(reverse("admin:index")).content.decode()


def test_lines_are_not_deleted_in_the_admin(admin_client_logged_in, queue_notes):
    """Deleting is the owner's, on the note page, where it is recorded (a reprocess must
    not bring the line back); the admin would delete without a trace."""
    line = line_of(queue_notes["a"], 0)
    client = admin_client_logged_in
    assert client.post(reverse("admin:ocr_app_line_delete", args=[line.pk]), {"post": "yes"}).status_code == 403
    client.post(reverse("admin:ocr_app_line_changelist"),
                {"action": "delete_selected", "_selected_action": [line.pk], "post": "yes"})
    assert Line.objects.filter(pk=line.pk).exists()


def test_admin_review_events_are_read_only(admin_client_logged_in, queue_notes, staff_user):
    event = review.accept_line(line_id=line_of(queue_notes["a"], 0).pk, reviewer=staff_user)
    client = admin_client_logged_in
    assert client.get(reverse("admin:ocr_app_reviewevent_changelist")).status_code == 200
    assert client.get(reverse("admin:ocr_app_reviewevent_add")).status_code == 403
    client.post(reverse("admin:ocr_app_reviewevent_change", args=[event.pk]), {"new_text": "forged"})
    event.refresh_from_db()
    assert event.new_text == "Call the plumbcr"
    assert client.post(reverse("admin:ocr_app_reviewevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403


def test_admin_line_edits_that_cannot_be_saved_say_why(admin_client_logged_in, queue_notes, second_reviewer):
    client = admin_client_logged_in

    def edit(line, text):
        return client.post(reverse("admin:ocr_app_line_change", args=[line.pk]), {"text": text})

    def unchanged(line):
        fresh = Line.objects.get(pk=line.pk)
        return fresh.text == line.text and fresh.reviewed_at is None

    too_long = line_of(queue_notes["a"], 0)
    response = edit(too_long, "x" * (review.MAX_LINE_LENGTH + 1))
    assert response.status_code == 200 and "A line can hold at most 2000 characters." in response.content.decode()
    assert unchanged(too_long)

    held = review.claim_next_line(second_reviewer)
    response = edit(held, "Dentist at 5pm")
    assert response.status_code == 200 and "Another reviewer is working on this line." in response.content.decode()
    assert unchanged(held)

    recognising = line_of(queue_notes["a"], 2)
    Note.objects.filter(pk=recognising.note_id).update(status="processing")
    response = edit(recognising, "Pay the bill")
    assert response.status_code == 200 and "being recognised" in response.content.decode()
    assert unchanged(recognising)
    assert not ReviewEvent.objects.exists()

    # The admin reaches lines no one flagged too: an edit there is a correction.
    confident = line_of(queue_notes["sure"], 0)
    assert edit(confident, "Water the roses").status_code == 302
    confident.refresh_from_db()
    assert (confident.text, confident.reviewed_by) == ("Water the roses", client.admin)


def test_an_admin_edit_refused_after_the_form_checked_it_is_a_message(admin_client_logged_in, queue_notes, second_reviewer, monkeypatch):
    """A reviewer claims the line between the form's check and the save: the save,
    under the line's lock, refuses; the admin says so instead of failing."""
    from django import forms

    from ocr_app.admin.lines import LineAdminForm

    monkeypatch.setattr(LineAdminForm, "clean", forms.ModelForm.clean)  # the claim comes after the check
    held = review.claim_next_line(second_reviewer)
    url = reverse("admin:ocr_app_line_change", args=[held.pk])
    response = admin_client_logged_in.post(url, {"text": "Dentist at 5pm"})
    assert response.status_code == 302 and response["Location"] == url
    assert message_texts(response) == ["Not saved: Another reviewer is working on this line."]
    held.refresh_from_db()
    assert held.text == "Dentist at 4pm" and not ReviewEvent.objects.exists()


def test_admin_bulk_accept_needs_the_change_permission(client, queue_notes, django_user_model):
    viewer = django_user_model.objects.create_user("vera", password="vera-password-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="ocr_app", codename="view_line"))
    client.force_login(viewer)
    changelist = reverse("admin:ocr_app_line_changelist")
    flagged = list(Line.objects.filter(needs_review=True).values_list("pk", flat=True))
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "accept_lines", "_selected_action": flagged})
    assert not Line.objects.filter(reviewed_at__isnull=False).exists()
    change = reverse("admin:ocr_app_line_change", args=[flagged[0]])
    assert client.post(change, {"text": "forged"}).status_code == 403
    assert Line.objects.get(pk=flagged[0]).text != "forged"
    # The line's history is a review page: no link to it for an account that may not review.
    history = reverse("ocr_app:review_history", args=[flagged[0]])
    assert history not in client.get(change).content.decode()
    client.force_login(allow_review(viewer))
    assert history in client.get(change).content.decode()


def note_change_form(client, note) -> dict:
    """The admin's change form of ``note`` as a browser would send it back."""
    page = client.get(reverse("admin:ocr_app_note_change", args=[note.pk])).content.decode()
    data = {"original_name": note.original_name, "language": note.language, "error": note.error,
            "requested_engine": note.requested_engine, "page_number": "", "page_count": ""}
    line_ids = list(note.lines.order_by("order").values_list("pk", flat=True))
    data.update({"lines-TOTAL_FORMS": len(line_ids), "lines-INITIAL_FORMS": len(line_ids),
                 "lines-MIN_NUM_FORMS": 0, "lines-MAX_NUM_FORMS": 1000})
    for i, line_id in enumerate(line_ids):
        data.update({f"lines-{i}-id": line_id, f"lines-{i}-note": note.pk})
    assert 'name="owner"' not in page and 'name="status"' not in page
    return data


def test_admin_cannot_change_a_notes_owner_or_status(admin_client_logged_in, queue_notes, other_user):
    client = admin_client_logged_in
    note = queue_notes["a"]
    data = {**note_change_form(client, note), "original_name": "renamed.jpg", "owner": other_user.pk, "status": "queued"}
    response = client.post(reverse("admin:ocr_app_note_change", args=[note.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    note.refresh_from_db()
    assert (note.original_name, note.owner, note.status) == ("renamed.jpg", queue_notes["a"].owner, "done")
    assert set(Line.objects.filter(note=note).values_list("owner", flat=True)) == {note.owner_id}
    assert [r.note.pk for r in search_notes(note.owner, "plumbcr").notes] == [note.pk]
    assert search_notes(other_user, "plumbcr").notes == []
    # Notes come from uploads only.
    assert client.get(reverse("admin:ocr_app_note_add")).status_code == 403
