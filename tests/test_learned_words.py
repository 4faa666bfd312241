"""The owner's learned words: which actions teach them, that they reach the engine
(through its child process) for that owner's notes only, and the settings page
where the owner sees and removes them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ocr_app.models import LearnedWord, Note, NoteStatus
from ocr_app.services import learned_words, owner_edits, review
from ocr_app.services.learned_words import words_for_engine
from ocr_app.pipeline.tasks import request_recognition
from tests.conftest import run_worker_until_idle
from tests.factories import make_note

pytestmark = pytest.mark.django_db


def learned(owner) -> dict[str, int]:
    return {w.word: w.count for w in learned_words.visible_words(owner)}


@pytest.fixture
def reviewer(django_user_model):
    from django.contrib.auth.models import Permission

    person = django_user_model.objects.create_user("rita", "rita@example.com", "rita-password-1")
    person.user_permissions.add(Permission.objects.get(content_type__app_label="ocr_app", codename="review_line"))
    return person


@pytest.fixture
def note(user):
    return make_note(user, ["Call Prlya about the Zephyr account", "Ask Okonkwa", "Buy milk 2 litres"], review=(0, 1))


def test_a_correction_teaches_its_words_and_the_engines_reading_alone_does_not(user, reviewer, note):
    assert learned(user) == {}  # recognised lines teach nothing until a person confirms them
    first = note.lines.get(order=0)
    review.correct_line(line_id=first.pk, reviewer=reviewer, text="Call Priya about the Zephyr account")
    # Words of 3+ letters; the language's most common words ("call", "the", "account") are left out.
    assert learned(user) == {"Priya": 1, "Zephyr": 1}
    assert learned(reviewer) == {}  # the note's owner learns, not the reviewer


def test_accepts_teach_including_accept_the_rest_of_the_note(user, reviewer, note):
    review.accept_rest_of_note(line_id=note.lines.get(order=0).pk, reviewer=reviewer)
    assert {"Prlya", "Zephyr", "Okonkwa"} <= set(learned(user))
    assert "milk" not in learned(user)  # a confident line nobody looked at


def test_the_admins_bulk_accept_teaches(client, django_user_model, user, note):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(admin)
    line = note.lines.get(order=1)
    response = client.post(
        reverse("admin:ocr_app_line_changelist"), {"action": "accept_lines", "_selected_action": [line.pk]}
    )
    assert response.status_code == 302
    assert learned(user) == {"Okonkwa": 1}


def test_the_owners_corrections_added_and_typed_lines_teach(user, note):
    owner_edits.correct_own_line(line_id=note.lines.get(order=1).pk, owner=user, text="Ask Okonkwo")
    owner_edits.add_own_line(note_id=note.pk, owner=user, text="Invoice for Okonkwo")
    nothing = make_note(user, [], name="pencil.jpg")
    owner_edits.type_note_text(note_id=nothing.pk, person=user, text="Okonkwo Zephyr\nPriya")
    assert learned(user) == {"Okonkwo": 3, "Invoice": 1, "Zephyr": 1, "Priya": 1}


def test_a_correction_on_a_chinese_note_teaches_without_a_word_list_for_chinese(user):
    # wordfreq cannot cut Chinese into words without jieba (not installed): the
    # word's frequency cannot be told, so it counts as uncommon, and nothing fails.
    chinese = make_note(user, ["下午开 10:30"], name="zh.jpg")
    Note.objects.filter(pk=chinese.pk).update(language="zh")
    owner_edits.correct_own_line(line_id=chinese.lines.get().pk, owner=user, text="下午开会 10:30")
    assert learned(user) == {"下午开会": 1}


def test_correcting_a_confirmed_line_takes_its_old_words_back(user, note):
    line = note.lines.get(order=1)
    owner_edits.correct_own_line(line_id=line.pk, owner=user, text="Ask Okonkow")  # a slip
    owner_edits.correct_own_line(line_id=line.pk, owner=user, text="Ask Okonkwo")
    assert learned(user) == {"Okonkwo": 1}
    # Accepting it again adds nothing.
    owner_edits.correct_own_line(line_id=line.pk, owner=user, text="Ask Okonkwo")
    assert learned(user) == {"Okonkwo": 1}


def test_a_removed_word_comes_back_only_when_the_owner_types_it(user, reviewer, other_user, note):
    owner_edits.correct_own_line(line_id=note.lines.get(order=1).pk, owner=user, text="Ask Okonkwo")
    word = LearnedWord.objects.get(owner=user, key="okonkwo")
    with pytest.raises(LearnedWord.DoesNotExist):
        learned_words.remove_word(owner=other_user, word_id=word.pk)
    learned_words.remove_word(owner=user, word_id=word.pk)
    assert "Okonkwo" not in learned(user) and "Okonkwo" not in words_for_engine(user.pk)
    # A reviewer accepting a line holding it does not bring it back...
    other = make_note(user, ["Okonkwo paid"], review=(0,))
    review.accept_line(line_id=other.lines.get().pk, reviewer=reviewer)
    assert "Okonkwo" not in learned(user)
    # ...the owner typing it does, counted afresh.
    owner_edits.add_own_line(note_id=note.pk, owner=user, text="Ask Okonkwo again")
    assert learned(user)["Okonkwo"] == 1


def test_a_removed_word_accepted_by_a_reviewer_stays_removed(user, reviewer, note):
    owner_edits.correct_own_line(line_id=note.lines.get(order=1).pk, owner=user, text="Ask Okonkwo")
    learned_words.remove_word(owner=user, word_id=LearnedWord.objects.get(owner=user, key="okonkwo").pk)
    other = make_note(user, ["Okonkwo invoiced", "Okonkwo quilted"], review=(0, 1))
    review.accept_rest_of_note(line_id=other.lines.get(order=0).pk, reviewer=reviewer)
    owner_edits.correct_own_line(line_id=other.lines.get(order=1).pk, owner=user, text="Okonkwo quilted")  # an accept by the owner
    assert learned(user) == {"invoiced": 1, "quilted": 1}


def test_the_engine_gets_the_owners_words_most_used_first_and_capped(user, other_user, settings):
    make_note(other_user, [], name="x.jpg")
    owner_edits.type_note_text(note_id=make_note(other_user, [], name="y.jpg").pk, person=other_user, text="Secretword")
    nothing = make_note(user, [], name="z.jpg")
    owner_edits.type_note_text(note_id=nothing.pk, person=user, text="Zephyr Priya\nZephyr")
    assert words_for_engine(user.pk) == ("Zephyr", "Priya")
    assert words_for_engine(other_user.pk) == ("Secretword",)
    settings.INKDEX = {**settings.INKDEX, "USER_WORDS_LIMIT": 1}
    assert words_for_engine(user.pk) == ("Zephyr",)
    settings.INKDEX = {**settings.INKDEX, "USER_WORDS_LIMIT": 0}
    assert words_for_engine(user.pk) == ()


# --- through the worker and the engine's child process ------------------------------


def _echo_engine(settings):
    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "echo-words": "tests.fake_engines.EchoUserWordsEngine"},
        "ENGINE_ISOLATION": True,
    }


def _recognised_text(note: Note) -> str:
    note.refresh_from_db()
    assert note.status == NoteStatus.DONE, note.error
    return note.lines.get().text


@pytest.mark.django_db(transaction=True)  # the worker commits, as it does for real
def test_the_worker_gives_the_isolated_engine_the_owners_words_and_nobody_elses(user, other_user, settings):
    from tests.notegen import note_bytes

    _echo_engine(settings)
    owner_edits.type_note_text(note_id=make_note(user, [], name="a.jpg").pk, person=user, text="Okonkwo Zephyr Okonkwo")
    owner_edits.type_note_text(note_id=make_note(other_user, [], name="b.jpg").pk, person=other_user, text="Secretword")
    mine = make_note(user, ["x"], image=note_bytes())
    theirs = make_note(other_user, ["x"], image=note_bytes())
    fresh = make_note(user, ["x"], image=note_bytes())
    for note in (mine, theirs):
        request_recognition(note, engine="echo-words")
    run_worker_until_idle()
    # The fake engine, in its own process, reads the words it was sent as the line.
    assert _recognised_text(mine) == "Okonkwo Zephyr"
    assert _recognised_text(theirs) == "Secretword"
    learned_words.remove_word(owner=user, word_id=LearnedWord.objects.get(owner=user, key="okonkwo").pk)
    request_recognition(fresh, engine="echo-words")
    run_worker_until_idle()
    assert _recognised_text(fresh) == "Zephyr"


# --- the settings page ---------------------------------------------------------------


def test_the_page_lists_the_owners_words_escaped_and_removes_one(alice_client, user, other_user):
    owner_edits.type_note_text(note_id=make_note(user, [], name="a.jpg").pk, person=user,
                               text="Okonkwo Zephyr\nZephyr <script>alert</script>")
    owner_edits.type_note_text(note_id=make_note(other_user, [], name="b.jpg").pk, person=other_user, text="Secretword")
    page = alice_client.get(reverse("ocr_app:learned_words")).content.decode()
    assert "Okonkwo" in page and "Zephyr" in page and "Secretword" not in page
    # Words are runs of letters, so markup never becomes one (and the page escapes them anyway).
    assert "<script>" not in page
    assert reverse("ocr_app:learned_words") in alice_client.get(reverse("ocr_app:api_tokens")).content.decode()

    word = LearnedWord.objects.get(owner=user, key="okonkwo")
    response = alice_client.post(reverse("ocr_app:learned_word_remove", args=[word.pk]), follow=True)
    page = response.content.decode()
    assert "Removed" in page and "Okonkwo" in page  # the message names it...
    assert 'id="word-%d"' % word.pk not in page  # ...and its row is gone
    assert set(words_for_engine(user.pk)) == {"Zephyr", "script", "alert"}


def test_another_users_word_is_a_404_and_stays(alice_client, other_user):
    owner_edits.type_note_text(note_id=make_note(other_user, [], name="b.jpg").pk, person=other_user, text="Secretword")
    word = LearnedWord.objects.get(owner=other_user)
    assert alice_client.post(reverse("ocr_app:learned_word_remove", args=[word.pk])).status_code == 404
    assert alice_client.get(reverse("ocr_app:learned_word_remove", args=[word.pk])).status_code == 405
    assert words_for_engine(other_user.pk) == ("Secretword",)


def test_the_page_needs_signing_in(client):
    response = client.get(reverse("ocr_app:learned_words"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_the_real_engine_reads_a_name_the_owner_taught_and_only_for_that_owner(user, other_user):
    from tests.notegen import encode, render_note

    # In this handwriting the recogniser reads "Isukimura"; Alice once typed the name.
    owner_edits.type_note_text(note_id=make_note(user, [], name="a.jpg").pk, person=user, text="Tsukimura")
    image = encode(render_note(["Send Tsukimura the contract"], font="femke")[0])
    mine, theirs = make_note(user, ["x"], image=image), make_note(other_user, ["x"], image=image)
    for note in (mine, theirs):
        request_recognition(note)
    run_worker_until_idle()
    assert _recognised_text(mine) == "Send Tsukimura the contract"
    assert _recognised_text(theirs) == "Send Isukimura the contract"
    # The first reading stays findable as another reading of the line.
    assert "Send Isukimura the contract" in mine.lines.get().alternatives


def test_upgrading_learns_from_the_lines_people_confirmed_before(user, other_user):
    """Migration 0020 starts each owner's list from their lines with ``reviewed_at`` set."""
    import importlib
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from ocr_app.models import Line

    migration = importlib.import_module("ocr_app.migrations.0021_learned_words")
    mine = make_note(user, ["Ask Okonkwo", "Zephyr for Okonkwo", "Halvorsen unread"])
    theirs = make_note(other_user, ["Secretword"])
    then = datetime(2026, 11, 20, tzinfo=timezone.utc)
    Line.objects.filter(note=mine, order__in=[0, 1]).update(reviewed_at=then)
    Line.objects.filter(note=theirs).update(reviewed_at=then)

    migration.learn_from_confirmed_lines(apps, SimpleNamespace(connection=connection))
    assert learned(user) == {"Okonkwo": 2, "Zephyr": 1}
    assert learned(other_user) == {"Secretword": 1}
    assert LearnedWord.objects.get(owner=user, key="zephyr").last_confirmed_at == then


