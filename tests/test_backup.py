"""Backup while Inkdex runs, restore, and everything is back: notes, lines, history, images, search."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from PIL import Image

from ocr_app.models import Line, Note, ReviewEvent
from ocr_app.search import search_notes
from ocr_app.search.index import index_drift
from ocr_app.services import review
from ocr_app.services.notes import delete_note
from tests.factories import make_note
from tests.notegen import encode

pytestmark = pytest.mark.django_db(transaction=True)


def digest(field) -> str:
    with field.open("rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def state():
    """What must come back, as plain values."""
    return {
        "notes": sorted(Note.objects.values_list("pk", "owner_id", "original_name", "status", "image")),
        "lines": sorted(Line.objects.values_list("pk", "note_id", "order", "text", "ocr_text", "confidence")),
        "events": sorted(ReviewEvent.objects.values_list("pk", "line_id", "old_text", "new_text", "reviewer_id")),
        "images": sorted((note.image.name, digest(note.image)) for note in Note.objects.all()),
    }


@pytest.fixture
def stored(user, other_user, staff_user):
    picture = encode(Image.new("RGB", (400, 300), (250, 250, 240)))
    notes = [
        make_note(user, ["Call the plumbcr", "Buy milk"], confidences=[50.0, 95.0], image=picture),
        make_note(other_user, ["Dentist at 4pm"], image=encode(Image.new("RGB", (300, 200), "white"))),
    ]
    review.correct_line(line_id=notes[0].lines.get(order=0).pk, reviewer=staff_user, text="Call the plumber")
    return notes


def test_backup_then_restore_brings_everything_back(stored, user, tmp_path, capsys):
    before = state()
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive))
    assert "Backed up 2 note(s) and 2 file(s)" in capsys.readouterr().out
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert manifest["notes"] == 2 and manifest["missing"] == []
        assert {m.name for m in tar.getmembers() if m.name.startswith("media/")} == {
            f"media/{name}" for name, _ in before["images"]
        }

    # Disaster: the notes are deleted (images too), and something else is stored.
    for note in Note.objects.all():
        delete_note(note)
    make_note(user, ["written after the backup"])
    with pytest.raises(CommandError, match="already holds notes"):
        call_command("restore", str(archive))

    call_command("restore", str(archive), "--force")
    assert state() == before
    assert [r.note.pk for r in search_notes(user, "plumber").notes] == [stored[0].pk]
    assert search_notes(user, "written").notes == []
    assert index_drift() is None


def test_backup_reports_images_whose_note_went_meanwhile(stored, tmp_path, capsys):
    stored[1].image.storage.delete(stored[1].image.name)  # as if deleted while the backup ran
    call_command("backup", str(tmp_path))
    captured = capsys.readouterr()
    assert "Backed up 2 note(s) and 1 file(s)" in captured.out
    assert f"Not in the backup (its note was deleted meanwhile): {stored[1].image.name}" in captured.err
    [made] = list(tmp_path.glob("inkdex-backup-*.tar"))
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(made))


def test_restore_refuses_what_is_not_a_backup(tmp_path, user):
    not_tar = tmp_path / "notes.tar"
    not_tar.write_text("hello")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("restore", str(not_tar))

    def tar_with(members: dict[str, bytes]):
        path = tmp_path / f"t{len(members)}.tar"
        with tarfile.open(path, "w") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path

    with pytest.raises(CommandError, match="not an Inkdex backup"):
        call_command("restore", str(tar_with({"x.txt": b"x"})))
    other_vendor = "postgresql" if _vendor() == "sqlite" else "sqlite"
    manifest = json.dumps({"format": "inkdex-backup-1", "database": other_vendor}).encode()
    with pytest.raises(CommandError, match=f"holds a {other_vendor} database"):
        call_command("restore", str(tar_with({"manifest.json": manifest})))


def test_restore_keeps_files_inside_the_media_folder(stored, tmp_path, settings):
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive))
    hostile = tmp_path / "hostile.tar"
    with tarfile.open(archive) as source, tarfile.open(hostile, "w") as tar:
        for member in source.getmembers():
            tar.addfile(member, source.extractfile(member))
        info = tarfile.TarInfo("media/../../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"no"))
    with pytest.raises(CommandError, match="outside the media folder"):
        call_command("restore", str(hostile), "--force")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (settings.MEDIA_ROOT.parent / "escaped.txt").exists()


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def test_the_backup_is_readable_by_its_owner_only(stored, tmp_path):
    (tmp_path / "backups").mkdir()
    old_umask = os.umask(0o022)  # the usual umask would make new files world-readable
    try:
        call_command("backup", str(tmp_path / "backups"))
    finally:
        os.umask(old_umask)
    [made] = list((tmp_path / "backups").iterdir())  # no partial file left beside it
    assert made.name.endswith(".tar") and stat.S_IMODE(made.stat().st_mode) == 0o600


def _rewritten(archive, target, *, drop=(), replace=None, add=()):
    """A copy of the tar ``archive`` without the entries named in ``drop``, with
    the data of those in ``replace`` changed, and ``add`` (TarInfo, bytes) added."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as tar:
        for member in source.getmembers():
            if member.name in drop:
                continue
            data = source.extractfile(member).read()
            if replace and member.name in replace:
                data = replace[member.name]
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        for info, data in add:
            tar.addfile(info, io.BytesIO(data))
    return target


