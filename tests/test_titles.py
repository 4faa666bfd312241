"""Notes' titles: chosen from what was read (or the file name), renamed by the owner,
kept through reprocessing, searched and ranked, in the pages, the API, the export
and the admin."""

from __future__ import annotations

import importlib
import io
import json
import zipfile
from datetime import datetime, timezone

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from ocr_app.models import TITLE_MAX_LENGTH, Note
from ocr_app.search import search_notes
from ocr_app.search.index import index_drift, install_search_index, rebuild_search_index
from ocr_app.services.export import export_notes
from ocr_app.services.import_export import import_export_archive
from ocr_app.services.notes import process_again
from ocr_app.services.titles import InvalidTitle, rename_note
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload, run_worker_until_idle
from tests.factories import make_note


def found(user, query):
    return [result.note.pk for result in search_notes(user, query).notes]


# --- chosen automatically, kept when the owner gives one ----------------------------------------


@pytest.fixture
def title_engine(settings):
    from ocr_app.pipeline.engine_selection import get_engine

    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "title-lines": "tests.fake_engines.TitleLinesEngine"},
        "OCR_ENGINE": "title-lines",
    }
    yield
    get_engine("title-lines", isolated=True).stop()


def set_threshold(settings, value: float) -> None:
    settings.INKDEX = {**settings.INKDEX, "REVIEW_THRESHOLD": value}


def recognise_again(note: Note) -> Note:
    process_again(note)
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "done"
    return note


@pytest.mark.django_db(transaction=True)
def test_title_follows_recognition_until_the_owner_names_the_note(user, settings, title_engine):
    note = create_note(owner=user, uploaded_file=image_upload("IMG_2041.jpg"))
    assert Note.objects.get(pk=note.pk).title == "IMG_2041.jpg"  # a title from the start

    run_worker_until_idle()  # lines at 40, 80 and 97 %; threshold 75
    note.refresh_from_db()
    assert (note.title, note.title_set_by_owner) == ("Shopping list", False)

    set_threshold(settings, 90)
    assert recognise_again(note).title == "milk and eggs"
    set_threshold(settings, 99)
    assert recognise_again(note).title == "IMG_2041.jpg"  # nothing read confidently enough

    note = rename_note(note=note, text="  Groceries\n\tfor   Sunday ")
    assert (note.title, note.title_set_by_owner) == ("Groceries for Sunday", True)
    set_threshold(settings, 30)  # a threshold change and a reprocess keep the owner's title
    note = recognise_again(note)
    assert (note.title, note.title_set_by_owner) == ("Groceries for Sunday", True)
    assert found(user, "sunday") == [note.pk]

    note = rename_note(note=note, text="   ")  # nothing: chosen automatically again, from the lines there are
    assert (note.title, note.title_set_by_owner) == ("scribble", False)
    assert found(user, "sunday") == []


@pytest.mark.django_db
def test_a_title_is_one_line_of_limited_length(user):
    note = make_note(user, ["Call the plumber"], name="todo.jpg")
    assert rename_note(note=note, text="a\r\nb\x00c\x1ed").title == "a b c d"
    assert rename_note(note=note, text="Cafe\u0301 plans").title == "Café plans"  # composed, as searched
    rename_note(note=note, text="a b c d")
    with pytest.raises(InvalidTitle) as refused:
        rename_note(note=note, text="x" * (TITLE_MAX_LENGTH + 1))
    assert str(refused.value) == "A title can be at most 200 characters long; this one has 201."
    assert Note.objects.get(pk=note.pk).title == "a b c d"  # unchanged
    # The limit counts what was sent, as the API's schema says (maxLength) and the
    # page's field allows: 200 characters that become fewer are fine, 201 never.
    assert rename_note(note=note, text=" " + "y" * (TITLE_MAX_LENGTH - 1)).title == "y" * (TITLE_MAX_LENGTH - 1)
    with pytest.raises(InvalidTitle, match="this one has 201"):
        rename_note(note=note, text=" " + "y" * TITLE_MAX_LENGTH)


