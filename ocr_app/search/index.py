"""Keeping the full-text index present and in step with the lines table."""

from __future__ import annotations

import logging

from django.db import connections, transaction

from .backends import backend_for

logger = logging.getLogger(__name__)

# The migration that installs the index as this code expects it: before it has run
# (an upgrade, before ``migrate``), an index of an earlier version is no error.
INDEX_MIGRATION = ("ocr_app", "0018_note_titles")


def index_migrated(using: str = "default") -> bool:
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connections[using])
    app, name = INDEX_MIGRATION
    return recorder.has_table() and recorder.migration_qs.filter(app=app, name=name).exists()


def install_search_index(apps=None, schema_editor=None) -> None:
    """Migration step: create the vendor's index structures and fill them.

    The index as this code makes it holds the notes' titles: in a migration before
    notes had them, it does nothing (``INDEX_MIGRATION`` installs it then)."""
    if apps is not None and not any(f.name == "title" for f in apps.get_model("ocr_app", "Note")._meta.fields):
        return
    connection = schema_editor.connection if schema_editor else connections["default"]
    backend_for(connection).install(connection)


def ensure_search_index(using: str = "default") -> list[str]:
    """Restore any missing part of the index (and rebuild it); returns what was missing.

    Django rebuilds a SQLite table on some schema changes and drops its triggers
    silently; this runs after every ``migrate`` so that cannot go unnoticed.
    """
    connection = connections[using]
    backend = backend_for(connection)
    missing = backend.missing_parts(connection)
    if missing:
        logger.warning("Search index parts were missing (%s); restoring and rebuilding.", ", ".join(missing))
        backend.install(connection)
    return missing


def rebuild_search_index(using: str = "default") -> None:
    """Rebuild every note's search document and the index in one transaction:
    a search meanwhile sees the old index (or waits for the new), never a half-built one."""
    connection = connections[using]
    backend = backend_for(connection)
    with transaction.atomic(using=using):
        if not ensure_search_index(using):  # a restore rebuilds already
            backend.rebuild(connection)


def index_drift(using: str = "default") -> str | None:
    connection = connections[using]
    return backend_for(connection).drift(connection)
