"""Backups of a running Inkdex: the database and every stored image, in one tar file.

The database is copied first, as one consistent snapshot (SQLite's online
backup, or ``pg_dump``, which both read while others write); then each image the
snapshot refers to is copied through the storage API. Images are never changed
once stored, so the pair is consistent. A note deleted between the two steps
loses its image; the backup reports it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, connections, transaction
from django.utils import timezone

FORMAT = "inkdex-backup-1"
IMAGE_COLUMNS = ("image", "preview", "thumbnail")


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why."""


@dataclass
class BackupReport:
    path: Path
    notes: int = 0
    files: int = 0
    missing: list[str] = field(default_factory=list)


def _vendor() -> str:
    return connection.vendor


def _pg_environment(settings_dict) -> tuple[list[str], dict[str, str]]:
    args = ["--host", settings_dict.get("HOST") or "localhost", "--port", str(settings_dict.get("PORT") or 5432)]
    if settings_dict.get("USER"):
        args += ["--username", settings_dict["USER"]]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed; on Debian: sudo apt-get install postgresql-client")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _sqlite_image_names(database_file: Path) -> list[tuple]:
    database = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
    try:
        return database.execute(f"SELECT {', '.join(IMAGE_COLUMNS)} FROM ocr_app_note").fetchall()
    finally:
        database.close()


