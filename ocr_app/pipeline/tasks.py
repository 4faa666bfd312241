"""The worker's tasks, and putting notes on the queue for them.

The tasks only call the pipeline's modules; the logic lives there. A run to be
tried again says when (``runs.Run``), and the task that ran it queues the retry
here: nothing the tasks call imports this module.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

try:  # Django 6 ships the Tasks API; on 5.2 it comes from the django-tasks backport.
    from django.tasks import task
except ImportError:
    from django_tasks import task

from ..models import Note, NoteStatus
from .pdf_splitting import split_pdf
from .recognition import recognize_next_note


@task(queue_name="ocr", takes_context=True)
def recognize_note_task(context, note_id: int) -> dict:
    # Queued for ``note_id``, it recognises the fairest queued note, which may be another
    # (``claims``); the result says which.
    run = recognize_next_note(str(context.task_result.id))
    if run.retry_at is not None:
        schedule_recognition(run.note_id, run_after=run.retry_at)
    return {"note": run.note_id, "outcome": run.outcome}


@task(queue_name="ocr")
def split_pdf_task(note_id: int) -> str:
    run = split_pdf(note_id)
    if run.retry_at is not None:
        schedule_split(note_id, run_after=run.retry_at)
    return run.outcome


# --- scheduling -------------------------------------------------------------------


def schedule_recognition(note_id: int, *, run_after: datetime | None = None) -> str:
    """Put a recognition task for the note on the queue; returns the task id.

    The worker that runs it recognises the fairest queued note (``claims``), which
    is this one or another; either way the queue holds a task per queued note.
    """
    return _enqueue(recognize_note_task, note_id, run_after)


def schedule_split(note_id: int, *, run_after: datetime | None = None) -> str:
    """Put a task splitting the PDF on the queue; returns the task id."""
    return _enqueue(split_pdf_task, note_id, run_after)


def _enqueue(queued_task, note_id: int, run_after: datetime | None) -> str:
    if run_after is not None:
        queued_task = queued_task.using(run_after=run_after)
    result = queued_task.enqueue(note_id)
    # The note names its task, so that recovery can tell a lost one.
    Note.objects.filter(pk=note_id).update(task_id=str(result.id))
    return str(result.id)


def request_recognition(note: Note, *, engine: str | None = None, language: str | None = None) -> None:
    """Queue the note for (re)recognition from scratch; any run in progress loses its claim."""
    with transaction.atomic():
        updates = dict(
            status=NoteStatus.QUEUED,
            attempts=0,
            error="",
            run_token="",
            queued_at=timezone.now(),
            retry_at=None,
            requested_engine=engine or "",
        )
        if language:
            updates["language"] = language
        Note.objects.filter(pk=note.pk).update(**updates)
        transaction.on_commit(lambda: schedule_recognition(note.pk))
    note.refresh_from_db()


def request_split(note: Note) -> None:
    """Split the PDF again (after a failure): the pages it has are kept, the
    missing ones are made."""
    with transaction.atomic():
        Note.objects.filter(pk=note.pk).update(
            status=NoteStatus.SPLITTING, attempts=0, error="", run_token="", heartbeat_at=None, queued_at=timezone.now()
        )
        transaction.on_commit(lambda: schedule_split(note.pk))
    note.refresh_from_db()
