"""Recovery: notes whose worker died, or whose task was lost, are queued again.

Run periodically by every worker (``run_worker``) and by ``recover_notes``. A
worker that dies stops its heartbeat; after ``STALE_AFTER_SECONDS`` its note is
queued again, or failed once it used up its attempts. Safe to run from many
workers at once: every change is a conditional update, so only one of them acts
on a given note.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ..conf import inkdex
from ..models import Note, NoteStatus
from .tasks import schedule_recognition, schedule_split


@dataclass(frozen=True)
class _Work:
    """Recognising notes or splitting PDFs, as recovery sees them."""

    running: Q  # notes a worker holds
    waiting: Q  # notes waiting for their task to run
    doing: str  # what the worker was doing, for the owner
    retry_hint: str  # what the owner can do once the attempts are used up
    requeued: dict  # what else queuing the note again changes
    schedule: Callable[[int], str]


def recover_stale_notes() -> list[int]:
    """Queue again every note whose worker died, and every queued note whose
    task was lost; fail those that used up their attempts. Returns their ids."""
    return _recover(_Work(
        running=Q(status=NoteStatus.PROCESSING),
        waiting=Q(status=NoteStatus.QUEUED),
        doing="recognizing this note",
        retry_hint="Use Reprocess to try again.",
        requeued={"status": NoteStatus.QUEUED},
        schedule=schedule_recognition,
    ))


def recover_stale_splits() -> list[int]:
    """Queue again every PDF whose worker died while splitting it, and every one
    whose task was lost; fail those that used up their attempts. Returns their ids."""
    return _recover(_Work(
        running=Q(status=NoteStatus.SPLITTING) & ~Q(run_token=""),
        waiting=Q(status=NoteStatus.SPLITTING, run_token=""),
        doing="splitting this PDF",
        retry_hint="Use Split again to try again; the pages made so far are kept.",
        requeued={},
        schedule=schedule_split,
    ))


def _recover(work: _Work) -> list[int]:
    now = timezone.now()
    stale_before = now - timedelta(seconds=inkdex().stale_after_seconds)
    max_attempts = inkdex().max_attempts
    recovered: list[int] = []

    for note in Note.objects.filter(work.running).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    ):
        stale = Note.objects.filter(work.running, pk=note.pk, run_token=note.run_token)
        if note.attempts >= max_attempts:
            changed = stale.update(
                status=NoteStatus.FAILED, finished_at=now, heartbeat_at=None,
                error=f"The worker stopped while {work.doing} ({note.attempts} attempts). {work.retry_hint}",
            )
        else:
            changed = stale.update(
                run_token="", heartbeat_at=None, queued_at=now,
                error=f"The worker stopped while {work.doing}; it has been queued again.", **work.requeued,
            )
        if not changed:
            continue
        _mark_task_lost(note.task_id, now)
        if note.attempts < max_attempts:
            work.schedule(note.pk)
        recovered.append(note.pk)

    # Asked once, after the dead workers' tasks were marked lost just above.
    live_task_ids = _live_task_ids(stale_before)
    for note in Note.objects.filter(work.waiting, queued_at__lt=stale_before).only("pk", "task_id"):
        if _normalise_task_id(note.task_id) in live_task_ids:
            continue
        if Note.objects.filter(work.waiting, pk=note.pk, task_id=note.task_id).update(queued_at=now):
            work.schedule(note.pk)
            recovered.append(note.pk)
    return recovered


def _live_task_ids(stale_before) -> set[str]:
    """The queue's tasks waiting to run, or running with a worker still alive."""
    return {
        str(pk)
        for pk in DBTaskResult.objects.filter(
            Q(status="READY") | Q(status="RUNNING", started_at__gte=stale_before)
        ).values_list("pk", flat=True)
    }


def _normalise_task_id(task_id: str) -> str:
    try:
        return str(uuid.UUID(task_id))
    except (ValueError, TypeError):
        return task_id or ""


def _mark_task_lost(task_id: str, now) -> None:
    """The dead worker's task row would otherwise say RUNNING for ever."""
    try:
        DBTaskResult.objects.filter(pk=task_id or None, status="RUNNING").update(
            status="FAILED", finished_at=now, exception_class_path="inkdex.WorkerLost", traceback="Worker stopped."
        )
    except ValidationError:
        pass


def prune_finished_tasks() -> int:
    """Delete the queue's records of tasks that finished long ago (they pile up
    otherwise: one per recognition); returns how many."""
    cutoff = timezone.now() - timedelta(days=inkdex().finished_tasks_kept_days)
    deleted, _ = DBTaskResult.objects.filter(status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=cutoff).delete()
    return deleted
