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
from django.db import connection, connections
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


def _snapshot_database(target: Path) -> None:
    settings_dict = connection.settings_dict
    if _vendor() == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            # The online backup API copies a consistent state while others keep writing.
            connection.connection.backup(destination)
        finally:
            destination.close()
    elif _vendor() == "postgresql":
        args, env = _pg_environment(settings_dict)
        _run(["pg_dump", *args, "--format=custom", "--no-owner", "--file", str(target), settings_dict["NAME"]], env)
    else:
        raise BackupError(f"Backups of {_vendor()} databases are not supported.")


def _image_names(snapshot: Path) -> tuple[int, list[str]]:
    """The notes and stored file names in the snapshot (not the live database)."""
    if _vendor() == "sqlite":
        database = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
        try:
            rows = database.execute(f"SELECT {', '.join(IMAGE_COLUMNS)} FROM ocr_app_note").fetchall()
        finally:
            database.close()
    else:
        # pg_dump's snapshot cannot be queried; its notes are those of the moment
        # it started, so take the names now (later uploads are not in the dump).
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(IMAGE_COLUMNS)} FROM ocr_app_note")
            rows = cursor.fetchall()
    return len(rows), sorted({name for row in rows for name in row if name})


def create_backup(destination: Path, *, storage=default_storage) -> BackupReport:
    """Write a backup of the database and the images to ``destination`` (a .tar)."""
    destination = Path(destination)
    report = BackupReport(destination)
    with tempfile.TemporaryDirectory() as scratch:
        snapshot = Path(scratch) / ("database.sqlite3" if _vendor() == "sqlite" else "database.pgdump")
        _snapshot_database(snapshot)
        report.notes, names = _image_names(snapshot)
        partial = destination.with_name(destination.name + ".partial")
        with tarfile.open(partial, "w") as archive:
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
            }
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        partial.replace(destination)  # never a half-written file under the final name
    return report


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, ValueError, TypeError) as exc:
        raise BackupError("This file is not an Inkdex backup (no readable manifest).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    if manifest.get("database") != _vendor():
        raise BackupError(
            f"This backup holds a {manifest.get('database')} database; this Inkdex runs on {_vendor()}."
        )
    return manifest


def restore_backup(source: Path, *, force: bool = False, storage=default_storage) -> dict:
    """Replace the database and images with those of a backup; returns its manifest.

    Inkdex (web server and workers) must be stopped meanwhile. Without
    ``force`` a database that holds notes is left alone.
    """
    from ..models import Note

    try:
        archive = tarfile.open(source, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"Cannot read {source}: {exc}") from exc
    with archive:
        manifest = _read_manifest(archive)
        if not force and Note.objects.exists():
            raise BackupError("This Inkdex already holds notes; restoring would replace them (use --force).")
        with tempfile.TemporaryDirectory() as scratch:
            database_file = Path(scratch) / "database"
            member = archive.extractfile(manifest["database_file"])
            if member is None:
                raise BackupError("The backup has no database.")
            with database_file.open("wb") as handle:
                shutil.copyfileobj(member, handle)
            _restore_database(database_file)
        for member in archive.getmembers():
            if not member.isfile() or not member.name.startswith("media/"):
                continue
            name = member.name.removeprefix("media/")
            # Names come from the archive: keep them inside the storage.
            if name.startswith("/") or ".." in Path(name).parts:
                raise BackupError(f"Refusing a file outside the media folder: {member.name}")
            if storage.exists(name):
                storage.delete(name)
            storage.save(name, ContentFile(archive.extractfile(member).read()))
    return manifest


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
