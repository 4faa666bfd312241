"""Recovery: notes whose worker died, or whose task was lost, are queued again.

Run periodically by every worker (``run_worker``) and by ``recover_notes``. A
worker that dies stops its heartbeat; after ``STALE_AFTER_SECONDS`` its note is
queued again, or failed once it used up its attempts. Safe to run from many
workers at once: every change is a conditional update, so only one of them acts
on a given note.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ..conf import inkdex
from ..models import Note, NoteStatus
from .tasks import schedule_recognition, schedule_split


def recover_stale_notes() -> list[int]:
    """Queue again every note whose worker died, and every queued note whose
    task was lost; fail those that used up their attempts. Returns their ids."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=inkdex().stale_after_seconds)
    max_attempts = inkdex().max_attempts
    recovered: list[int] = []

    for note in Note.objects.filter(status=NoteStatus.PROCESSING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    ):
        stale = Note.objects.filter(pk=note.pk, status=NoteStatus.PROCESSING, run_token=note.run_token)
        if note.attempts >= max_attempts:
            changed = stale.update(
                status=NoteStatus.FAILED,
                finished_at=now,
                error=f"The worker stopped while recognizing this note ({note.attempts} attempts). Use Reprocess to try again.",
            )
        else:
            changed = stale.update(
                status=NoteStatus.QUEUED,
                run_token="",
                queued_at=now,
                error="The worker stopped while recognizing this note; it has been queued again.",
            )
        if not changed:
            continue
        _mark_task_lost(note.task_id, now)
        if note.attempts < max_attempts:
            schedule_recognition(note.pk)
        recovered.append(note.pk)

    live_task_ids = {
        str(pk)
        for pk in DBTaskResult.objects.filter(
            Q(status="READY") | Q(status="RUNNING", started_at__gte=stale_before)
        ).values_list("pk", flat=True)
    }
    for note in Note.objects.filter(status=NoteStatus.QUEUED, queued_at__lt=stale_before).only("pk", "task_id"):
        if _normalise_task_id(note.task_id) in live_task_ids:
            continue
        if Note.objects.filter(pk=note.pk, status=NoteStatus.QUEUED, task_id=note.task_id).update(queued_at=now):
            schedule_recognition(note.pk)
            recovered.append(note.pk)
    return recovered


def recover_stale_splits() -> list[int]:
    """Queue again every PDF whose worker died while splitting it, and every one
    whose task was lost; fail those that used up their attempts. Returns their ids."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=inkdex().stale_after_seconds)
    max_attempts = inkdex().max_attempts
    recovered: list[int] = []
    splitting = Note.objects.filter(status=NoteStatus.SPLITTING)

    for note in splitting.exclude(run_token="").filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    ):
        stale = Note.objects.filter(pk=note.pk, status=NoteStatus.SPLITTING, run_token=note.run_token)
        if note.attempts >= max_attempts:
            changed = stale.update(
                status=NoteStatus.FAILED, finished_at=now, heartbeat_at=None,
                error=f"The worker stopped while splitting this PDF ({note.attempts} attempts). "
                "Use Split again to try again; the pages made so far are kept.",
            )
        else:
            changed = stale.update(
                run_token="", heartbeat_at=None, queued_at=now,
                error="The worker stopped while splitting this PDF; it has been queued again.",
            )
        if changed:
            _mark_task_lost(note.task_id, now)
            if note.attempts < max_attempts:
                schedule_split(note.pk)
            recovered.append(note.pk)

    for note in splitting.filter(run_token="", queued_at__lt=stale_before).only("pk", "task_id"):
        if _task_waiting_or_running(note.task_id, stale_before):
            continue
        if Note.objects.filter(pk=note.pk, status=NoteStatus.SPLITTING, run_token="", task_id=note.task_id).update(
            queued_at=now
        ):
            schedule_split(note.pk)
            recovered.append(note.pk)
    return recovered


def _normalise_task_id(task_id: str) -> str:
    try:
        return str(uuid.UUID(task_id))
    except (ValueError, TypeError):
        return task_id or ""


def _task_waiting_or_running(task_id: str, stale_before) -> bool:
    if not task_id:
        return False
    try:
        return DBTaskResult.objects.filter(
            Q(status="READY") | Q(status="RUNNING", started_at__gte=stale_before), pk=task_id
        ).exists()
    except ValidationError:  # not a task id at all
        return False


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
