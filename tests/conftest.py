"""Shared fixtures: users, generated note images, the real worker.

The SQLite test database is a file (not in-memory) so that worker processes
started by tests see the same data as the test itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.notegen import note_bytes

PROJECT_DIR = Path(__file__).resolve().parent.parent

# The real-browser fixtures (browser, browsing, open_browsing, shots).
pytest_plugins = ["tests.browsing"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    db = django_settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test_inkdex.sqlite3")


@pytest.fixture(autouse=True)
def inkdex_test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INKDEX = {
        **settings.INKDEX,
        "RETRY_BACKOFF_SECONDS": 0.0,
        "HEARTBEAT_SECONDS": 0.5,
        # Far longer than any pause of a busy machine: a live worker is never taken
        # for dead. Tests that need a dead worker's note age its heartbeat instead.
        "STALE_AFTER_SECONDS": 600.0,
    }
    # Test users need no strong hashing; it would cost ~0.3 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Static files are served by finders in tests; no collectstatic needed.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return settings


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password-1")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("sam", "sam@example.com", "sam-password-1", is_staff=True)


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


def image_upload(name: str = "note.jpg", content: bytes | None = None, content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, note_bytes() if content is None else content, content_type=content_type)


def run_worker_until_idle() -> None:
    """Run the real worker in this process until the queue is empty."""
    call_command("run_worker", batch=True, startup_delay=False, verbosity=0)


def recognised_by(note, engine: str):
    """``note`` queued for ``engine`` and recognised by the real worker; it must be done."""
    from ocr_app.models import NoteStatus
    from ocr_app.pipeline.tasks import request_recognition

    request_recognition(note, engine=engine)
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == NoteStatus.DONE, note.error
    return note


def api_note(user, note) -> dict:
    """The API's detail of ``note``, asked with a token of ``user``."""
    from rest_framework.test import APIClient

    from ocr_app.services.tokens import create_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, name='tests')[1]}")
    return client.get(f"/api/v1/notes/{note.pk}/").json()


def worker_environment(settings) -> dict[str, str]:
    """Environment for a worker process that shares this test's database and files."""
    from ocr_app.conf import inkdex

    db = settings.DATABASES["default"]
    env = {**os.environ, "INKDEX_SECRET_KEY": "test-secret", "INKDEX_MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    for key in ("HEARTBEAT_SECONDS", "STALE_AFTER_SECONDS", "RETRY_BACKOFF_SECONDS", "MAX_ATTEMPTS", "REVIEW_THRESHOLD"):
        env[f"INKDEX_{key}"] = str(getattr(inkdex(), key.lower()))
    return env


class WorkerProcess:
    """A real ``manage.py run_worker`` process."""

    def __init__(self, settings, *extra_args: str, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(PROJECT_DIR / "manage.py"), "run_worker", "--no-startup-delay", "--interval", "0.2", *extra_args],
            cwd=PROJECT_DIR,
            env=worker_environment(settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_process(settings, tmp_path):
    """Start real worker processes; all are stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(*extra_args: str) -> WorkerProcess:
        worker = WorkerProcess(settings, *extra_args, log_path=tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {message}")