def _snapshot_database(target: Path) -> tuple[int, list[str]]:
    """Copy the database to ``target``; returns the notes and the stored file
    names of that very copy (not of the live database, which moves on)."""
    settings_dict = connection.settings_dict
    if _vendor() == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            # The online backup API copies a consistent state while others keep writing.
            connection.connection.backup(destination)
        finally:
            destination.close()
        rows = _sqlite_image_names(target)
    elif _vendor() == "postgresql":
        # One REPEATABLE READ transaction exports its snapshot; the file names are
        # read in it and pg_dump dumps exactly it, so the two agree.
        args, env = _pg_environment(settings_dict)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            [snapshot] = cursor.fetchone()
            cursor.execute(f"SELECT {', '.join(IMAGE_COLUMNS)} FROM ocr_app_note")
            rows = cursor.fetchall()
            _run(["pg_dump", *args, "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                  "--file", str(target), settings_dict["NAME"]], env)
    else:
        raise BackupError(f"Backups of {_vendor()} databases are not supported.")
    return len(rows), sorted({name for row in rows for name in row if name})


def _private_file(path: Path):
    """``path`` opened for writing, readable by its owner only (a backup holds
    password hashes and session keys), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a left-over file of an interrupted run keeps its mode otherwise
    return os.fdopen(fd, "wb")


def create_backup(destination: Path, *, storage=default_storage) -> BackupReport:
    """Write a backup of the database and the images to ``destination`` (a .tar)."""
    destination = Path(destination)
    report = BackupReport(destination)
    with tempfile.TemporaryDirectory() as scratch:
        snapshot = Path(scratch) / ("database.sqlite3" if _vendor() == "sqlite" else "database.pgdump")
        report.notes, names = _snapshot_database(snapshot)
        partial = destination.with_name(destination.name + ".partial")
        try:
            _write_archive(partial, snapshot, names, report, storage)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(destination)  # never a half-written file under the final name
    return report


def _write_archive(path: Path, snapshot: Path, names: list[str], report: BackupReport, storage) -> None:
    with _private_file(path) as output, tarfile.open(fileobj=output, mode="w") as archive:
        archive.add(snapshot, arcname=snapshot.name)
        for name in names:
            try:
                with storage.open(name, "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                report.missing.append(name)
                continue
            info = tarfile.TarInfo(f"media/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            report.files += 1
        manifest = {
            "format": FORMAT,
            "created": timezone.now().isoformat(),
            "database": _vendor(),
            "database_file": snapshot.name,
            "notes": report.notes,
            "files": report.files,
            "missing": report.missing,
            # What the database refers to: a restore checks that each is here.
            "images": names,
        }
        data = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, ValueError, TypeError) as exc:
        raise BackupError("This file is not an Inkdex backup (no readable manifest).") from exc
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"The backup is damaged or incomplete ({exc}); nothing was restored.") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    if manifest.get("database") != _vendor():
        raise BackupError(
            f"This backup holds a {manifest.get('database')} database; this Inkdex runs on {_vendor()}."
        )
    return manifest


def restore_backup(source: Path, *, force: bool = False, storage=default_storage) -> dict:
    """Replace the database and images with those of a backup; returns its manifest.

    Every entry of the archive is checked first (names, complete data, a
    readable database, every image it refers to present); a damaged backup
    changes nothing. Inkdex (web server and workers) must be stopped meanwhile.
    Without ``force`` a database that holds notes is left alone.
    """
    from ..models import Note

    try:
        archive = tarfile.open(source, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"Cannot read {source}: {exc}") from exc
    with archive, tempfile.TemporaryDirectory() as scratch:
        manifest = _read_manifest(archive)
        if not force and Note.objects.exists():
            raise BackupError("This Inkdex already holds notes; restoring would replace them (use --force).")
        database_file = Path(scratch) / "database"
        media = _checked_entries(archive, manifest, database_file)
        _check_database(database_file, manifest, media)
        # Only now is anything replaced.
        _restore_database(database_file)
        for name, member in media.items():
            if storage.exists(name):
                storage.delete(name)
            storage.save(name, ContentFile(archive.extractfile(member).read()))
    return manifest


def _checked_entries(archive: tarfile.TarFile, manifest: dict, database_file: Path) -> dict[str, tarfile.TarInfo]:
    """Check every entry of the archive, reading each through; copies the
    database to ``database_file``; returns the images by their stored name."""
    database_name = manifest.get("database_file")
    media: dict[str, tarfile.TarInfo] = {}
    seen: set[str] = set()
    try:
        for member in archive:
            if member.name in seen:
                raise BackupError(f"The backup holds {member.name} twice.")
            seen.add(member.name)
            if not member.isfile():
                raise BackupError(f"The backup holds something other than a file: {member.name}")
            if member.name.startswith("media/"):
                name = member.name.removeprefix("media/")
                parts = Path(name).parts
                # Names come from the archive: keep them inside the storage.
                if not name or name.startswith("/") or "\\" in name or ".." in parts or "" in name.split("/"):
                    raise BackupError(f"Refusing a file outside the media folder: {member.name}")
                media[name] = member
            elif member.name not in ("manifest.json", database_name):
                raise BackupError(f"The backup holds an unexpected file: {member.name}")
            _read_through(archive, member, database_file if member.name == database_name else None)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"The backup is damaged or incomplete ({exc}); nothing was restored.") from exc
    if database_name not in seen:
        raise BackupError("The backup has no database.")
    return media


def _read_through(archive: tarfile.TarFile, member: tarfile.TarInfo, copy_to: Path | None) -> None:
    """Read the entry's data to its end (a cut-off archive fails here), copying it if asked."""
    source = archive.extractfile(member)
    target = _private_file(copy_to) if copy_to else None
    read = 0
    try:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            read += len(chunk)
            if target:
                target.write(chunk)
    finally:
        if target:
            target.close()
    if read != member.size:
        raise BackupError(f"The backup is damaged or incomplete ({member.name} is cut short); nothing was restored.")


def _check_database(database_file: Path, manifest: dict, media: dict) -> None:
    """The database copy opens, and every image it refers to is in the backup."""
    if _vendor() == "sqlite":
        try:
            database = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
            try:
                [result] = database.execute("PRAGMA quick_check").fetchone()
            finally:
                database.close()
            if result != "ok":
                raise sqlite3.DatabaseError(result)
            rows = _sqlite_image_names(database_file)
        except sqlite3.Error as exc:
            raise BackupError(f"The backup's database cannot be read ({exc}); nothing was restored.") from exc
        referenced = {name for row in rows for name in row if name}
    else:
        args, env = _pg_environment(connection.settings_dict)
        try:
            _run(["pg_restore", "--list", str(database_file)], env)
        except BackupError as exc:
            raise BackupError(f"The backup's database cannot be read ({exc}); nothing was restored.") from exc
        referenced = set(manifest.get("images") or ())  # listed from the dump's own snapshot
    absent = sorted(referenced - set(manifest.get("missing") or ()) - set(media))
    if absent:
        raise BackupError(
            f"The backup lacks {len(absent)} image(s) its database refers to (e.g. {absent[0]}); nothing was restored."
        )


def _restore_database(database_file: Path) -> None:
    if _vendor() == "sqlite":
        source = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
        try:
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        settings_dict = connection.settings_dict
        args, env = _pg_environment(settings_dict)
        connections.close_all()
        _run(
            ["pg_restore", *args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--dbname", settings_dict["NAME"], str(database_file)],
            env,
        )
