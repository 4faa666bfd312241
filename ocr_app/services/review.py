"""The review queue: reviewers check the lines the engine was unsure of.

Who may review: accounts with the ``ocr_app.review_line`` permission (the views
check it). Which lines an action may touch (checked here, under the line's lock):
on someone else's note only a line waiting for review or held by the reviewer,
and, to undo, a line whose last change is the reviewer's; never a line of a note
being recognised. On their own notes an owner is not limited. The admin's line
editor, behind the admin's own change permission, reaches any line of a
finished note.

Every action changes the line, its search index (triggers or a generated column,
in the same transaction), the user's vocabulary and learned words
(``learned_words``), and writes a review event; all in one transaction. Reviewers claim a line before they see it, and a claim
expires, so two reviewers never work on the same line and none is lost when a
reviewer walks away.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.db import transaction
from django.db.models import Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from ..conf import inkdex
from ..images import crop_jpeg, open_upright_rgb
from ..models import Line, Note, NoteStatus, ReviewAction, ReviewEvent
from ..search.query import composed
from ..search.vocabulary import forget_words, record_words
from .learned_words import learn_from_change
from .titles import refresh_automatic_title_after_commit

MAX_LINE_LENGTH = 2000
REVIEW_PERMISSION = "ocr_app.review_line"


class ReviewError(Exception):
    """An action that cannot be done, with a message for the reviewer."""


class Reach(Enum):
    """Which lines of other people's notes an action may touch."""

    # The review pages: lines waiting for review, or held by the reviewer.
    QUEUE = "queue"
    # History and restore: those, and the lines whose last change is the reviewer's.
    UNDO = "undo"
    # The admin's line editor: any line of a finished note.
    ADMIN = "admin"


def may_review(user) -> bool:
    """Whether ``user`` may use the review pages at all (inactive accounts have no permissions)."""
    return user.is_authenticated and user.has_perm(REVIEW_PERMISSION)


def claim_seconds() -> float:
    return inkdex().review_claim_seconds


def _waiting() -> Q:
    # The flag set when the line was read (``review_rule``), as the notes list and the API show it.
    return Q(needs_review=True, reviewed_at__isnull=True, note__status=NoteStatus.DONE)


def _within(reach: Reach, reviewer, now: datetime) -> Q:
    """The lines an action of ``reviewer`` may touch (see the module's docstring)."""
    finished = Q(note__status=NoteStatus.DONE)
    if reach is Reach.ADMIN:
        others = finished
    else:
        others = _waiting() | (finished & Q(claimed_by=reviewer, claimed_until__gt=now))
        if reach is Reach.UNDO:
            # ``reviewed_by`` is whoever made the line's last change (every action sets it).
            others |= finished & Q(reviewed_by=reviewer)
    # The owner is not limited on their own notes, except while a note is being
    # recognised (its lines are about to be replaced), as for everyone.
    return Q(note__owner=reviewer, note__status=NoteStatus.DONE) | others


def lines_open_to(*, reviewer, reach: Reach = Reach.UNDO) -> QuerySet[Line]:
    """Lines ``reviewer`` may look at (crop, history): by default those they may review or undo."""
    return Line.objects.filter(_within(reach, reviewer, timezone.now()))


def pending_lines() -> QuerySet[Line]:
    """Lines waiting for a reviewer: a note's lines together and in reading order,
    the notes whose least sure line is least sure first."""
    waiting = Line.objects.filter(_waiting())
    # Over all the note's lines, so the order stays put while a note is being reviewed.
    least_sure = (
        Line.objects.filter(note=OuterRef("note")).order_by().values("note").annotate(least=Min("confidence")).values("least")
    )
    return waiting.annotate(note_least_sure=Subquery(least_sure)).order_by("note_least_sure", "note_id", "order")


def _free_for(reviewer, now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now) | Q(claimed_by=reviewer)


