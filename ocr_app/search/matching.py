"""Where in a note a query matched: which lines hold each of its words, and how close.

The database decides which notes match and scores them. This module reads a
matching note's document (``documents.NoteDocument``) to say which lines hold
the query's words, for the snippets on the results page and the outlines on
the photo, and how close together they sit, for ranking. It follows the
indexes' rules: words are split and folded as ``query.words_of`` does, a phrase
runs on across a line break, and the engine's other readings count as the line's.
The note's title is one more place a word may be: a clause found in the title
only counts as near every line (the title heads them all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .documents import LINE_SEPARATOR, NoteDocument
from .query import LETTER, ParsedQuery, Term, fold

_GAP = r"[\W_]+"


def _term_pattern(term: Term, expansions: dict[str, list[str]]) -> str:
    if term.is_phrase:
        words = [re.escape(word) for word in term.words]
        if term.prefix:
            words[-1] += f"{LETTER}*"
        body = _GAP.join(words)
    elif term.prefix:
        body = re.escape(term.words[0]) + f"{LETTER}*"
    else:
        word = term.words[0]
        body = "|".join(re.escape(w) for w in dict.fromkeys([word, *expansions.get(word, [])]))
    # No look-behind for the word's start: it would make the regex engine try every
    # offset of the text (20x slower); ``word_matches`` checks the start instead.
    return f"(?:{body})(?!{LETTER})"


def word_matches(pattern: re.Pattern, text: str, at: int = 0):
    """``pattern``'s matches in ``text`` that start a word (its patterns end one)."""
    while (match := pattern.search(text, at)) is not None:
        start = match.start()
        if start and text[start - 1].isalnum():
            at = start + 1  # inside a word: look again from the next letter
            continue
        yield match
        at = max(match.end(), start + 1)


def _lines_holding(pattern: re.Pattern, folded: str) -> set[int]:
    """Indexes of the lines of ``folded`` (a document's text) where ``pattern`` matches.

    (``word_matches`` written out: this runs for the lines of every note a search orders.)"""
    found: set[int] = set()
    search, at, line, counted_to = pattern.search, 0, 0, 0
    while (match := search(folded, at)) is not None:
        start, end = match.span()
        if start and folded[start - 1].isalnum():
            at = start + 1  # inside a word: look again from the next letter
            continue
        # A line's index is the number of separators before it.
        line += folded.count(LINE_SEPARATOR, counted_to, start)
        counted_to = start
        wraps = folded.count(LINE_SEPARATOR, start, end)  # a phrase running on into the next line(s)
        found.update(range(line, line + wraps + 1)) if wraps else found.add(line)
        # One match is enough for a line: go on from the next one.
        at = folded.find(LINE_SEPARATOR, end) + 1
        if not at:
            break
    return found


@dataclass(frozen=True)
class Closeness:
    """The tightest run of lines that holds every positive clause of a query."""

    span: int  # 0: all on one line; 1: on two neighbouring lines; ...
    first: int
    last: int

    # Ranking tiers: on one line, within three neighbouring lines, scattered.
    @property
    def tier(self) -> int:
        return 0 if self.span == 0 else 1 if self.span <= 2 else 2


def closeness(clause_lines: list[set[int]]) -> Closeness | None:
    """The smallest window of lines with at least one line of each clause
    (None when some clause is on no line)."""
    if not clause_lines or any(not lines for lines in clause_lines):
        return None
    events = sorted((line, clause) for clause, lines in enumerate(clause_lines) for line in lines)
    needed, counts, best = len(clause_lines), [0] * len(clause_lines), None
    covered, start = 0, 0
    for line, clause in events:
        counts[clause] += 1
        covered += counts[clause] == 1
        while covered == needed:
            first_line, first_clause = events[start]
            if best is None or line - first_line < best.span:
                best = Closeness(line - first_line, first_line, line)
            counts[first_clause] -= 1
            covered -= counts[first_clause] == 0
            start += 1
    return best


class QueryMatcher:
    """A parsed query (with the close words searched for its words), ready to
    find its clauses in note documents."""

    def __init__(self, query: ParsedQuery, expansions: dict[str, list[str]] | None = None) -> None:
        self.patterns = [
            re.compile("|".join(_term_pattern(term, expansions or {}) for term in clause.terms))
            for clause in query.positive
        ]

    def clauses_in_title(self, document: NoteDocument) -> list[bool]:
        """For each positive clause, whether the note's title holds it."""
        folded = fold(document.title)
        return [next(word_matches(pattern, folded), None) is not None for pattern in self.patterns]

    def clause_lines(self, document: NoteDocument) -> list[set[int]]:
        """For each positive clause, the indexes (in reading order) of the lines holding it."""
        found: list[set[int]] = [set() for _ in self.patterns]
        for text in (document.text, document.alternatives_text):
            if len(text) < len(document.texts):  # only separators: nothing to find
                continue
            folded = fold(text)
            for clause, pattern in enumerate(self.patterns):
                found[clause] |= _lines_holding(pattern, folded)
        return found


@dataclass(frozen=True)
class NoteHitLines:
    """Which lines of one note a query found, and which of them to show."""

    lines: frozenset[int]  # indexes of every line holding any clause
    closeness: Closeness | None  # of the clauses some line holds
    snippet: tuple[int, ...]  # at most ``limit`` line indexes, in reading order
    in_title: bool = False  # the title holds some clause
    only_in_title: bool = False  # no line holds any clause: the title holds them all

    @property
    def tier(self) -> int:
        if self.only_in_title:
            return 0
        # A note the database matched but whose words could not be placed sorts last.
        return self.closeness.tier if self.closeness else 3


def hit_lines(matcher: QueryMatcher, document: NoteDocument, limit: int = 3) -> NoteHitLines:
    by_clause = matcher.clause_lines(document)
    lines = frozenset().union(*by_clause) if by_clause else frozenset()
    titled = matcher.clauses_in_title(document) if document.title else [False] * len(by_clause)
    # How close the words sit in the lines, leaving out those only the title holds.
    by_clause = [clause for clause, in_title in zip(by_clause, titled) if clause or not in_title]
    close = closeness(by_clause)
    # The tightest window first (it shows every word), then the other hits in order.
    chosen: list[int] = []
    if close:
        chosen = [line for line in range(close.first, close.last + 1) if line in lines][:limit]
        if len(chosen) == limit and any(not (set(chosen) & clause) for clause in by_clause):
            # Too many lines in the window: one line per clause instead.
            chosen = sorted({min(clause & set(range(close.first, close.last + 1))) for clause in by_clause})[:limit]
    for line in sorted(lines):
        if len(chosen) >= limit:
            break
        if line not in chosen:
            chosen.append(line)
    return NoteHitLines(lines, close, tuple(sorted(chosen)), any(titled), not by_clause and bool(titled))
