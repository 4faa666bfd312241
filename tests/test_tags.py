"""Tags: per-user labels on notes, in the pages, search, the API, export/import and the admin."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from ocr_app.models import Note, NoteTag, Tag
from ocr_app.search import search_notes
from ocr_app.search.query import parse
from ocr_app.services import tags
from ocr_app.services.export import export_notes
from ocr_app.services.import_export import ExportError, import_export_archive
from ocr_app.services.tokens import create_token
from ocr_app.tag_names import InvalidTag, parse_tag_names, tag_key
from tests.conftest import image_upload, run_worker_until_idle
from tests.factories import make_note
from tests.notegen import encode, note_bytes
from tests.test_pdf import coloured_pdf, fake_renderer  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 1, tzinfo=timezone.utc)


def names(note: Note) -> list[str]:
    return sorted((t.name for t in note.tags.all()), key=str.casefold)


def titles(results) -> list[str]:
    return [r.note.original_name for r in results.notes]


@pytest.fixture
def notes(user, other_user):
    """Alice's notes, newest last, and one of Bob's with a tag of the same name."""
    def note(owner, text, name, days):  # each with an image of its own (exports carry them)
        picture = encode(Image.new("RGB", (300 + 10 * days, 200), "white"))
        return make_note(owner, [text], name=name, uploaded_at=DAY + timedelta(days=days), image=picture)

    made = {
        "plan": note(user, "project plan for monday", "plan", 0),
        "shop": note(user, "buy milk and bread", "shop", 1),
        "call": note(user, "call the plumber monday", "call", 2),
        "bobs": note(other_user, "monday work for bob", "bobs", 3),
    }
    tags.add_tags(owner=user, note_ids=[made["plan"].pk, made["call"].pk], names=["Work"])
    tags.add_tags(owner=user, note_ids=[made["call"].pk, made["shop"].pk], names=["to do"])
    tags.add_tags(owner=other_user, note_ids=[made["bobs"].pk], names=["work"])
    return made


# --- names and services ------------------------------------------------------------


def test_names_are_case_insensitive_with_spaces_collapsed(user):
    note = make_note(user, ["x"])
    tags.add_tags(owner=user, note_ids=[note.pk], names=["To  Do", "to do", " TO DO ", "work, Work ,,"])
    assert names(note) == ["To Do", "work"]
    assert Tag.objects.filter(owner=user).count() == 2
    assert tag_key("  Ünïcode   TAG ") == "ünïcode tag"
    for bad in ["x" * 65, ""]:
        with pytest.raises(InvalidTag):
            tags.clean_tag_name(bad)
    # Control characters (which no database or page wants) count as spaces, as in a query.
    assert parse_tag_names(["a\x00b,tab\there", " , ,", "\x07"]) == ["a b", "tab here"]


def test_another_users_note_or_tag_is_missing_never_used(user, other_user, notes):
    bobs_tag = Tag.objects.get(owner=other_user)
    with pytest.raises(Note.DoesNotExist):
        tags.add_tags(owner=user, note_ids=[notes["plan"].pk, notes["bobs"].pk], names=["mine"])
    assert not Tag.objects.filter(key="mine").exists()  # all or nothing
    with pytest.raises(tags.TagNotFound):
        tags.rename_tag(owner=user, tag_id=bobs_tag.pk, new_name="stolen")
    with pytest.raises(tags.TagNotFound):
        tags.remove_tag(owner=user, note_id=notes["plan"].pk, tag_id=bobs_tag.pk)
    with pytest.raises(ValueError):
        tags.link_tags(user, [notes["plan"]], [bobs_tag])
    assert names(notes["bobs"]) == ["work"]


def test_rename_and_merge_onto_an_existing_name(user, other_user, notes):
    work = Tag.objects.get(owner=user, key="work")
    todo = Tag.objects.get(owner=user, key="to do")
    assert tags.rename_tag(owner=user, tag_id=work.pk, new_name="Job").pk == work.pk
    assert names(notes["plan"]) == ["Job"]
    kept = tags.rename_tag(owner=user, tag_id=work.pk, new_name="TO DO")  # merge: "to do" gets Job's notes
    assert kept.pk == todo.pk and kept.name == "TO DO"
    assert not Tag.objects.filter(pk=work.pk).exists()
    assert [names(notes[k]) for k in ("plan", "shop", "call")] == [["TO DO"], ["TO DO"], ["TO DO"]]
    assert names(notes["bobs"]) == ["work"]  # Bob's tag of the old name is his


def test_deleting_a_tag_keeps_its_notes(user, notes):
    tags.delete_tag(owner=user, tag_id=Tag.objects.get(owner=user, key="work").pk)
    assert Note.objects.filter(pk=notes["plan"].pk).exists() and names(notes["call"]) == ["to do"]


# --- search --------------------------------------------------------------------------


def test_parse_tag_terms():
    parsed = parse('monday tag:Work tag:"To  Do" -tag:done notag:x')
    assert parsed.tags == ("work", "to do") and parsed.excluded_tags == ("done",)
    assert [t.words for c in parsed.clauses for t in c.terms] == [("monday",), ("notag", "x")]
    assert parse("tag:a").is_empty and parse("tag:a").has_tags


def test_tag_terms_filter_words_and_tag_only_queries_list_newest_first(user, other_user, notes):
    assert titles(search_notes(user, "monday")) == ["call", "plan"]
    assert titles(search_notes(user, "monday tag:work")) == ["call", "plan"]
    assert titles(search_notes(user, 'monday tag:"TO do"')) == ["call"]
    assert titles(search_notes(user, 'monday -tag:"to do"')) == ["plan"]
    listed = search_notes(user, "tag:work")
    assert titles(listed) == ["call", "plan"] and listed.count == 2 and listed.sort == "date"
    assert titles(search_notes(user, "-tag:work")) == ["shop"]
    assert titles(search_notes(user, "tag:work tag:to do")) == []  # the tag "to", which nobody has
    assert titles(search_notes(user, 'tag:work tag:"to do"')) == ["call"]
    assert titles(search_notes(user, "tag:nothing")) == []
    assert titles(search_notes(other_user, "tag:work")) == ["bobs"]  # his own only
    assert search_notes(user, "tag:work").notes[0].note.tag_names == ["to do", "Work"]


def test_search_page_json_api_and_command_take_tags(alice_client, user, notes, capsys):
    page = alice_client.get(reverse("ocr_app:search"), {"tag": "WORK"})
    assert page.status_code == 200
    assert [r.note.original_name for r in page.context["results"].notes] == ["call", "plan"]
    assert b'id="search-tag"' in page.content and b"bob" not in page.content.lower()
    data = alice_client.get(reverse("ocr_app:search_json"), {"q": "monday", "tag": "to do"}).json()
    assert [n["name"] for n in data["notes"]] == ["call"] and data["notes"][0]["tags"] == ["to do", "Work"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, name='t')[1]}")
    found = api.get("/api/v1/search/", {"q": "-tag:work", "tag": ""}).json()
    assert [r["note"]["name"] for r in found["results"]] == ["shop"] and found["results"][0]["note"]["tags"] == ["to do"]
    assert api.get("/api/v1/search/", {"q": "monday", "tag": "work\x00"}).status_code == 200
    call_command("search", "monday", owner="alice", tag=["to do"], as_json=True)
    assert [n["name"] for n in json.loads(capsys.readouterr().out)["notes"]] == ["call"]
    call_command("search", 'tag:"to do"', owner="alice", as_json=True)
    assert [n["name"] for n in json.loads(capsys.readouterr().out)["notes"]] == ["call", "shop"]


# --- pages ---------------------------------------------------------------------------


def test_note_page_adds_and_removes_tags_with_completion_from_own_tags(alice_client, user, notes):
    plan = notes["plan"]
    page = alice_client.get(reverse("ocr_app:note_detail", args=[plan.pk]))
    assert b'<option value="to do">' in page.content and b'<datalist id="user-tags">' in page.content
    alice_client.post(reverse("ocr_app:note_tags_add", args=[plan.pk]), {"tags": "Urgent, <b>x</b>"})
    assert names(plan) == ["<b>x</b>", "Urgent", "Work"]
    page = alice_client.get(reverse("ocr_app:note_detail", args=[plan.pk]))
    assert b"&lt;b&gt;x&lt;/b&gt;" in page.content and b"<b>x</b>" not in page.content
    urgent = Tag.objects.get(owner=user, key="urgent")
    alice_client.post(reverse("ocr_app:note_tag_remove", args=[plan.pk, urgent.pk]))
    assert names(plan) == ["<b>x</b>", "Work"]
    response = alice_client.post(reverse("ocr_app:note_tags_add", args=[plan.pk]), {"tags": "y" * 65}, follow=True)
    assert "at most 64 characters" in response.content.decode() and names(plan) == ["<b>x</b>", "Work"]


def test_pages_never_reach_another_users_notes_or_tags(alice_client, other_user, notes):
    bobs_tag = Tag.objects.get(owner=other_user)
    assert alice_client.post(reverse("ocr_app:note_tags_add", args=[notes["bobs"].pk]), {"tags": "x"}).status_code == 404
    assert alice_client.post(reverse("ocr_app:note_tag_remove", args=[notes["bobs"].pk, bobs_tag.pk])).status_code == 404
    assert alice_client.post(reverse("ocr_app:tag_rename", args=[bobs_tag.pk]), {"name": "x"}).status_code == 404
    assert alice_client.post(reverse("ocr_app:tag_delete", args=[bobs_tag.pk])).status_code == 404
    bulk = reverse("ocr_app:bulk_notes")
    for action in ("tag", "delete"):
        data = {"notes": [notes["plan"].pk, notes["bobs"].pk], "action": action, "tags": "x", "confirmed": "yes"}
        assert alice_client.post(bulk, data).status_code == 404
    assert Note.objects.filter(pk=notes["plan"].pk).exists() and names(notes["bobs"]) == ["work"]
    assert not Tag.objects.filter(key="x").exists()


def test_notes_list_filters_by_tag_and_tags_or_deletes_selected(alice_client, user, notes):
    listing = alice_client.get(reverse("ocr_app:note_list"), {"tag": "wORk"})
    assert [n.original_name for n in listing.context["notes"]] == ["call", "plan"]
    assert b"bobs" not in listing.content
    bulk = reverse("ocr_app:bulk_notes")
    back = reverse("ocr_app:note_list") + "?tag=Work"
    response = alice_client.post(bulk, {"notes": [notes["plan"].pk, notes["shop"].pk], "action": "tag",
                                        "tags": "Q4, work", "next": back})
    assert response.status_code == 302 and response.url == back
    assert names(notes["plan"]) == ["Q4", "Work"] and names(notes["shop"]) == ["Q4", "to do", "Work"]
    # Deleting asks first (a page of its own: works without JavaScript), then deletes.
    ids = [notes["plan"].pk, notes["shop"].pk]
    confirm = alice_client.post(bulk, {"notes": ids, "action": "delete", "next": "javascript:alert(1)"})
    assert confirm.status_code == 200 and b'id="confirm-delete"' in confirm.content
    assert b"javascript:" not in confirm.content and Note.objects.filter(pk__in=ids).count() == 2
    alice_client.post(bulk, {"notes": ids, "action": "delete", "confirmed": "yes"})
    assert not Note.objects.filter(pk__in=ids).exists() and Note.objects.filter(pk=notes["call"].pk).exists()


def test_tags_page_renames_merges_and_deletes(alice_client, user, notes):
    page = alice_client.get(reverse("ocr_app:tags"))
    assert [t.name for t in page.context["tags"]] == ["to do", "Work"]
    work = Tag.objects.get(owner=user, key="work")
    response = alice_client.post(reverse("ocr_app:tag_rename", args=[work.pk]), {"name": "To Do"}, follow=True)
    assert "Merged Work into To Do." in response.content.decode()
    assert [names(notes[k]) for k in ("plan", "call")] == [["To Do"], ["To Do"]]
    todo = Tag.objects.get(owner=user)
    alice_client.post(reverse("ocr_app:tag_delete", args=[todo.pk]))
    assert not Tag.objects.filter(owner=user).exists() and Note.objects.filter(owner=user).count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fake_renderer")
def test_upload_page_tags_the_whole_batch_and_a_pdfs_pages_inherit(alice_client, user):
    # The real worker splits the PDF (with the tests' renderer and an engine that reads at once).
    files = [image_upload("a.jpg"), image_upload("b.jpg", note_bytes(["Another note"])), image_upload("two.pdf", coloured_pdf("white", "white"),
                                                                          "application/pdf")]
    response = alice_client.post(reverse("ocr_app:upload"), {"images": files, "tags": ["Trip, receipts"]},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    run_worker_until_idle()
    listed = Note.objects.owned_by(user).listed()
    assert listed.count() == 4  # two images and the PDF's two pages
    assert all(names(note) == ["receipts", "Trip"] for note in listed)
    assert [t.note_count for t in tags.user_tags(user)] == [4, 4]  # as listed: the split PDF is its pages
    bad = alice_client.post(reverse("ocr_app:upload"), {"images": [image_upload("c.jpg")], "tags": "x" * 70},
                            HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    assert "64 characters" in bad.json()["error"]["fields"]["tags"][0]
    assert Note.objects.owned_by(user).count() == 5  # refused before anything was stored


# --- API -----------------------------------------------------------------------------


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, name='tests')[1]}")
    return client


def test_api_notes_carry_tags_upload_takes_them_and_patch_sets_them(api, user, notes):
    listed = api.get("/api/v1/notes/").json()["results"]
    assert {n["name"]: n["tags"] for n in listed} == {"call": ["to do", "Work"], "shop": ["to do"], "plan": ["Work"]}
    uploaded = api.post("/api/v1/notes/", {"images": [image_upload()], "tags": ["a, B", "c"]}, format="multipart")
    assert uploaded.status_code == 201 and uploaded.json()["results"][0]["note"]["tags"] == ["a", "B", "c"]
    url = f"/api/v1/notes/{notes['plan'].pk}/"
    changed = api.patch(url, {"tags": ["Home", "work"]}, format="json")
    assert changed.status_code == 200 and changed.json()["tags"] == ["Home", "Work"]
    assert names(notes["plan"]) == ["Home", "Work"]
    assert api.patch(url, {"tags": ["x" * 65]}, format="json").json()["error"]["code"] == "validation_error"
    assert api.patch(url, {"tags": ["a\x00b"]}, format="json").json()["tags"] == ["a b"]  # as a query takes it
    lone_surrogate = '{"tags": ["a\\ud800b"]}'  # JSON may carry one; no database stores it
    assert api.patch(url, lone_surrogate, content_type="application/json").status_code == 400
    assert api.patch(url, {"tags": "work"}, format="json").status_code == 400
    assert api.patch(f"/api/v1/notes/{notes['bobs'].pk}/", {"tags": []}, format="json").status_code == 404
    assert api.patch(url, {"tags": []}, format="json").json()["tags"] == []
    assert names(notes["bobs"]) == ["work"]


# --- export and import ---------------------------------------------------------------


def test_tags_travel_with_export_and_import(user, other_user, notes, django_user_model):
    archive = io.BytesIO()
    export_notes(user=user, destination=archive)
    carol = django_user_model.objects.create_user("carol", "c@example.com", "carol-password-1")
    tags.add_tags(owner=carol, note_ids=[make_note(carol, ["old"]).pk], names=["WORK"])  # her own tag of that name is used
    archive.seek(0)
    assert import_export_archive(user=carol, source=archive).imported == 3
    imported = {n.original_name: names(n) for n in Note.objects.owned_by(carol).exclude(original_name="old")}
    assert imported == {"plan": ["WORK"], "shop": ["to do"], "call": ["to do", "WORK"]}
    assert Tag.objects.filter(owner=carol).count() == 2 and names(notes["bobs"]) == ["work"]


def test_an_export_with_damaged_tags_imports_nothing(user, notes, django_user_model):
    archive = io.BytesIO()
    export_notes(user=user, destination=archive)
    archive.seek(0)
    with zipfile.ZipFile(archive) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    manifest = json.loads(entries["inkdex-export.json"])
    manifest["notes"][-1]["tags"] = ["fine", 7]
    entries["inkdex-export.json"] = json.dumps(manifest).encode()
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as target:
        for name, data in entries.items():
            target.writestr(name, data)
    carol = django_user_model.objects.create_user("carol", "c@example.com", "carol-password-1")
    damaged.seek(0)
    with pytest.raises(ExportError, match="tags"):
        import_export_archive(user=carol, source=damaged)
    assert not Note.objects.filter(owner=carol).exists() and not Tag.objects.filter(owner=carol).exists()


# --- admin ---------------------------------------------------------------------------


def test_admin_renames_through_the_service_and_merges(client, django_user_model, user, notes):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(admin)
    assert client.get(reverse("admin:ocr_app_tag_changelist")).status_code == 200
    work = Tag.objects.get(owner=user, key="work")
    client.post(reverse("admin:ocr_app_tag_change", args=[work.pk]), {"name": "  TO   do "})
    assert not Tag.objects.filter(pk=work.pk).exists()
    assert names(notes["plan"]) == ["TO do"] and NoteTag.objects.filter(owner=user).count() == 3


@pytest.mark.django_db(transaction=True)
def test_an_uploads_tags_are_there_before_any_worker_is_told_of_it(user, monkeypatch):
    """Tagged in the note's own transaction: a worker splitting a PDF at once copies its tags."""
    from ocr_app.pipeline import signals
    from ocr_app.services.uploads import create_notes

    seen = {}

    def told(note_id, *args, **kwargs):
        seen[note_id] = names(Note.objects.get(pk=note_id))

    monkeypatch.setattr(signals, "schedule_split", told)
    monkeypatch.setattr(signals, "schedule_recognition", told)
    files = [image_upload("a.jpg"), image_upload("two.pdf", coloured_pdf("white"), "application/pdf")]
    outcomes = create_notes(owner=user, files=files, tags=["Trip"])
    assert len(seen) == 2 and all(tags == ["Trip"] for tags in seen.values()), seen
    assert all(o.ok for o in outcomes)