def claim_next_line(reviewer, *, skipped: Collection[int] = ()) -> Line | None:
    """The next line for ``reviewer``, claimed for them; None when the queue is empty.

    A line the reviewer already holds comes back first (a page reload must not
    move on). Claiming is a conditional update, so of two reviewers racing for a
    line exactly one gets it and the other takes the next.
    """
    now = timezone.now()
    held = pending_lines().filter(claimed_by=reviewer, claimed_until__gt=now).exclude(pk__in=skipped).first()
    if held is not None:
        return _with_note(held.pk)
    for _ in range(20):
        candidates = list(
            pending_lines().filter(_free_for(reviewer, now)).exclude(pk__in=skipped).values_list("pk", flat=True)[:10]
        )
        if not candidates:
            return None
        for line_id in candidates:
            claimed = (
                Line.objects.filter(pk=line_id, reviewed_at__isnull=True)
                .filter(_free_for(reviewer, now))
                .update(claimed_by=reviewer, claimed_until=now + timedelta(seconds=claim_seconds()))
            )
            if claimed:
                release_claims(reviewer, keep=line_id)
                return _with_note(line_id)
        now = timezone.now()
    return None


def _with_note(line_id: int) -> Line:
    return Line.objects.select_related("note", "note__owner").get(pk=line_id)


def release_claims(reviewer, *, keep: int | None = None) -> None:
    Line.objects.filter(claimed_by=reviewer).exclude(pk=keep).update(claimed_by=None, claimed_until=None)


def skip_line(*, line_id: int, reviewer) -> None:
    """Leave the line for someone else (or for later); nothing about it changes."""
    Line.objects.filter(pk=line_id, claimed_by=reviewer).update(claimed_by=None, claimed_until=None)


def refusal(*, line_id: int, reviewer, reach: Reach) -> str | None:
    """Why ``reviewer`` may not change the line now, in words for them; None when they may.

    Also for forms that want to say so before saving; the actions ask again under
    the line's lock.
    """
    now = timezone.now()
    line = Line.objects.select_related("note").filter(pk=line_id).first()
    if line is None:
        return "This line no longer exists (its note was reprocessed or deleted)."
    if not Line.objects.filter(pk=line_id).filter(_within(reach, reviewer, now)).exists():
        if line.note.status != NoteStatus.DONE:
            return "This line's note is being recognised; its lines will be replaced."
        return "This line is not waiting for review (it was reviewed already, or read with confidence)."
    if line.claimed_by_id not in (None, reviewer.pk) and line.claimed_until and line.claimed_until > now:
        return "Another reviewer is working on this line."
    return None


def _locked_line(line_id: int, reviewer, reach: Reach) -> Line:
    line = Line.objects.select_for_update().select_related("note").filter(pk=line_id).first()
    reason = refusal(line_id=line_id, reviewer=reviewer, reach=reach)
    if reason is not None:
        raise ReviewError(reason)
    return line


