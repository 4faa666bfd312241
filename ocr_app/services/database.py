"""Riding out a database that is briefly locked or unreachable; inserting many rows at once."""

from __future__ import annotations

import logging
import time

from django.db import InterfaceError, OperationalError, close_old_connections, connection

logger = logging.getLogger(__name__)

ATTEMPTS = 5
FIRST_PAUSE_SECONDS = 0.2


def with_retries(action, *, what: str):
    """Run ``action()`` (one transaction's worth of work); when the database is
    locked or the connection dropped, wait a little and run it again, up to
    ``ATTEMPTS`` times. The last failure is raised."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return action()
        except (OperationalError, InterfaceError) as exc:
            if attempt == ATTEMPTS or connection.in_atomic_block:
                # Inside an outer transaction the work cannot be redone here.
                raise
            logger.warning("%s: database error (%s); trying again (%d of %d)", what, exc, attempt + 1, ATTEMPTS)
            close_old_connections()
            if connection.connection is not None and not connection.is_usable():
                connection.close()
            time.sleep(FIRST_PAUSE_SECONDS * 2 ** (attempt - 1))


def upsert(table: str, columns: tuple[str, ...], rows: list[tuple], *, conflict: str, update: str, chunk: int = 200) -> None:
    """INSERT ``rows`` into ``table``, a chunk of rows per statement; a row whose
    ``conflict`` columns exist already runs ``update`` (SQL over ``excluded``) instead.
    The same statement on SQLite and PostgreSQL."""
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * len(part))} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {update}",
                [value for values in part for value in values],
            )
