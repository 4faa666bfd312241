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
            note.warnings, note.unread_ink,
            [(l.order, l.text, l.ocr_text, l.confidence, l.x, l.y, l.width, l.height, l.needs_review,
              l.alternatives) for l in note.lines.order_by("order")],
            [(e.line_order, e.action, e.old_text, e.new_text)
             for e in note.review_events.order_by("created_at", "pk")],
        ))
    return notes


@pytest.fixture
def alices_notes(user, staff_user):
    picture = encode(Image.new("RGB", (500, 300), (250, 248, 240)))
    first = make_note(user, ["Call the plumbcr", "Buy milk"], confidences=[50.0, 95.0], image=picture,
                      alternatives={0: ["Call the plumber"]}, name="todo.jpg")
    make_note(user, ["Dentist at 4pm"], image=encode(Image.new("RGB", (400, 200), "white")), name="<b>dentist</b>.jpg")
    review.correct_line(line_id=first.lines.get(order=0).pk, reviewer=staff_user, text="Call the plumber")
    review.accept_line(line_id=first.lines.get(order=1).pk, reviewer=user)  # her own review of her own note
    Note.objects.filter(pk=first.pk).update(warnings=["Trial mode: part of the text only."], unread_ink=0.25)
    return user


def with_manifest(archive, manifest: dict, path):
    """A copy of ``archive`` at ``path`` with ``manifest`` as its description."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            if item.filename != "inkdex-export.json":
                target.writestr(item, source.read(item))
        target.writestr("inkdex-export.json", json.dumps(manifest))
    return path


def reviewers(user) -> list[tuple[str, int | None]]:
    """Who did each review action on ``user``'s notes, and who is the line's reviewer."""
    events = ReviewEvent.objects.filter(note__owner=user).order_by("created_at", "pk")
    lines = Line.objects.filter(owner=user, reviewed_at__isnull=False).order_by("note__uploaded_at", "order")
    return [(e.new_text, e.reviewer_id) for e in events] + [(l.text, l.reviewed_by_id) for l in lines]


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
    # Her own review is hers again; the staff member's name is not taken for an account here.
    assert reviewers(user) == [("Call the plumber", None), ("Buy milk", user.pk), ("Call the plumber", None),
                               ("Buy milk", user.pk)]
    assert [r.note.original_name for r in search_notes(user, "plumber").notes] == ["todo.jpg"]
    # Importing again adds nothing.
    call_command("import_export", str(archive), "--owner", "alice", stdout=out)
    assert Note.objects.count() == 2 and ReviewEvent.objects.count() == 2


def test_reviewer_names_in_a_file_never_become_other_local_accounts(alices_notes, user, other_user, staff_user,
                                                                     tmp_path):
    archive = tmp_path / "alice.zip"
    export_notes(user=user, destination=archive)
    # Bob imports Alice's export: her actions become his, the staff member's nobody's.
    call_command("import_export", str(archive), "--owner", "bob", stdout=io.StringIO())
    assert reviewers(other_user) == [("Call the plumber", None), ("Buy milk", other_user.pk),
                                     ("Call the plumber", None), ("Buy milk", other_user.pk)]
    # A made-up file naming a local staff member as the reviewer of everything.
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(forged, "w") as target:
        manifest = json.loads(source.read("inkdex-export.json"))
        for record in manifest["notes"]:
            for line in record["lines"]:
                line["reviewed_by"] = "sam"
            for events in record["review_events"].values():
                for event in events:
                    event["reviewer"] = "sam"
        for item in source.infolist():
            if item.filename != "inkdex-export.json":
                target.writestr(item, source.read(item))
        target.writestr("inkdex-export.json", json.dumps(manifest))
    Note.objects.filter(owner=other_user).delete()
    call_command("import_export", str(forged), "--owner", "bob", stdout=io.StringIO())
    assert Note.objects.filter(owner=other_user).count() == 2
    assert not ReviewEvent.objects.filter(note__owner=other_user, reviewer=staff_user).exists()
    assert not Line.objects.filter(owner=other_user, reviewed_by=staff_user).exists()


def test_an_entry_over_the_size_limit_is_refused_unread_and_nothing_is_imported(alices_notes, user, tmp_path,
                                                                                settings, monkeypatch):
    exported = tmp_path / "alice.zip"
    export_notes(user=user, destination=exported)
    # The same export with its second image made larger than the limit (a JPEG with padding).
    limit = 1024 * 1024
    archive = tmp_path / "large.zip"
    with zipfile.ZipFile(exported) as source, zipfile.ZipFile(archive, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "images/2.jpg":
                data += b"\0" * (limit + 1 - len(data))
            target.writestr(item, data)
    settings.INKDEX = {**settings.INKDEX, "MAX_UPLOAD_BYTES": limit}
    opened = []
    real_open = zipfile.ZipFile.open

    def recording_open(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    Note.objects.all().delete()
    with pytest.raises(CommandError, match="The image images/2.jpg is larger than the 1 MB limit"):
        call_command("import_export", str(archive), "--owner", "alice")
    assert "images/1.jpg" in opened and "images/2.jpg" not in opened  # refused on its header, unread
    # The first note, fine by itself, was not imported either.
    assert not Note.objects.exists() and not Line.objects.exists() and not ReviewEvent.objects.exists()


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
    export_notes(user=user, destination=buffer)  # no notes: an empty but valid export
    with zipfile.ZipFile(broken, "w") as zipped:
        zipped.writestr("inkdex-export.json", json.dumps({
            "format": "inkdex-export-1", "notes": [{"original_name": "a.jpg", "image": "images/1.jpg", "sha256": "1",
                                                    "lines": [], "review_events": {}}]}))
    with pytest.raises(CommandError, match="lacks the image images/1.jpg"):
        call_command("import_export", str(broken), "--owner", "alice")
    assert not Line.objects.exists() and not Note.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_pdfs_and_their_pages_survive_export_and_import(user, settings, tmp_path):
    from ocr_app.pipeline.engine_selection import get_engine
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


def test_owner_edits_deleted_lines_nothing_read_and_moved_corrections_survive_export_and_import(user, tmp_path):
    """Added lines, deleted lines (with their history, so they can be put back), an
    owner's correction that a reprocess moved to another place in the note, and a note
    with nothing read (which stays done, not queued for OCR again)."""
    from ocr_app.models import DeletedLine
    from ocr_app.services import owner_edits

    picture = encode(Image.new("RGB", (600, 400), (250, 248, 240)))
    note = make_note(user, ["COSTCO LIST", "3 bananss", "smudge"], image=picture, name="costco.jpg")
    make_note(user, [], image=encode(Image.new("RGB", (300, 200), "white")), name="pencil.jpg")
    owner_edits.correct_own_line(line_id=note.lines.get(order=1).pk, owner=user, text="3 bananas")
    owner_edits.delete_own_line(line_id=note.lines.get(order=2).pk, owner=user)
    owner_edits.add_own_line(note_id=note.pk, owner=user, text="eggs", box=(10, 5, 100, 40))  # above everything: order 0
    corrected = Line.objects.get(note=note, text="3 bananas")
    assert corrected.order == 2 and corrected.events.get().line_order == 1  # moved since its correction
    Note.objects.filter(pk=note.pk).update(carried_corrections=2)
    before = content(user)
    archive = tmp_path / "alice.zip"
    export_notes(user=user, destination=archive)

    Note.objects.all().delete()
    call_command("import_export", str(archive), "--owner", "alice", stdout=io.StringIO())
    assert content(user) == before
    note = Note.objects.get(original_name="costco.jpg")
    assert note.carried_corrections == 2
    assert [e.action for e in Line.objects.get(note=note, text="3 bananas").events.all()] == ["correct"]
    assert Line.objects.get(note=note, text="eggs").is_added
    deleted = DeletedLine.objects.get(note=note)
    assert (deleted.text, deleted.deleted_by, deleted.x) == ("smudge", user, 10)
    back = owner_edits.undelete_own_line(deleted_id=deleted.pk, owner=user)
    assert [e.action for e in back.events.order_by("created_at", "pk")] == ["delete", "undelete"]
    empty = Note.objects.get(original_name="pencil.jpg")
    assert empty.status == "done" and list(Note.objects.nothing_read()) == [empty]


# --- learned words -----------------------------------------------------------------------


def words_of(owner) -> dict[str, tuple]:
    """The owner's whole word list: spelling -> (count, last confirmed, removed)."""
    from ocr_app.models import LearnedWord

    return {w.word: (w.count, w.last_confirmed_at, w.removed_at is not None)
            for w in LearnedWord.objects.filter(owner=owner).order_by("key")}


