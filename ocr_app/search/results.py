"""A results page: the matching notes with the lines to show of each, and where the words are in them.

The notes and lines are read by id with hand-written SQL and only what results
show: for a page of 20 notes and 60 lines, the ORM's query building and full
model instances cost more than the search itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from ..models import Line, Note, OnTheImage
from .backends.base import NoteMatch
from .documents import NoteDocument
from .highlight import Highlighter, Span
from .matching import NoteHitLines


@dataclass(frozen=True, slots=True)
class ResultLine(OnTheImage):
    """What a result shows of a line."""

    pk: int
    order: int
    text: str
    confidence: float
    x: int
    y: int
    width: int
    height: int

    @property
    def id(self) -> int:
        return self.pk


LINE_COLUMNS = ("id", "order", "text", "confidence", "x", "y", "width", "height")


@dataclass
class LineResult:
    line: ResultLine
    highlights: tuple[Span, ...] = ()  # where the query's words are in the line's text


@dataclass
class NoteResult:
    note: Note
    score: float
    fuzzy: bool
    lines: list[LineResult] = field(default_factory=list)
    match_count: int = 0  # lines holding any of the query's words
    title_highlights: tuple[Span, ...] = ()  # where the query's words are in the note's title


@dataclass(frozen=True)
class Found:
    """A note on the page as search found it."""

    match: NoteMatch
    fuzzy: bool
    document: NoteDocument
    hits: NoteHitLines

    @property
    def snippet_line_ids(self) -> list[int]:
        return [self.document.line_ids[n] for n in self.hits.snippet]


def note_results(user, found: list[Found], highlighter: Highlighter) -> list[NoteResult]:
    notes, lines = _notes_and_lines(user, [f.match.note_id for f in found],
                                    [line_id for f in found for line_id in f.snippet_line_ids])
    return [
        NoteResult(
            note=notes[f.match.note_id],
            score=f.match.score,
            fuzzy=f.fuzzy,
            lines=[LineResult(lines[i], highlighter.spans(lines[i].text)) for i in f.snippet_line_ids if i in lines],
            match_count=len(f.hits.lines),
            title_highlights=highlighter.spans(notes[f.match.note_id].title),
        )
        for f in found
        if f.match.note_id in notes  # else deleted meanwhile
    ]


# What results show of a note (the page, /search.json, the API's NoteSerializer);
# the other fields stay deferred, read only if something asks for them.
NOTE_COLUMNS = ("id", "owner_id", "title", "title_set_by_owner", "original_name", "page_number", "page_count", "source_id", "content_type", "status",
                "error", "attempts", "language", "width", "height", "uploaded_at", "finished_at", "engine_name",
                "carried_corrections", "partial_result", "unread_ink")


def _in(values: list) -> str:
    return ", ".join(["%s"] * len(values)) or "NULL"


def _notes_and_lines(user, note_ids: list[int], line_ids: list[int]) -> tuple[dict[int, Note], dict[int, ResultLine]]:
    """The notes (the user's only) and the lines to show."""
    quote = connection.ops.quote_name
    # By id, with the owner checked here: "owner_id = %s AND id IN (...)" makes
    # SQLite walk the owner's index over all their notes.
    found = Note.objects.raw(
        f"SELECT {', '.join(map(quote, NOTE_COLUMNS))} FROM {Note._meta.db_table} WHERE id IN ({_in(note_ids)})",
        note_ids,
    )
    notes = {note.pk: note for note in found if note.owner_id == user.pk}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(map(quote, LINE_COLUMNS))} FROM {Line._meta.db_table} WHERE id IN ({_in(line_ids)})",
            line_ids,
        )
        lines = {row[0]: ResultLine(*row) for row in cursor.fetchall()}
    return notes, lines
