"""One search backend per database vendor, chosen by the connection in use."""

from __future__ import annotations

from django.db import connection as default_connection

from .base import NoteMatch, SearchBackend


def backend_for(connection=None) -> SearchBackend:
    connection = connection or default_connection
    if connection.vendor == "postgresql":
        from .postgres import PostgresBackend

        return PostgresBackend()
    if connection.vendor == "sqlite":
        from .sqlite import SqliteBackend

        return SqliteBackend()
    raise NotImplementedError(f"Inkdex search has no backend for {connection.vendor}; use SQLite or PostgreSQL.")


__all__ = ["NoteMatch", "SearchBackend", "backend_for"]