def test_learned_words_travel_with_export_and_import_and_removed_ones_stay_removed(
    user, other_user, staff_user, tmp_path
):
    from ocr_app.models import LearnedWord
    from ocr_app.services import learned_words, owner_edits

    def picture(colour):
        return encode(Image.new("RGB", (400, 300), colour))

    note = make_note(user, ["Call Prlya", "Ask Okonkwa", "Zephyr account"], review=(0, 1, 2), image=picture("white"))
    owner_edits.correct_own_line(line_id=note.lines.get(order=0).pk, owner=user, text="Call Priya")
    pencil = make_note(user, [], name="pencil.jpg", image=picture("lightgray"))
    owner_edits.type_note_text(note_id=pencil.pk, person=user, text="Priya")
    owner_edits.correct_own_line(line_id=note.lines.get(order=1).pk, owner=user, text="Ask Okonkwo")
    learned_words.remove_word(owner=user, word_id=LearnedWord.objects.get(owner=user, key="okonkwo").pk)
    review.accept_line(line_id=note.lines.get(order=2).pk, reviewer=staff_user)
    alices = words_of(user)
    assert {word: count for word, (count, _, _) in alices.items()} == {"Okonkwo": 0, "Priya": 2, "Zephyr": 1}
    archive = tmp_path / "alice.zip"
    export_notes(user=user, destination=archive)
    with zipfile.ZipFile(archive) as zipped:
        manifest = json.loads(zipped.read("inkdex-export.json"))
    assert [(w["word"], w["count"], w["removed_at"] is not None) for w in manifest["learned_words"]] == [
        ("Priya", 2, False), ("Zephyr", 1, False), ("Okonkwo", 0, True)
    ]

    # "Another Inkdex": the same list back, removal included.
    Note.objects.all().delete()
    LearnedWord.objects.all().delete()
    out = io.StringIO()
    call_command("import_export", str(archive), "--owner", "alice", stdout=out)
    assert "Learned words: 3 added, 0 merged with alice's own." in out.getvalue()
    assert words_of(user) == alices
    assert learned_words.words_for_engine(user.pk) == ("Priya", "Zephyr")

    # Bob has words of his own, two of them Alice's: one word each still, nothing fails.
    bobs = make_note(other_user, ["Zephyr"], review=(0,), name="bob.jpg", image=picture("yellow"))
    for _ in range(3):
        learned_words.learn(other_user.pk, ["zephyr"])
    owner_edits.correct_own_line(line_id=bobs.lines.get().pk, owner=other_user, text="Okonkwo and Zephyr")
    bob_before = words_of(other_user)
    assert {w: c for w, (c, _, _) in bob_before.items()} == {"Okonkwo": 1, "Zephyr": 4}
    out = io.StringIO()
    call_command("import_export", str(archive), "--owner", "bob", stdout=out)
    assert "Learned words: 1 added, 2 merged with bob's own." in out.getvalue()
    bob_now = words_of(other_user)
    # The larger count, Bob's spelling; removed since Alice removed it.
    assert {w: (c, removed) for w, (c, _, removed) in bob_now.items()} == {
        "Okonkwo": (0, True), "Priya": (2, False), "Zephyr": (4, False)
    }
    assert bob_now["Zephyr"][1] == max(alices["Zephyr"][1], bob_before["Zephyr"][1])
    assert learned_words.words_for_engine(other_user.pk) == ("Zephyr", "Priya")
    # Importing again changes nothing.
    call_command("import_export", str(archive), "--owner", "bob", stdout=io.StringIO())
    assert words_of(other_user) == bob_now
    # Removed as by Bob himself: an accept does not bring it back, his typing it does.
    learned_words.learn(other_user.pk, ["Okonkwo paid"])
    assert words_of(other_user)["Okonkwo"][0] == 0
    learned_words.learn(other_user.pk, ["Okonkwo paid"], typed_by_owner=["Okonkwo"])
    assert "Okonkwo" in learned_words.words_for_engine(other_user.pk)


