"""The owner's own changes to a note's lines: correct, delete (and put back), add,
and type the text of a note the engine read nothing on.

Each change is recorded exactly like a reviewer's (``review._set_text`` and a
review event: who, when, before, after), so history, restore, accuracy and the
carry-over through a reprocess treat them alike. Only the note's owner reaches
these; anyone else's note is missing (``Line.DoesNotExist``/``Note.DoesNotExist``,
a 404 to the views). Typing the text of a note with nothing read is also open to
reviewers (``type_note_text`` with ``reach``): on other people's notes only while
nothing is read on them.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..models import DeletedLine, Line, Note, NoteStatus, ReviewAction, ReviewEvent
from ..search.vocabulary import forget_words, line_texts, record_words
from .learned_words import learn_from_change
from .review import ReviewError, _set_text, clean_text
from .titles import refresh_automatic_title_after_commit

MAX_TYPED_LINES = 500


def _own_line(line_id: int, owner) -> Line:
    note_id = Line.objects.filter(pk=line_id, note__owner=owner).values_list("note_id", flat=True).first()
    if note_id is None:
        raise Line.DoesNotExist
    # The note first, as a worker storing a new recognition locks it: an edit and a
    # store never interleave (the store reads the lines after the edit, or the edit
    # finds the new lines).
    Note.objects.select_for_update().filter(pk=note_id).first()
    line = Line.objects.select_for_update().select_related("note").get(pk=line_id, note_id=note_id)
    if line.note.status != NoteStatus.DONE:
        raise ReviewError("This note is being recognised; its lines will be replaced.")
    return line


def _own_done_note(note_id: int, owner) -> Note:
    note = Note.objects.select_for_update().get(pk=note_id, owner=owner)
    if note.status != NoteStatus.DONE:
        raise ReviewError("Lines can be changed once the note has been read.")
    return note


@transaction.atomic
def correct_own_line(*, line_id: int, owner, text: str) -> ReviewEvent:
    """The owner's text for one of their lines; unchanged text counts as accepted."""
    text = clean_text(text)
    if not text:
        raise ReviewError("A line cannot be empty; delete it instead.")
    line = _own_line(line_id, owner)
    action = ReviewAction.ACCEPT if text == line.text else ReviewAction.CORRECT
    return _set_text(line, owner, text, action)


@transaction.atomic
def delete_own_line(*, line_id: int, owner) -> DeletedLine:
    """Remove a line that is noise: gone from the page and from search, recorded
    so that it can be put back and a reprocess does not bring it back."""
    line = _own_line(line_id, owner)
    now = timezone.now()
    event = ReviewEvent.objects.create(
        line=line, note_id=line.note_id, line_order=line.order, reviewer=owner, action=ReviewAction.DELETE,
        old_text=line.text, new_text="", ocr_text=line.ocr_text, confidence=line.confidence,
        engine_name=line.note.engine_name, created_at=now,
    )
    record = DeletedLine.objects.create(
        note_id=line.note_id, text=line.text, ocr_text=line.ocr_text, confidence=line.confidence,
        order=line.order, x=line.x, y=line.y, width=line.width, height=line.height,
        alternatives=line.alternatives, deleted_by=owner, deleted_at=now,
        event_ids=[*line.events.exclude(pk=event.pk).values_list("pk", flat=True), event.pk],
    )
    forget_words(line.owner_id, line_texts([line]))
    line.delete()
    refresh_automatic_title_after_commit(record.note_id)
    return record


def _next_order(note_id: int) -> int:
    highest = Line.objects.filter(note_id=note_id).aggregate(highest=Max("order"))["highest"]
    return 0 if highest is None else highest + 1


@transaction.atomic
def undelete_own_line(*, deleted_id: int, owner) -> Line:
    """Put a deleted line back, with its history, where it was (or last, if that place is taken)."""
    record = DeletedLine.objects.select_for_update().select_related("note").get(pk=deleted_id, note__owner=owner)
    _own_done_note(record.note_id, owner)
    order = record.order
    if Line.objects.filter(note_id=record.note_id, order=order).exists():
        order = _next_order(record.note_id)
    now = timezone.now()
    line = Line.objects.create(
        note_id=record.note_id, owner=owner, order=order, text=record.text, ocr_text=record.ocr_text,
        confidence=record.confidence, x=record.x, y=record.y, width=record.width, height=record.height,
        alternatives=record.alternatives, reviewed_at=now, reviewed_by=owner,
    )
    ReviewEvent.objects.filter(pk__in=record.event_ids, note_id=record.note_id, line__isnull=True).update(line=line)
    ReviewEvent.objects.create(
        line=line, note_id=line.note_id, line_order=order, reviewer=owner, action=ReviewAction.UNDELETE,
        old_text="", new_text=line.text, ocr_text=line.ocr_text, confidence=line.confidence,
        engine_name=record.note.engine_name, created_at=now,
    )
    record_words(owner.pk, line_texts([line]))
    record.delete()
    refresh_automatic_title_after_commit(line.note_id)
    return line


