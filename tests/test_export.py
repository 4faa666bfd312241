"""Export a user's notes (web and command) and import them into another Inkdex: a round trip."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from PIL import Image

from ocr_app.models import Line, Note, ReviewEvent
from ocr_app.search import search_notes
from ocr_app.services import review
from ocr_app.services.export import export_notes
from tests.factories import make_note
from tests.notegen import encode

pytestmark = pytest.mark.django_db


def content(user):
    """What a round trip must keep, without ids."""
    notes = []
    for note in Note.objects.owned_by(user).order_by("uploaded_at", "original_name"):
        with note.image.open("rb") as handle:
            image = handle.read()
        notes.append((
            note.original_name, note.sha256, image, note.language, note.status, note.engine_name,
            [(l.order, l.text, l.ocr_text, l.confidence, l.x, l.y, l.width, l.height, l.needs_review,
              l.alternatives, l.reviewed_by_id) for l in note.lines.order_by("order")],
            [(e.line_order, e.action, e.old_text, e.new_text, e.reviewer_id)
             for e in note.review_events.order_by("created_at", "pk")],
        ))
    return notes


@pytest.fixture
def alices_notes(user, staff_user):
    picture = encode(Image.new("RGB", (500, 300), (250, 248, 240)))
    first = make_note(user, ["Call the plumbcr", "Buy milk"], confidences=[50.0, 95.0], image=picture,
                      alternatives={0: ["Call the plumber"]}, name="todo.jpg")
    make_note(user, ["Dentist at 4pm"], image=encode(Image.new("RGB", (400, 200), "white")), name="<b>dentist</b>.jpg")
    review.correct_line(first.lines.get(order=0).pk, staff_user, "Call the plumber")
    return user


def test_export_then_import_elsewhere_round_trips_everything(alices_notes, user, django_user_model, tmp_path):
    before = content(user)
    archive = tmp_path / "alice.zip"
    call_command("export_notes", str(archive), "--owner", "alice", stdout=io.StringIO())
    with zipfile.ZipFile(archive) as zipped:
        manifest = json.loads(zipped.read("inkdex-export.json"))
        assert [n["original_name"] for n in manifest["notes"]] == ["todo.jpg", "<b>dentist</b>.jpg"]
        assert zipped.read(manifest["notes"][0]["text"]).decode() == "Call the plumber\nBuy milk\n"

    # "Another Inkdex": everything of Alice's gone, then her export imported.
    Note.objects.all().delete()
    out = io.StringIO()
    call_command("import_export", str(archive), "--owner", "alice", stdout=out)
    assert "Imported 2 note(s) for alice; 0 already there." in out.getvalue()
    assert content(user) == before
    assert [r.note.original_name for r in search_notes(user, "plumber").notes] == ["todo.jpg"]
    # Importing again adds nothing.
    call_command("import_export", str(archive), "--owner", "alice", stdout=out)
    assert Note.objects.count() == 2 and ReviewEvent.objects.count() == 1


def test_the_web_export_is_the_users_own_notes_only(alices_notes, alice_client, other_user):
    make_note(other_user, ["Bob's secret"], name="bob.jpg")
    page = alice_client.get(reverse("ocr_app:note_list")).content.decode()
    assert reverse("ocr_app:export") in page
    response = alice_client.get(reverse("ocr_app:export"))
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="inkdex-alice-')
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zipped:
        manifest = json.loads(zipped.read("inkdex-export.json"))
    assert manifest["owner"] == "alice"
    assert sorted(n["original_name"] for n in manifest["notes"]) == ["<b>dentist</b>.jpg", "todo.jpg"]


def test_import_refuses_what_is_not_an_export(user, tmp_path):
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("hello")
    with pytest.raises(CommandError, match="not a zip file"):
        call_command("import_export", str(not_zip), "--owner", "alice")
    other_zip = tmp_path / "y.zip"
    with zipfile.ZipFile(other_zip, "w") as zipped:
        zipped.writestr("readme.txt", "hi")
    with pytest.raises(CommandError, match="no readable inkdex-export.json"):
        call_command("import_export", str(other_zip), "--owner", "alice")
    broken = tmp_path / "z.zip"
    buffer = io.BytesIO()
    export_notes(user, buffer)  # no notes: an empty but valid export
    with zipfile.ZipFile(broken, "w") as zipped:
        zipped.writestr("inkdex-export.json", json.dumps({
            "format": "inkdex-export-1", "notes": [{"original_name": "a.jpg", "image": "images/1.jpg", "sha256": "1",
                                                    "lines": [], "review_events": {}}]}))
    with pytest.raises(CommandError, match="lacks the image images/1.jpg"):
        call_command("import_export", str(broken), "--owner", "alice")
    assert not Line.objects.exists() and not Note.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_pdfs_and_their_pages_survive_export_and_import(user, settings, tmp_path):
    from ocr_app.engines import get_engine
    from ocr_app.models import NoteStatus
    from ocr_app.services.uploads import create_pdf_note
    from tests.conftest import image_upload, run_worker_until_idle
    from tests.test_pdf import coloured_pdf, pages_of

    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "fixed": "tests.fake_engines.FixedReadingEngine"},
        "OCR_ENGINE": "fixed",
    }
    split = create_pdf_note(owner=user, uploaded_file=image_upload("split.pdf", coloured_pdf("white", "lightgray")))
    run_worker_until_idle()
    # Another exported half-way: page 1 of 2 made, the PDF still splitting.
    half = create_pdf_note(owner=user, uploaded_file=image_upload("half.pdf", coloured_pdf("yellow", "green")))
    run_worker_until_idle()
    Note.objects.filter(source=half, page_number=2).delete()
    Note.objects.filter(pk=half.pk).update(status=NoteStatus.SPLITTING)
    before = content(user)
    archive = tmp_path / "alice.zip"
    call_command("export_notes", str(archive), "--owner", "alice", stdout=io.StringIO())

    Note.objects.all().delete()
    out = io.StringIO()
    call_command("import_export", str(archive), "--owner", "alice", stdout=out)
    assert "Imported 5 note(s) for alice; 0 already there." in out.getvalue()
    assert sorted(content(user)) == sorted(before)  # the PDFs as uploaded, with their own hashes
    split, half = (Note.objects.get(original_name=name, page_number=None) for name in ("split.pdf", "half.pdf"))
    assert split.status == NoteStatus.SPLIT and pages_of(split) == [(1, 2, "split.pdf"), (2, 2, "split.pdf")]
    assert half.status == NoteStatus.SPLITTING and pages_of(half) == [(1, 2, "half.pdf")]
    imported_page = half.pages.get()

    run_worker_until_idle()  # the half-split PDF is finished: its missing page only
    get_engine("fixed", isolated=True).stop()
    half.refresh_from_db()
    assert half.status == NoteStatus.SPLIT and pages_of(half) == [(1, 2, "half.pdf"), (2, 2, "half.pdf")]
    assert half.pages.get(page_number=1).pk == imported_page.pk