# --- the admin -----------------------------------------------------------------------


def _staff_with(django_user_model, *codenames):
    from django.contrib.auth.models import Permission

    person = django_user_model.objects.create_user("stan", "stan@example.com", "stan-password-1", is_staff=True)
    person.user_permissions.add(*Permission.objects.filter(content_type__app_label="ocr_app", codename__in=codenames))
    return person


def test_the_admin_lists_everyones_words_by_owner_and_finds_them(client, django_user_model, user, other_user):
    owner_edits.type_note_text(note_id=make_note(user, [], name="a.jpg").pk, person=user, text="Okonkwo Zephyr Zephyr")
    owner_edits.type_note_text(note_id=make_note(other_user, [], name="b.jpg").pk, person=other_user, text="Secretword Halvorsen")
    learned_words.remove_word(owner=other_user, word_id=LearnedWord.objects.get(key="halvorsen").pk)
    client.force_login(_staff_with(django_user_model, "view_learnedword"))
    changelist = reverse("admin:ocr_app_learnedword_changelist")
    page = client.get(changelist).content.decode()
    # By owner (alice before bob), most used first within each.
    assert [page.index(word) for word in ("Zephyr", "Okonkwo", "Secretword")] == sorted(
        page.index(word) for word in ("Zephyr", "Okonkwo", "Secretword"))
    assert "Halvorsen" in page
    found = client.get(changelist, {"q": "okonk"}).content.decode()
    assert "Okonkwo" in found and "Zephyr" not in found
    by_owner = client.get(changelist, {"q": "bob"}).content.decode()
    assert "Secretword" in by_owner and "Okonkwo" not in by_owner
    removed = client.get(changelist, {"state": "removed"}).content.decode()
    assert "Halvorsen" in removed and "Secretword" not in removed
    # Viewing is not removing: no action offered, and one posted anyway changes nothing.
    assert "remove_learned_words" not in page
    word = LearnedWord.objects.get(key="okonkwo")
    client.post(changelist, {"action": "remove_learned_words", "_selected_action": [word.pk]})
    assert "Okonkwo" in words_for_engine(user.pk)