def _damaged(kind: str, archive, tmp_path, names: list[str]):
    target = tmp_path / f"{kind}.tar"
    database_file = "database.sqlite3" if _vendor() == "sqlite" else "database.pgdump"
    if kind == "cut short":
        data = archive.read_bytes()
        target.write_bytes(data[: len(data) * 2 // 3])  # an interrupted copy
        return target
    if kind == "image missing":
        return _rewritten(archive, target, drop={f"media/{names[-1]}"})
    if kind == "database damaged":
        return _rewritten(archive, target, replace={database_file: b"SQLite format 3\0" + b"\xff" * 5000})
    if kind == "path outside":
        info = tarfile.TarInfo("media/../../escaped.txt")
        info.size = 2
        return _rewritten(archive, target, add=[(info, b"no")])
    if kind == "link":
        info = tarfile.TarInfo("media/notes/link.jpg")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        return _rewritten(archive, target, add=[(info, b"")])
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["cut short", "image missing", "database damaged", "path outside", "link"])
def test_a_damaged_backup_is_refused_before_anything_is_replaced(stored, user, tmp_path, settings, kind):
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive))
    names = sorted(note.image.name for note in stored)
    # What is there now, after the backup, must survive the refused restore untouched.
    delete_note(stored[0])
    make_note(user, ["written after the backup"], image=encode(Image.new("RGB", (300, 200), (200, 220, 240))))
    before = state()
    files_before = sorted(p.relative_to(settings.MEDIA_ROOT) for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())

    with pytest.raises(CommandError, match="nothing was restored|not an Inkdex backup|outside the media folder|other than a file"):
        call_command("restore", str(_damaged(kind, archive, tmp_path, names)), "--force")
    assert state() == before
    assert sorted(p.relative_to(settings.MEDIA_ROOT) for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) == files_before
    assert not (tmp_path / "escaped.txt").exists() and not (settings.MEDIA_ROOT.parent / "escaped.txt").exists()


def test_on_postgresql_the_image_list_is_the_dumps_own_snapshot(stored, user, tmp_path, monkeypatch):
    if _vendor() != "postgresql":
        pytest.skip("pg_dump's snapshot is PostgreSQL's")
    from ocr_app.services import backup

    real_run = backup._run
    written = []

    def upload_from_elsewhere(text: str) -> None:
        # Another connection (another thread), as a user of the running Inkdex would.
        def work():
            try:
                written.append(make_note(user, [text]).image.name)
            finally:
                connection.close()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    def run_with_uploads_around(command, env):
        if command[0] == "pg_dump":
            upload_from_elsewhere("uploaded as the dump starts")
            real_run(command, env)
            upload_from_elsewhere("uploaded as the dump ends")
            return
        real_run(command, env)

    monkeypatch.setattr(backup, "_run", run_with_uploads_around)
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive))
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        media = {m.name.removeprefix("media/") for m in tar.getmembers() if m.name.startswith("media/")}
    assert len(written) == 2 and not media & set(written)
    assert manifest["notes"] == 2 and media == {note.image.name for note in stored}
    call_command("restore", str(archive), "--force")
    assert Note.objects.count() == 2  # the dump holds exactly the notes the list was made from