@pytest.mark.parametrize("damage, message", [
    ({"word": "Priya", "count": -1}, "learned word 2 is damaged: count -1"),
    ({"word": "Priya", "count": "2"}, "learned word 2 is damaged: count '2'"),
    ({"word": "two words", "count": 1}, "learned word 2 is damaged: 'two words' is not a word of letters"),
    ({"word": "Yo", "count": 1}, "learned word 2 is damaged: 'Yo' is not 3 to 64 letters long"),
    ({"word": "Priya", "count": 1, "removed_at": "yesterday"}, "learned word 2 is damaged"),
    ("Priya", "learned word 2 is damaged: not a word with its count"),
])
def test_an_export_with_a_damaged_learned_word_imports_nothing(alices_notes, user, tmp_path, damage, message):
    from ocr_app.models import LearnedWord
    from ocr_app.services.import_export import ExportError, import_export_archive

    archive = tmp_path / "alice.zip"
    export_notes(user=user, destination=archive)
    with zipfile.ZipFile(archive) as zipped:
        manifest = json.loads(zipped.read("inkdex-export.json"))
    manifest["learned_words"] = [{"word": "Zephyr", "count": 1, "last_confirmed_at": None}, damage]
    damaged = with_manifest(archive, manifest, tmp_path / "damaged.zip")
    Note.objects.all().delete()
    LearnedWord.objects.all().delete()
    with pytest.raises(ExportError, match=message):
        import_export_archive(user=user, source=damaged)
    assert not Note.objects.exists() and not LearnedWord.objects.exists()
    # An export made before learned words travelled has none: that is no damage.
    del manifest["learned_words"]
    older = with_manifest(archive, manifest, tmp_path / "older.zip")
    assert import_export_archive(user=user, source=older).imported == 2
    assert not LearnedWord.objects.exists()


