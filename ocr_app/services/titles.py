"""Notes' titles: chosen automatically from what was read, or given by the owner.

The automatic title is the first line read with a confidence at or above the
review threshold, else the note's file name (``Note.file_title``). It is chosen
when a note is recognised (again); a title the owner gave stays whatever is
recognised later or however the threshold changes. Renaming to nothing gives the
note its automatic title back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction

from ..models import TITLE_MAX_LENGTH, Line, Note
from ..review_rule import review_threshold
from ..search.query import composed

# Any run of whitespace or control characters (a newline, a tab, NUL) is one space:
# a title is one line of plain text.
_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


class InvalidTitle(ValueError):
    """A title the owner gave that cannot be stored; the message says why."""


def single_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def clean_title(text) -> str:
    """The title as stored: one line, trimmed. Blank means "choose it automatically"."""
    if not isinstance(text, str):
        raise InvalidTitle("A title must be text.")
    # The length as sent: what the page's field and the API's schema allow.
    if len(text) > TITLE_MAX_LENGTH:
        raise InvalidTitle(f"A title can be at most {TITLE_MAX_LENGTH} characters long; this one has {len(text)}.")
    return composed(single_line(text))


def choose_title(lines: Iterable[tuple[str, float]], file_title: str, threshold: float) -> str:
    """The automatic title from (text, confidence) pairs in reading order."""
    for text, confidence in lines:
        text = single_line(text)
        if text and confidence >= threshold:
            return _shortened(text)
    return _shortened(single_line(file_title))


def _shortened(text: str) -> str:
    if len(text) <= TITLE_MAX_LENGTH:
        return text
    return text[: TITLE_MAX_LENGTH - 1].rstrip() + "…"


def automatic_title(note: Note, lines: Iterable[Line] | None = None) -> str:
    """A line a person corrected, accepted or typed counts as sure, whatever the engine's confidence."""
    lines = note.lines.order_by("order") if lines is None else lines
    sure = ((line.text, 100.0 if line.reviewed_at else line.confidence) for line in lines)
    return choose_title(sure, note.file_title, review_threshold())


def refresh_automatic_title_after_commit(note_id: int) -> None:
    """After a person changed a line: the automatic title from the lines as they are now.

    Run once the change is committed, on its own: a reviewer's action holds the line's
    lock, and taking the note's lock after it could deadlock with a worker storing a
    recognition (which locks the note, then its lines).
    """

    def refresh() -> None:
        note = Note.objects.filter(pk=note_id, title_set_by_owner=False).first()
        if note is not None:
            update_automatic_title(note, note.lines.order_by("order"))

    transaction.on_commit(refresh)


def update_automatic_title(note: Note, lines: Iterable[Line]) -> None:
    """After recognition: the automatic title from the new lines, unless the owner gave one."""
    title = automatic_title(note, lines)
    if Note.objects.filter(pk=note.pk, title_set_by_owner=False).update(title=title):
        note.title = title


def imported_title(record: dict, file_title: str) -> tuple[str, bool]:
    """The title (and whether the owner gave it) of a note in an export's description;
    an export from before notes had titles gets the automatic one from its lines."""
    title = record.get("title")
    if isinstance(title, str) and single_line(title):
        return _shortened(single_line(title)), bool(record.get("title_set_by_owner"))
    lines = sorted(record.get("lines") or [], key=lambda line: line["order"])
    return choose_title(((line["text"], float(line["confidence"])) for line in lines), file_title,
                        review_threshold()), False


def rename_note(*, note: Note, text) -> Note:
    """The owner renames ``note``; blank gives it back its automatic title.

    Raises InvalidTitle with a message for the owner.
    """
    title = clean_title(text)
    with transaction.atomic():
        # Locked, so a recognition finishing meanwhile cannot put back an automatic title.
        note = Note.objects.select_for_update().get(pk=note.pk)
        note.title_set_by_owner = bool(title)
        note.title = title or automatic_title(note)
        Note.objects.filter(pk=note.pk).update(title=note.title, title_set_by_owner=note.title_set_by_owner)
    return note