def clean_box(note: Note, box) -> tuple[int, int, int, int]:
    """A box drawn on the photo, in the note's pixels, clipped to it; (0, 0, 0, 0) for none."""
    if not box:
        return (0, 0, 0, 0)
    try:
        x, y, width, height = (int(round(float(value))) for value in box)
    except (TypeError, ValueError, OverflowError):  # OverflowError: "inf", "1e400"
        raise ReviewError("The box must be four numbers: x, y, width and height.") from None
    x, y = min(max(x, 0), note.width), min(max(y, 0), note.height)
    width, height = min(max(width, 0), note.width - x), min(max(height, 0), note.height - y)
    if width < 2 or height < 2:
        return (0, 0, 0, 0)
    return (x, y, width, height)


def _add(note: Note, person, text: str, order: int, box=(0, 0, 0, 0), *, refresh_title: bool = True) -> Line:
    now = timezone.now()
    x, y, width, height = box
    line = Line.objects.create(
        note=note, owner_id=note.owner_id, order=order, text=text, ocr_text="", confidence=100.0,
        x=x, y=y, width=width, height=height, reviewed_at=now, reviewed_by=person,
    )
    ReviewEvent.objects.create(
        line=line, note=note, line_order=order, reviewer=person, action=ReviewAction.ADD,
        old_text="", new_text=text, ocr_text="", confidence=100.0, engine_name=note.engine_name, created_at=now,
    )
    record_words(note.owner_id, [text])
    learn_from_change(line, person, "", text, ReviewAction.ADD, was_confirmed=False)
    if refresh_title:
        refresh_automatic_title_after_commit(note.pk)
    return line


@transaction.atomic
def add_own_line(*, note_id: int, owner, text: str, box=None) -> Line:
    """A line the engine missed, typed by the owner; with a box drawn on the photo
    it sits there (and in reading order by its place), without one it comes last."""
    text = clean_text(text)
    if not text:
        raise ReviewError("Type the line's text.")
    note = _own_done_note(note_id, owner)
    box = clean_box(note, box)
    lines = list(Line.objects.filter(note=note).order_by("order"))
    order = _next_order(note.pk)
    if box[3]:
        below = [line for line in lines if line.height and line.y > box[1]]
        if below:
            order = below[0].order
            # Make room: shift the later lines down by one, last first ((note, order) is unique).
            for line in reversed([line for line in lines if line.order >= order]):
                Line.objects.filter(pk=line.pk).update(order=line.order + 1)
    return _add(note, owner, text, order, box)


def typed_lines(text: str) -> list[str]:
    """The lines of a typed text, each cleaned; blank lines dropped."""
    lines = [clean_text(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ReviewError("Type the note's text, one line per line.")
    if len(lines) > MAX_TYPED_LINES:
        raise ReviewError(f"A note can take at most {MAX_TYPED_LINES} typed lines at once.")
    return lines


@transaction.atomic
def type_note_text(*, note_id: int, person, text: str, as_reviewer: bool = False) -> list[Line]:
    """The text of a note the engine read nothing on, typed as lines (no boxes).

    The owner may do this on their own note; a reviewer (``as_reviewer``) on anyone's
    note, but only while nothing is read on it, as the review queue offers it.
    """
    lines = typed_lines(text)
    notes = Note.objects.select_for_update()
    note = notes.filter(pk=note_id).filter(owner=person).first()
    if note is None and as_reviewer:
        note = notes.filter(pk=note_id).first()
    if note is None:
        raise Note.DoesNotExist
    if note.status != NoteStatus.DONE:
        raise ReviewError("Lines can be typed once the note has been read.")
    if note.owner_id != person.pk and not Note.objects.nothing_read().filter(pk=note.pk).exists():
        raise ReviewError("This note has text now: someone typed it or it was read again.")
    first = _next_order(note.pk)
    added = [_add(note, person, line, first + index, refresh_title=False) for index, line in enumerate(lines)]
    refresh_automatic_title_after_commit(note.pk)  # once for the note, not once per line
    return added