@pytest.mark.parametrize("field, damage", [
    ("warnings", "Trial mode"), ("warnings", [3]), ("unread_ink", 1.5), ("unread_ink", "0.2"), ("unread_ink", True),
])
def test_an_export_with_a_damaged_engine_report_imports_nothing(alices_notes, user, tmp_path, field, damage):
    from ocr_app.services.import_export import ExportError, import_export_archive

    archive = tmp_path / "alice.zip"
    export_notes(user=user, destination=archive)
    with zipfile.ZipFile(archive) as zipped:
        manifest = json.loads(zipped.read("inkdex-export.json"))
    assert manifest["notes"][0]["warnings"] == ["Trial mode: part of the text only."]
    manifest["notes"][1][field] = damage
    Note.objects.all().delete()
    with pytest.raises(ExportError, match="description of '<b>dentist</b>.jpg' is damaged"):
        import_export_archive(user=user, source=with_manifest(archive, manifest, tmp_path / "damaged.zip"))
    assert not Note.objects.exists()
    # Exports made before engines' reports travelled have none: notes come in without them;
    # and a line they hold with accents typed decomposed comes in composed, as Inkdex stores it.
    for note in manifest["notes"]:
        del note["warnings"], note["unread_ink"]
    manifest["notes"][1]["lines"][0]["text"] = "Dentiste a\u0300 4h"
    assert import_export_archive(user=user, source=with_manifest(archive, manifest, tmp_path / "older.zip")).imported == 2
    assert list(Note.objects.values_list("warnings", "unread_ink")) == [(None, None), (None, None)]
    assert Line.objects.get(note__original_name="<b>dentist</b>.jpg").text == "Dentiste à 4h"
