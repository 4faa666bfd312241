"""Searching a user's notes: one interface over a full-text backend per database.

A note matches when each of the query's words (or phrases, prefixes, OR-groups)
occurs anywhere in it: in any of its lines, or in the engine's other readings
of them. An excluded word hides a note whose lines' text holds it anywhere.

Ranking by relevance, in three steps:

1. The database lists the matching notes newest first and scores the first
   ``RANKING_WINDOW`` of them (bm25 on SQLite, ts_rank on PostgreSQL). Scoring
   every match of a common word would mean scoring nearly every note before the
   first page could be cut; the notes beyond the window follow, newest first.
2. The best ``CLOSENESS_DEPTH`` of those are ordered by how close the query's
   words sit: all on one line, on neighbouring lines, or scattered; then by score.
3. When the exact matches do not fill the page, the user's words within a small
   edit distance of the query's words are searched too, and the notes found only
   that way follow, marked as approximate.

Sorted by date, exact matches come newest first, then approximate ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from ..models import Line, Note, NoteTag
from ..services.tags import tag_names_of
from .backends import backend_for
from .backends.base import UPLOADED, Filters, NoteMatch, SearchBackend
from .documents import NoteDocument
from .highlight import Highlighter, Span
from .matching import NoteHitLines, QueryMatcher, hit_lines
from .query import ParsedQuery, parse
from .results import Found, LineResult, NoteResult, ResultLine, note_results
from .vocabulary import close_words, suggest_words

__all__ = ["Filters", "LineResult", "NoteResult", "ResultLine", "SearchResults", "parse", "search_notes",
           "lines_matching", "suggest"]

RANKING_WINDOW = 500
CLOSENESS_DEPTH = 30
SNIPPET_LINES = 3
# The page number sizes the database query; nobody reads 20 000 results.
MAX_PAGE = 1000


RELEVANCE = "relevance"
DATE = "date"
SORTS = (RELEVANCE, DATE)


@dataclass
class SearchResults:
    query: str
    parsed: ParsedQuery
    notes: list[NoteResult]
    expansions: dict[str, list[str]]
    page: int
    has_next: bool
    sort: str = RELEVANCE
    count: int = 0  # notes matching exactly, counted up to RANKING_WINDOW
    count_capped: bool = False  # the window is full: ``count`` notes or more match
    approximate_count: int | None = None  # looked up only when the exact ones do not fill the page


@dataclass
class _Tier:
    """The notes one query (exact, or with close words) found, in result order."""

    matches: list[NoteMatch]
    count: int
    capped: bool
    fuzzy: bool
    matcher: QueryMatcher
    documents: dict[int, NoteDocument] = field(default_factory=dict)
    hits: dict[int, NoteHitLines] = field(default_factory=dict)


def _fuzzy_words(parsed: ParsedQuery) -> list[str]:
    return [t.words[0] for c in parsed.positive for t in c.terms if not t.is_phrase and not t.prefix]


def _tier(backend: SearchBackend, owner_id: int, parsed: ParsedQuery, *, expansions, filters: Filters, sort: str,
          wanted: int, exclude: set[int] = frozenset()) -> _Tier:
    """The notes ``parsed`` finds (minus ``exclude``), in result order as far as
    the first ``wanted``, and how many match (within the ranking window)."""
    search = dict(owner_id=owner_id, query=parsed, expansions=expansions, filters=filters)
    tier = _Tier([], 0, False, bool(expansions), QueryMatcher(parsed, expansions))
    window = RANKING_WINDOW + len(exclude)
    if sort == DATE:
        tier.count = backend.count_notes(connection, **search, limit=window)
        listed = backend.match_notes(connection, **search, order=UPLOADED, limit=wanted + len(exclude))
        tier.matches = [NoteMatch(note_id, 0.0) for note_id in listed if note_id not in exclude]
    else:
        # Closeness only matters between several clauses; otherwise the page's are enough.
        depth = max(wanted, CLOSENESS_DEPTH if len(parsed.positive) > 1 else 0) + len(exclude)
        best = backend.rank_notes(connection, **search, window=window, limit=depth)
        tier.count, tier.documents = best.count, best.documents
        ranked = [m for m in best.matches if m.note_id not in exclude]
        if len(parsed.positive) > 1 and ranked:
            head = ranked[:CLOSENESS_DEPTH]
            tier.hits = {
                m.note_id: hit_lines(tier.matcher, tier.documents[m.note_id], SNIPPET_LINES)
                for m in head if m.note_id in tier.documents
            }
            head.sort(key=lambda m: _closeness_key(tier.hits.get(m.note_id), m))
            ranked[: len(head)] = head
        if tier.count >= window and wanted > len(ranked):
            # Past the window: the older matches, newest first.
            older = backend.match_notes(connection, **search, limit=wanted - len(ranked), offset=window)
            ranked += [NoteMatch(note_id, 0.0) for note_id in older if note_id not in exclude]
        tier.matches = ranked
    tier.capped = tier.count >= window
    tier.count -= len(exclude)  # every excluded note (an exact match) matches the expanded query too
    return tier


def _closeness_key(hits: NoteHitLines | None, match: NoteMatch) -> tuple:
    """Words closer together first; as close, a note whose title holds some of them; then by score."""
    if hits is None:
        return (3, True, -match.score, -match.note_id)
    return (hits.tier, not hits.in_title, -match.score, -match.note_id)


def _page(backend, user, listed: list[tuple[NoteMatch, _Tier]], tiers: list[_Tier], parsed,
          expansions) -> list[NoteResult]:
    """The page's notes with the lines to show of each, and where the words are in them."""
    documents: dict[int, NoteDocument] = {}
    for tier in tiers:
        documents.update(tier.documents)
    documents.update(backend.documents(connection, [m.note_id for m, _ in listed if m.note_id not in documents]))
    found = [
        Found(match, tier.fuzzy, documents[match.note_id],
              tier.hits.get(match.note_id) or hit_lines(tier.matcher, documents[match.note_id], SNIPPET_LINES))
        for match, tier in listed
        if match.note_id in documents  # else deleted meanwhile
    ]
    return note_results(user, found, _highlighter(parsed, expansions))