def _set_text(line: Line, reviewer, text: str, action: str, *, refresh_title: bool = True) -> ReviewEvent:
    old_text = line.text
    if text != old_text:
        forget_words(line.owner_id, [old_text])
        record_words(line.owner_id, [text])
    # A person confirmed this text: its words teach the reader (the owner's word list).
    learn_from_change(line, reviewer, old_text, text, action, was_confirmed=line.reviewed_at is not None)
    line.text = text
    line.needs_review = False
    line.reviewed_at = timezone.now()
    line.reviewed_by = reviewer
    line.claimed_by = None
    line.claimed_until = None
    line.save(update_fields=["text", "needs_review", "reviewed_at", "reviewed_by", "claimed_by", "claimed_until"])
    if refresh_title:
        refresh_automatic_title_after_commit(line.note_id)
    return ReviewEvent.objects.create(
        line=line,
        note_id=line.note_id,
        line_order=line.order,
        reviewer=reviewer,
        action=action,
        old_text=old_text,
        new_text=text,
        ocr_text=line.ocr_text,
        confidence=line.confidence,
        engine_name=line.note.engine_name,
        created_at=line.reviewed_at,
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_text(text: str) -> str:
    # Control characters (a NUL, which PostgreSQL cannot store, among them) are spaces.
    text = composed(" ".join(_CONTROL.sub(" ", text).split()))
    if len(text) > MAX_LINE_LENGTH:
        raise ReviewError(f"A line can hold at most {MAX_LINE_LENGTH} characters.")
    return text


@transaction.atomic
def accept_line(*, line_id: int, reviewer, reach: Reach = Reach.QUEUE) -> ReviewEvent:
    """The engine read the line right."""
    line = _locked_line(line_id, reviewer, reach)
    return _set_text(line, reviewer, line.text, ReviewAction.ACCEPT)


@transaction.atomic
def correct_line(*, line_id: int, reviewer, text: str, reach: Reach = Reach.QUEUE) -> ReviewEvent:
    """Replace the line's text with the reviewer's; unchanged text counts as accepted."""
    text = clean_text(text)
    line = _locked_line(line_id, reviewer, reach)
    action = ReviewAction.ACCEPT if text == line.text else ReviewAction.CORRECT
    return _set_text(line, reviewer, text, action)


@transaction.atomic
def accept_rest_of_note(*, line_id: int, reviewer) -> int:
    """Accept this line and every other waiting line of its note; returns how many."""
    note_id = _locked_line(line_id, reviewer, Reach.QUEUE).note_id
    now = timezone.now()
    accepted = 0
    for line in pending_lines().filter(note_id=note_id).filter(_free_for(reviewer, now)).select_for_update(of=("self",)):
        _set_text(line, reviewer, line.text, ReviewAction.ACCEPT, refresh_title=False)
        accepted += 1
    refresh_automatic_title_after_commit(note_id)  # once for the note, not once per line
    return accepted


def earlier_texts(line: Line) -> list[str]:
    """Texts the line held before, the engine's first; what ``restore_text`` accepts."""
    texts = [line.ocr_text]
    for event in line.events.order_by("created_at", "pk"):
        texts += [event.old_text, event.new_text]
    seen: dict[str, None] = {}
    for text in texts:
        # Empty texts (before a line was added or typed) are not a text to go back to.
        if text and text != line.text:
            seen.setdefault(text)
    return list(seen)


@transaction.atomic
def restore_text(*, line_id: int, reviewer, text: str) -> ReviewEvent:
    """Put back a text the line held earlier: the reviewer's undo."""
    line = _locked_line(line_id, reviewer, Reach.UNDO)
    if not text or text not in earlier_texts(line):
        raise ReviewError("That text is not in this line's history.")
    return _set_text(line, reviewer, text, ReviewAction.RESTORE)


@dataclass(frozen=True)
class QueueCounts:
    waiting: int
    done_today: int
    done_today_by_reviewer: int


def queue_counts(reviewer) -> QueueCounts:
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = ReviewEvent.objects.filter(created_at__gte=start_of_day)
    return QueueCounts(
        waiting=pending_lines().count(),
        done_today=today.count(),
        done_today_by_reviewer=today.filter(reviewer=reviewer).count(),
    )


def line_crop(line: Line) -> bytes:
    """The line's region of its note's image with some room around it, as JPEG.

    Cut from the upright preview when there is one (quick to decode, sharp
    enough to read a line), else from the stored original.
    """
    note = line.note
    image = _upright_photo(note)
    scale = image.width / note.width
    box = tuple(round(value * scale) for value in (line.x, line.y, line.width, line.height))
    return crop_jpeg(image, box, margin=max(12, round(box[3] * 0.6)))


# --- whole notes the engine read nothing on -----------------------------------------------
# The queue offers them after the lines: a reviewer types the text as lines
# (``owner_edits.type_note_text``). On other people's notes only while nothing is read.


def nothing_read_notes(reviewer) -> QuerySet[Note]:
    """Notes waiting for someone to type their text, oldest first."""
    return Note.objects.nothing_read().select_related("owner").order_by("finished_at", "pk")


def next_nothing_read_note(reviewer, *, skipped: Collection[int] = ()) -> Note | None:
    return nothing_read_notes(reviewer).exclude(pk__in=skipped).first()


def note_preview(note: Note) -> bytes:
    """The whole photo of a note, upright and small enough to read from, as JPEG."""
    image = _upright_photo(note)
    return crop_jpeg(image, (0, 0, image.width, image.height), margin=0)


def _upright_photo(note: Note):
    """The upright preview when there is one (quick to decode), else the stored original."""
    stored = note.preview if note.preview.name else note.image
    with stored.open("rb") as handle:
        return open_upright_rgb(handle)