def test_removing_words_in_the_admin_is_the_owners_remove(client, django_user_model, user, reviewer, note):
    owner_edits.correct_own_line(line_id=note.lines.get(order=1).pk, owner=user, text="Ask Okonkwo")
    owner_edits.correct_own_line(line_id=note.lines.get(order=0).pk, owner=user, text="Call Priya about the Zephyr account")
    client.force_login(_staff_with(django_user_model, "view_learnedword", "delete_learnedword"))
    changelist = reverse("admin:ocr_app_learnedword_changelist")
    assert "remove_learned_words" in client.get(changelist).content.decode()
    words = LearnedWord.objects.filter(owner=user, key__in=["okonkwo", "priya"])
    response = client.post(
        changelist, {"action": "remove_learned_words", "_selected_action": [w.pk for w in words]}, follow=True
    )
    assert "Removed 2 word(s)" in response.content.decode()
    assert words_for_engine(user.pk) == ("Zephyr",)
    assert LearnedWord.objects.filter(owner=user).count() == 3  # kept, marked removed
    # As removed by the owner: a reviewer's accept does not bring it back, the owner's typing does.
    other = make_note(user, ["Okonkwo paid"], review=(0,))
    review.accept_line(line_id=other.lines.get().pk, reviewer=reviewer)
    assert "Okonkwo" not in learned(user)
    owner_edits.add_own_line(note_id=note.pk, owner=user, text="Ask Okonkwo again")
    assert learned(user)["Okonkwo"] == 1
    # Nor is a row deleted here (it would be learned again from the next accept).
    assert "delete_selected" not in client.get(changelist).content.decode()


def test_the_learned_words_admin_refuses_who_is_not_staff(client, django_user_model, user):
    owner_edits.type_note_text(note_id=make_note(user, [], name="a.jpg").pk, person=user, text="Okonkwo")
    changelist = reverse("admin:ocr_app_learnedword_changelist")
    client.force_login(user)  # even with every permission on words, not staff
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__endswith="_learnedword"))
    response = client.get(changelist)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    word = LearnedWord.objects.get(owner=user)
    client.post(changelist, {"action": "remove_learned_words", "_selected_action": [word.pk]})
    assert words_for_engine(user.pk) == ("Okonkwo",)
    # Staff without the permission: refused too.
    client.force_login(_staff_with(django_user_model))
    assert client.get(changelist).status_code == 403