def _highlighter(parsed: ParsedQuery, expansions: dict[str, list[str]]) -> Highlighter:
    """Marks the query's words, the close words searched for them, and its word beginnings."""
    return Highlighter(parsed.highlight_words() | {w for ws in expansions.values() for w in ws},
                       parsed.highlight_prefixes())


def search_notes(
    user,
    text: str,
    *,
    filters: Filters = Filters(),
    page: int = 1,
    per_page: int = 20,
    sort: str = RELEVANCE,
) -> SearchResults:
    """The user's notes matching ``text``, best (or newest) first, with their matching lines and where the words are."""
    parsed = parse(text)
    page = min(max(1, page), MAX_PAGE)
    sort = sort if sort in SORTS else RELEVANCE
    filters = filters.with_tags(parsed.tags, parsed.excluded_tags)
    if parsed.is_empty:
        if filters.has_tags:
            return tagged_notes(user, text, parsed, filters=filters, page=page, per_page=per_page)
        return SearchResults(text, parsed, [], {}, page, False, sort)
    backend = backend_for(connection)
    wanted = page * per_page + 1  # one more than the page tells whether a next page exists
    options = dict(filters=filters, sort=sort)
    tiers = [_tier(backend, user.pk, parsed, expansions=None, wanted=wanted, **options)]
    exact = tiers[0]
    expansions: dict[str, list[str]] = {}
    approximate_count = None
    if not exact.capped and len(exact.matches) < wanted:
        expansions = close_words(user.pk, _fuzzy_words(parsed))
        approximate_count = 0
        if expansions:
            found = {m.note_id for m in exact.matches}
            tiers.append(_tier(backend, user.pk, parsed, expansions=expansions, wanted=wanted - len(found),
                               exclude=found, **options))
            approximate_count = tiers[1].count
    listed = [(match, tier) for tier in tiers for match in tier.matches]
    start = (page - 1) * per_page
    return SearchResults(
        text, parsed, _with_tag_names(_page(backend, user, listed[start : start + per_page], tiers, parsed, expansions)),
        expansions, page, len(listed) > start + per_page, sort, exact.count, exact.capped, approximate_count,
    )


def _with_tag_names(results: list[NoteResult]) -> list[NoteResult]:
    """Each result's note gets ``tag_names`` (one query for the page)."""
    names = tag_names_of(r.note.pk for r in results)
    for result in results:
        result.note.tag_names = names.get(result.note.pk, [])
    return results


def tagged_notes(user, text: str, parsed: ParsedQuery, *, filters: Filters, page: int, per_page: int) -> SearchResults:
    """A query of tag terms only (or none, with a tag filter): the notes with
    those tags, newest first, whatever their lines (a note still being read too)."""
    notes = filtered_notes(Note.objects.owned_by(user).listed(), filters)
    start = (page - 1) * per_page
    listed = list(notes.order_by("-uploaded_at", "-pk")[start : start + per_page + 1])
    count = notes.count()
    results = _with_tag_names(
        [NoteResult(note=note, score=0.0, fuzzy=False) for note in listed[:per_page]]
    )
    return SearchResults(text, parsed, results, {}, page, len(listed) > per_page, DATE, count)


def filtered_notes(notes, filters: Filters):
    """``notes`` narrowed by ``filters``, as the backends narrow matches (for lists without words)."""
    if filters.needs_review is not None:
        flagged = Line.objects.filter(needs_review=True).values("note_id")
        notes = notes.filter(pk__in=flagged) if filters.needs_review else notes.exclude(pk__in=flagged)
    if filters.uploaded_from:
        notes = notes.filter(uploaded_at__gte=filters.uploaded_from)
    if filters.uploaded_before:
        notes = notes.filter(uploaded_at__lt=filters.uploaded_before)
    for key in filters.tags:
        notes = notes.filter(pk__in=NoteTag.objects.filter(tag__key=key).values("note_id"))
    for key in filters.without_tags:
        notes = notes.exclude(pk__in=NoteTag.objects.filter(tag__key=key).values("note_id"))
    return notes


@dataclass
class NoteHits:
    """Which lines of one note a query matched, and where on the image."""

    line_ids: set[int]
    highlighter: Highlighter

    def highlights(self, line: Line) -> tuple[Span, ...]:
        return self.highlighter.spans(line.text)

    def word_boxes(self, line: Line) -> list[dict]:
        return self.highlighter.word_boxes(line.words)


def lines_matching(note: Note, text: str, lines: list[Line] | None = None) -> NoteHits:
    """The lines of ``note`` holding any of the words ``text`` looks for, exactly
    or approximately (``lines``: the note's lines in reading order, if at hand)."""
    parsed = parse(text)
    if parsed.is_empty:
        return NoteHits(set(), Highlighter(set()))
    lines = list(note.lines.all()) if lines is None else lines
    expansions = close_words(note.owner_id, _fuzzy_words(parsed))
    document = NoteDocument.from_lines(note.pk, lines, note.title)
    found = hit_lines(QueryMatcher(parsed, expansions), document)
    return NoteHits({document.line_ids[n] for n in found.lines}, _highlighter(parsed, expansions))


def suggest(user, prefix: str, limit: int = 8) -> list[str]:
    return suggest_words(user.pk, prefix, limit)
