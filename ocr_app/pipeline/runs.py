"""What recognising a note and splitting a PDF share: a *run*.

A run is one worker's turn at one note, under its claim (the note's
``run_token``). While it works, a heartbeat tells the other workers that it
lives (``recovery`` queues the note again once the beats stop). It ends with an
outcome; a run to be tried again says when, and the task that ran it puts the
retry on the queue (``tasks``), so the modules doing the work never import the
tasks that call them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from ..conf import inkdex
from ..models import Note, NoteStatus

logger = logging.getLogger(__name__)


class Run(NamedTuple):
    """What a run did: ``outcome`` on the note ``note_id`` (None: no note was
    waiting), and, for ``retrying``, when to try again (``retry_at``; None: the
    note was taken from the run meanwhile, so there is nothing to queue)."""

    note_id: int | None
    outcome: str
    retry_at: datetime | None = None


def retry_delay(attempts: int) -> timedelta:
    """How long a note waits after its ``attempts``-th failed run: the pause doubles each time."""
    return timedelta(seconds=inkdex().retry_backoff_seconds * 2 ** (attempts - 1))


def retry_or_fail(note_id: int, token: str, errors: Callable[[int, int], tuple[str, str]], **requeued) -> Run:
    """End a failed run: the note fails for good once it used up its attempts, or
    waits ``retry_delay`` and is queued again (``requeued``: what else that changes).
    ``errors(attempts, max_attempts)`` gives the owner's message for each case. Only
    while the run still holds its claim; the task that ran it queues the retry."""
    attempts = Note.objects.values_list("attempts", flat=True).get(pk=note_id)
    max_attempts = inkdex().max_attempts
    failed, retrying = errors(attempts, max_attempts)
    now = timezone.now()
    ours = Note.objects.filter(pk=note_id, run_token=token)
    if attempts >= max_attempts:
        ours.update(status=NoteStatus.FAILED, error=failed, finished_at=now, heartbeat_at=None)
        return Run(note_id, "failed")
    # The note and its retry task wait until the same moment: no worker takes the note before.
    retry_at = now + retry_delay(attempts)
    requeued = ours.update(run_token="", heartbeat_at=None, queued_at=now, retry_at=retry_at, error=retrying, **requeued)
    return Run(note_id, "retrying", retry_at if requeued else None)


class Heartbeat:
    """Refreshes the note's heartbeat from a thread while the engine runs."""

    def __init__(self, note_id: int, token: str) -> None:
        self.note_id, self.token = note_id, token
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-note-{note_id}", daemon=True)

    def _beat(self) -> None:
        interval = inkdex().heartbeat_seconds
        try:
            while not self._stop.wait(interval):
                try:
                    Note.objects.filter(pk=self.note_id, run_token=self.token).update(heartbeat_at=timezone.now())
                except Exception:  # a missed beat is harmless; a crashed thread is not
                    logger.warning("Heartbeat for note %s failed", self.note_id, exc_info=True)
        finally:
            connection.close()

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