# --- search ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_title_words_are_searchable_and_a_title_match_ranks_first(user, other_user):
    older = make_note(user, ["meeting notes", "budget review"], name="a.jpg",
                      uploaded_at=datetime(2026, 10, 1, tzinfo=timezone.utc))
    newer = make_note(user, ["meeting notes", "budget review"], name="b.jpg",
                      uploaded_at=datetime(2026, 10, 2, tzinfo=timezone.utc))
    make_note(other_user, ["budget"], name="budget.jpg")
    # Identical lines: the newer note comes first.
    assert found(user, "budget") == [newer.pk, older.pk]
    assert found(user, "budget review") == [newer.pk, older.pk]

    rename_note(note=older, text="Budget 2027")
    assert found(user, "budget") == [older.pk, newer.pk]  # the same lines; the older has it in its title
    assert found(user, "budget review") == [older.pk, newer.pk]
    assert found(user, "2027") == [older.pk]  # a word only the title holds
    assert found(user, "2027 meeting") == [older.pk]
    assert found(user, "budget -2027") == [newer.pk]  # an excluded word counts in the title
    assert found(user, '"budget 2027"') == [older.pk]
    # A phrase never runs from the title into the first line.
    assert found(user, '"2027 meeting"') == []
    assert found(user, "2027*") == [older.pk]

    [result] = search_notes(user, "2027").notes
    assert result.title_highlights == ((7, 11),) and result.lines == [] and result.match_count == 0
    assert index_drift() is None
    rebuild_search_index()
    assert found(user, "2027") == [older.pk]


@pytest.mark.django_db(transaction=True)  # PostgreSQL alters no table with trigger events pending
def test_search_documents_of_an_earlier_version_are_made_again_with_titles(user):
    """An install whose search documents have no title column (before migration 0018)."""
    note = make_note(user, ["COSTCO LIST", "3 BANANAS"], name="IMG_1.jpg")
    Note.objects.filter(pk=note.pk).update(title="Saturday errands")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            from ocr_app.search.backends import sqlite

            cursor.execute(f"DROP TABLE {sqlite.FTS_TABLE}")
            cursor.execute("DROP TABLE ocr_app_note_text")
            cursor.execute("CREATE TABLE ocr_app_note_text (note_id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, "
                           "text TEXT NOT NULL, alternatives TEXT NOT NULL, line_ids TEXT NOT NULL)")
            cursor.execute(f"CREATE VIRTUAL TABLE {sqlite.FTS_TABLE} USING fts5(text, alternatives, owner_id, "
                           "content='ocr_app_note_text', content_rowid='note_id')")
        else:
            cursor.execute("ALTER TABLE ocr_app_note_text DROP COLUMN search_vector, DROP COLUMN title")
    install_search_index()
    assert found(user, "errands") == [note.pk] and found(user, "bananas") == [note.pk]
    assert index_drift() is None


@pytest.mark.django_db
def test_the_upgrade_gives_existing_notes_titles(user, settings):
    """Migration 0018's data step: the first line at or above the threshold, else the file name."""
    confident = make_note(user, ["", "scribble", "Team meeting", "agenda"], name="IMG_7.jpg",
                          confidences=[99, 50, 90, 95])
    unsure = make_note(user, ["smudge"], name="IMG_8.jpg", confidences=[40])
    page = make_note(user, ["x"], name="scan.pdf", confidences=[10])
    Note.objects.filter(pk=page.pk).update(page_number=2, page_count=3)
    Note.objects.update(title="")
    migration = importlib.import_module("ocr_app.migrations.0018_note_titles")
    migration.give_notes_titles(apps, type("Editor", (), {"connection": connection})())
    titles = dict(Note.objects.values_list("pk", "title"))
    assert titles == {confident.pk: "Team meeting", unsure.pk: "IMG_8.jpg", page.pk: "scan.pdf (page 2 of 3)"}
    assert found(user, "meeting") == [confident.pk]


# --- pages ----------------------------------------------------------------------------------------


HOSTILE = '<img src=x onerror=alert("t")>'


