"""Shared helpers for the Inkdex benchmarks: a scratch Django setup, statistics, tables."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))


@contextlib.contextmanager
def scratch_site(database_url: str | None = None, keep: bool = False):
    """A fresh data dir (and, for PostgreSQL, a fresh database named by the URL),
    Django set up on it and migrated. Yields the environment a worker process needs.

    The PostgreSQL database is dropped (and the data dir removed) afterwards.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="inkdex-bench-"))
    env = {
        "INKDEX_DATA_DIR": str(data_dir),
        "INKDEX_SECRET_KEY": secrets.token_urlsafe(32),
        "INKDEX_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "notes_site.settings",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
        _recreate_postgres_database(database_url)
    os.environ.update(env)
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield {**os.environ, **env}
    finally:
        from django.db import connections

        connections.close_all()
        if database_url and not keep:
            _drop_postgres_database(database_url)
        if keep:
            print(f"kept {data_dir}" + (f" and {database_url}" if database_url else ""))
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _admin_connection(database_url: str):
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to use {name!r} as a scratch database; name one, e.g. .../inkdex_bench")
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    return psycopg.connect(admin_url, autocommit=True), name


def _recreate_postgres_database(database_url: str) -> None:
    conn, name = _admin_connection(database_url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_postgres_database(database_url: str) -> None:
    conn, name = _admin_connection(database_url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vendor() -> str:
    from django.db import connection

    return connection.vendor


def create_user(username: str = "bench"):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username, password=secrets.token_urlsafe(16))


# --- statistics and output -----------------------------------------------------------


def percentile(values, p: float) -> float:
    """Nearest-rank-interpolated percentile (p in 0..100) of a non-empty sequence."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    return statistics.quantiles(data, n=100, method="inclusive")[max(0, min(98, round(p) - 1))]


def median(values) -> float:
    return statistics.median(values)


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1024 / 1024:,.1f} MB"


def print_table(headers: list[str], rows: list[list], title: str | None = None) -> None:
    """A Markdown table (readable in a terminal, pasteable into a README)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    print()


def machine_summary() -> str:
    import platform

    return (f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}; "
            f"{load_average()}")


def load_average() -> str:
    """Other processes' load skews every figure here: printed at start and end of a run."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"
