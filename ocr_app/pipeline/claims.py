"""Claiming queued notes: which note a worker recognises next, and only one worker per note.

Each queued note has one task on the queue, but a task is a *turn* at the queue rather
than an order for its own note: the worker running it takes the note that is fairest to
take now. Otherwise one user's 2,500 pages, queued first, would be recognised before
anyone else's single note.

Fair means: the owner served longest ago goes first (an owner never served, first of
all), then that owner's note queued first. An owner is *served* when a worker claims one
of their notes (``Note.started_at``), so owners with queued notes take turns, one note
each, whatever the number of workers.

A claim is a conditional update of the note's row (``status`` still *queued*), so two
workers never hold the same note, on SQLite and PostgreSQL alike; a worker that loses
the race chooses again.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from ..models import Note, NoteStatus

# Each lost race means another worker claimed a note, so this is never reached in
# practice; it only bounds the loop.
CLAIM_TRIES = 20


def claimable_notes(now) -> QuerySet:
    """Queued notes a worker may take now (not those waiting for a retry)."""
    return Note.objects.filter(status=NoteStatus.QUEUED).filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))


def next_note_query(now) -> QuerySet:
    """The note to recognise next, as a query of at most one row (pk and task_id).

    Owners are compared one row each (a few index probes per user), not note by note,
    so the choice costs the same with 2,500 notes queued as with 3.
    """
    waiting = claimable_notes(now).filter(owner_id=OuterRef("pk"))
    last_served = (
        Note.objects.filter(owner_id=OuterRef("pk"), started_at__isnull=False)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    next_owner = (
        get_user_model()
        .objects.filter(Exists(waiting))
        .annotate(
            last_served=Subquery(last_served),
            waiting_since=Subquery(waiting.order_by("queued_at", "pk").values("queued_at")[:1]),
        )
        .order_by(F("last_served").asc(nulls_first=True), "waiting_since", "pk")
        .values("pk")[:1]
    )
    return (
        claimable_notes(now)
        .filter(owner_id=Subquery(next_owner))
        .order_by("queued_at", "pk")
        .values_list("pk", "task_id")[:1]
    )


def _take(note_id: int, *, expected_task_id: str | None, ticket: str | None, now) -> str | None:
    """Claim the note if it is still claimable; returns the new run token."""
    token = uuid.uuid4().hex
    note = claimable_notes(now).filter(pk=note_id)
    if expected_task_id is not None:
        note = note.filter(task_id=expected_task_id)
    updates = dict(
        status=NoteStatus.PROCESSING,
        run_token=token,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        retry_at=None,
    )
    if ticket:
        updates["task_id"] = ticket
    return token if note.update(**updates) else None


def claim_note(note_id: int) -> str | None:
    """Claim this very note if it is claimable; returns the run token, or None."""
    return _take(note_id, expected_task_id=None, ticket=None, now=timezone.now())


def claim_next_note(ticket: str | None = None) -> tuple[int, str] | None:
    """Claim the fairest claimable note for the task ``ticket`` (its id), if any.

    Returns ``(note id, run token)``, or None when no note is claimable. The claimed
    note now names ``ticket`` as its task; the queued note that named ``ticket`` (the
    task's own note, when another was taken) gets the claimed note's task instead, so
    every queued note keeps a task that will still run.
    """
    for _ in range(CLAIM_TRIES):
        now = timezone.now()
        # On SQLite the transaction holds the write lock from its start (IMMEDIATE), so
        # choosing and claiming are one step; on PostgreSQL a concurrent claim of the
        # same note makes the conditional update change nothing, and we choose again.
        with transaction.atomic():
            chosen = next(iter(next_note_query(now)), None)
            if chosen is None:
                return None
            note_id, task_id = chosen
            token = _take(note_id, expected_task_id=task_id, ticket=ticket, now=now)
        if token is None:
            continue
        if ticket and task_id != ticket:
            _hand_over_ticket(ticket, task_id, claimed=note_id)
        return note_id, token
    return None


def _hand_over_ticket(ticket: str, replacement: str, *, claimed: int) -> None:
    # A statement of its own, after the claim committed: one row locked at a time, so
    # two workers swapping tasks can never wait for each other. Should this be lost
    # (the worker dies now), recovery queues the note again after the stale time.
    if replacement:
        Note.objects.filter(status=NoteStatus.QUEUED, task_id=ticket).exclude(pk=claimed).update(task_id=replacement)
