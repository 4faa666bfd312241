"""Searching a user's notes: one interface over a full-text backend per database.

Exact matches come first, ranked by the database (bm25 on SQLite, ts_rank on
PostgreSQL); when they do not fill the page, words the user's vocabulary holds
within a small edit distance of the query words are searched too, and those
notes follow, marked as approximate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.utils.safestring import SafeString

from ..models import Line, Note
from .backends import LineMatch, backend_for
from .backends.base import Filters
from .highlight import highlight, matched_word_boxes
from .query import ParsedQuery, parse
from .vocabulary import close_words, suggest_words

__all__ = ["Filters", "NoteResult", "SearchResults", "parse", "search_notes", "lines_matching", "suggest"]

SNIPPET_LINES = 3
# The page number sizes the database query; nobody reads 20 000 results.
MAX_PAGE = 1000


@dataclass
class LineResult:
    line: Line
    html: SafeString


@dataclass
class NoteResult:
    note: Note
    score: float
    fuzzy: bool
    lines: list[LineResult] = field(default_factory=list)
    match_count: int = 0


@dataclass
class SearchResults:
    query: str
    parsed: ParsedQuery
    notes: list[NoteResult]
    expansions: dict[str, list[str]]
    page: int
    has_next: bool

    @property
    def words(self) -> set[str]:
        return self.parsed.highlight_words() | {w for ws in self.expansions.values() for w in ws}


def _group_by_note(matches: list[LineMatch]) -> dict[int, list[LineMatch]]:
    groups: dict[int, list[LineMatch]] = {}
    for match in matches:  # already best first
        groups.setdefault(match.note_id, []).append(match)
    return groups


def search_notes(
    user,
    text: str,
    *,
    filters: Filters = Filters(),
    page: int = 1,
    per_page: int = 20,
) -> SearchResults:
    """The user's notes matching ``text``, best first, with highlighted lines."""
    parsed = parse(text)
    page = min(max(1, page), MAX_PAGE)
    if parsed.is_empty:
        return SearchResults(text, parsed, [], {}, page, False)
    backend = backend_for(connection)
    wanted = page * per_page + 1
    line_limit = max(200, wanted * 10)

    exact = _group_by_note(
        backend.match_lines(connection, owner_id=user.pk, query=parsed, filters=filters, limit=line_limit)
    )
    ranked: list[tuple[int, list[LineMatch], bool]] = [(note_id, m, False) for note_id, m in exact.items()]
    expansions: dict[str, list[str]] = {}
    if len(ranked) < wanted:
        single_words = [t.words[0] for c in parsed.positive for t in c.terms if not t.is_phrase and not t.prefix]
        expansions = close_words(user.pk, single_words)
        if expansions:
            approximate = _group_by_note(
                backend.match_lines(
                    connection, owner_id=user.pk, query=parsed, expansions=expansions, filters=filters, limit=line_limit
                )
            )
            ranked += [(note_id, m, True) for note_id, m in approximate.items() if note_id not in exact]

    start = (page - 1) * per_page
    page_items = ranked[start : start + per_page]
    notes = Note.objects.owned_by(user).in_bulk([note_id for note_id, _, _ in page_items])
    snippet_ids = [m.line_id for _, matches, _ in page_items for m in matches[:SNIPPET_LINES]]
    lines = Line.objects.in_bulk(snippet_ids)
    words = parsed.highlight_words() | {w for ws in expansions.values() for w in ws}
    prefixes = parsed.highlight_prefixes()
    results = []
    for note_id, matches, fuzzy in page_items:
        if note_id not in notes:
            continue
        snippet = [lines[m.line_id] for m in matches[:SNIPPET_LINES] if m.line_id in lines]
        snippet.sort(key=lambda line: line.order)
        results.append(
            NoteResult(
                note=notes[note_id],
                score=matches[0].score,
                fuzzy=fuzzy,
                lines=[LineResult(line, highlight(line.text, words, prefixes)) for line in snippet],
                match_count=len(matches),
            )
        )
    return SearchResults(text, parsed, results, expansions, page, len(ranked) > start + per_page)


@dataclass
class NoteHits:
    """Which lines of one note a query matched, and where on the image."""

    line_ids: set[int]
    words: set[str]
    prefixes: set[str]

    def html(self, line: Line) -> SafeString:
        return highlight(line.text, self.words, self.prefixes)

    def word_boxes(self, line: Line) -> list[dict]:
        return matched_word_boxes(line.words, self.words, self.prefixes)


def lines_matching(note: Note, text: str) -> NoteHits:
    """The lines of ``note`` that ``text`` finds, exactly or approximately."""
    parsed = parse(text)
    if parsed.is_empty:
        return NoteHits(set(), set(), set())
    backend = backend_for(connection)
    single_words = [t.words[0] for c in parsed.positive for t in c.terms if not t.is_phrase and not t.prefix]
    expansions = close_words(note.owner_id, single_words)
    matches = backend.match_lines(
        connection, owner_id=note.owner_id, query=parsed, expansions=expansions,
        filters=Filters(note_id=note.pk), limit=1000,
    )
    words = parsed.highlight_words() | {w for ws in expansions.values() for w in ws}
    return NoteHits({m.line_id for m in matches}, words, parsed.highlight_prefixes())


def suggest(user, prefix: str, limit: int = 8) -> list[str]:
    return suggest_words(user.pk, prefix, limit)