@pytest.mark.django_db
def test_pages_show_and_rename_titles(alice_client, user, other_user):
    note = make_note(user, ["Call the plumber"], name="todo.jpg")
    url = reverse("ocr_app:note_rename", args=[note.pk])

    response = alice_client.post(url, {"title": f"Plumber {HOSTILE}"})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.title == f"Plumber {HOSTILE}" and note.title_set_by_owner
    page = alice_client.get(note.get_absolute_url()).content.decode()
    escaped = "Plumber &lt;img src=x onerror=alert(&quot;t&quot;)&gt;"
    assert f'<h1 class="note-title" id="note-title">{escaped}</h1>' in page and HOSTILE not in page
    listing = alice_client.get(reverse("ocr_app:note_list")).content.decode()
    assert f'<span class="name" id="note-name-{note.pk}">{escaped}</span>' in listing and HOSTILE not in listing
    results = alice_client.get(reverse("ocr_app:search"), {"q": "onerror"}).content.decode()
    assert "&lt;img src=x <mark>onerror</mark>=alert(&quot;t&quot;)&gt;" in results and HOSTILE not in results
    data = alice_client.get(reverse("ocr_app:search_json"), {"q": "plumber"}).json()
    assert [(n["title"], n["name"]) for n in data["notes"]] == [(f"Plumber {HOSTILE}", "todo.jpg")]
    status = alice_client.get(reverse("ocr_app:note_status", args=[note.pk])).json()
    assert (status["title"], status["name"]) == (f"Plumber {HOSTILE}", "todo.jpg")

    # The page's script asks for JSON; a refusal says why and changes nothing.
    response = alice_client.post(url, {"title": "x" * 201}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    message = "A title can be at most 200 characters long; this one has 201."
    assert response.json() == {"error": {"code": "validation_error", "message": f"title: {message}", "fields": {"title": [message]}}}
    renamed = alice_client.post(url, {"title": ""}, headers={"Accept": "application/json"}).json()
    assert (renamed["title"], renamed["title_set_by_owner"]) == ("Call the plumber", False)
    # The note as the API gives it.
    assert renamed == alice_client.get("/api/v1/notes/").json()["results"][0]

    theirs = make_note(other_user, ["secret"], name="theirs.jpg")
    response = alice_client.post(reverse("ocr_app:note_rename", args=[theirs.pk]), {"title": "mine now"})
    assert response.status_code == 404 and Note.objects.get(pk=theirs.pk).title == "secret"


@pytest.mark.django_db
def test_search_command_prints_the_title_and_file_name(user):
    note = make_note(user, ["Call the plumber"], name="todo.jpg")
    rename_note(note=note, text="House")
    out = io.StringIO()
    call_command("search", "house plumber", "--owner", "alice", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines()[0] == f"#{note.pk} House (todo.jpg)"


@pytest.mark.django_db
def test_admin_lists_titles_read_only(client, user, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(admin)
    note = make_note(user, ["Call the plumber"], name="todo.jpg")
    rename_note(note=note, text="House jobs")
    listing = client.get(reverse("admin:ocr_app_note_changelist"), {"q": "house"}).content.decode()
    assert "House jobs" in listing and "todo.jpg" in listing
    change = client.get(reverse("admin:ocr_app_note_change", args=[note.pk])).content.decode()
    assert "House jobs" in change and 'name="title"' not in change


# --- the API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_shows_and_renames_titles(alice_client, user, other_user):
    note = make_note(user, ["Call the plumber"], name="todo.jpg")
    url = f"/api/v1/notes/{note.pk}/"
    body = alice_client.get(url).json()
    assert (body["title"], body["title_set_by_owner"], body["name"]) == ("Call the plumber", False, "todo.jpg")

    renamed = alice_client.patch(url, {"title": " House\njobs "}, content_type="application/json")
    assert renamed.status_code == 200
    assert (renamed.json()["title"], renamed.json()["title_set_by_owner"]) == ("House jobs", True)
    assert alice_client.get("/api/v1/notes/").json()["results"][0]["title"] == "House jobs"
    [hit] = alice_client.get("/api/v1/search/", {"q": "house"}).json()["results"]
    assert hit["note"]["title"] == "House jobs"

    # Refused as the page refuses it, with the same message.
    refused = alice_client.patch(url, {"title": "x" * 201}, content_type="application/json")
    message = "A title can be at most 200 characters long; this one has 201."
    assert refused.status_code == 400
    assert refused.json() == {"error": {"code": "validation_error", "message": f"title: {message}", "fields": {"title": [message]}}}
    unchanged = alice_client.patch(url, {}, content_type="application/json")
    assert unchanged.status_code == 200 and unchanged.json()["title"] == "House jobs"
    assert alice_client.patch(url, [], content_type="application/json").status_code == 400
    assert alice_client.patch(url, {"title": 5}, content_type="application/json").status_code == 400
    reset = alice_client.patch(url, {"title": ""}, content_type="application/json").json()
    assert (reset["title"], reset["title_set_by_owner"]) == ("Call the plumber", False)

    theirs = make_note(other_user, ["secret"], name="theirs.jpg")
    response = alice_client.patch(f"/api/v1/notes/{theirs.pk}/", {"title": "x"}, content_type="application/json")
    assert response.status_code == 404 and Note.objects.get(pk=theirs.pk).title == "secret"


# --- export and import ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_titles_survive_export_and_import(user, other_user, tmp_path):
    named = make_note(user, ["Call the plumber"], name="todo.jpg", image=_jpeg((200, 10, 10)))
    rename_note(note=named, text="House jobs")
    automatic = make_note(user, ["Team meeting", "agenda"], name="IMG_3.jpg", image=_jpeg((10, 200, 10)))
    Note.objects.filter(pk=automatic.pk).update(title="Team meeting")
    archive = tmp_path / "alice.zip"
    export_notes(user=user, destination=archive)

    report = import_export_archive(user=other_user, source=archive)
    assert report.imported == 2
    titles = set(Note.objects.owned_by(other_user).values_list("title", "title_set_by_owner"))
    assert titles == {("House jobs", True), ("Team meeting", False)}
    assert [r.note.title for r in search_notes(other_user, "house").notes] == ["House jobs"]

    # An export from before titles: the automatic title from its lines.
    with zipfile.ZipFile(archive) as source:
        manifest = json.loads(source.read("inkdex-export.json"))
        files = {name: source.read(name) for name in source.namelist()}
    for record in manifest["notes"]:
        del record["title"], record["title_set_by_owner"]
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(old, "w") as target:
        for name, data in files.items():
            target.writestr(name, json.dumps(manifest) if name == "inkdex-export.json" else data)
    Note.objects.owned_by(other_user).delete()
    import_export_archive(user=other_user, source=old)
    titles = set(Note.objects.owned_by(other_user).values_list("title", "title_set_by_owner"))
    assert titles == {("Call the plumber", False), ("Team meeting", False)}


def _jpeg(colour) -> bytes:
    from PIL import Image

    from tests.notegen import encode

    return encode(Image.new("RGB", (64, 64), colour), "JPEG")



@pytest.mark.django_db(transaction=True)
def test_an_automatic_title_follows_what_people_fix_but_never_the_owners_title(user, staff_user):
    from django.contrib.auth.models import Permission

    from ocr_app.services import owner_edits, review

    note = make_note(user, ["Plumbcr on Monday", "Buy milk"], confidences=[97.0, 40.0])
    assert Note.objects.get(pk=note.pk).title == "Plumbcr on Monday"
    first, second = note.lines.order_by("order")
    owner_edits.correct_own_line(line_id=first.pk, owner=user, text="Plumber on Monday")
    assert Note.objects.get(pk=note.pk).title == "Plumber on Monday"
    # A line a person confirmed counts as sure: deleting the first, the reviewed second is the title.
    staff_user.user_permissions.add(Permission.objects.get(codename="review_line"))
    review.accept_line(line_id=second.pk, reviewer=staff_user)
    owner_edits.delete_own_line(line_id=first.pk, owner=user)
    assert Note.objects.get(pk=note.pk).title == "Buy milk"
    owner_edits.add_own_line(note_id=note.pk, owner=user, text="Groceries", box=None)
    assert Note.objects.get(pk=note.pk).title == "Buy milk"  # added last: the first sure line stays
    rename_note(note=Note.objects.get(pk=note.pk), text="Errands")
    owner_edits.correct_own_line(line_id=second.pk, owner=user, text="Buy oat milk")
    assert Note.objects.get(pk=note.pk).title == "Errands"
