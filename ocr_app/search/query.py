"""The query language people type into the search box, parsed once for every backend.

    milk eggs          both words (AND)
    "call the plumber" the exact phrase
    plumb*             words starting with "plumb"
    -coffee            lines without "coffee"
    milk OR cream      either word
    tag:work           notes tagged "work" (tag:"to do" for a tag with spaces)
    -tag:work          notes not tagged "work"

Tag terms are filters, not words: a query of tag terms only lists the tagged notes.

Words are split and folded exactly as the database indexes split and fold line
text (letters and digits; everything else separates), so a query word always
means the same thing on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..tag_names import tag_key

MAX_TERMS = 12
MAX_WORD_LENGTH = 64

# One letter of a word: a letter or digit of any script ("_" separates words, as in both indexes).
LETTER = r"[^\W_]"
_WORD = re.compile(f"{LETTER}+")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# tag:word, tag:"two words", -tag:...; an unclosed quote runs to the end.
_TAG = re.compile(r'(?<!\S)(-?)tag:(?:"([^"]*)"?|([^\s"]+))', re.IGNORECASE)


def composed(text: str) -> str:
    """``text`` with its accents composed (NFC), as Inkdex stores every line's and
    title's text and compares words: an "é" typed as "e" and an accent is one "é"."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """A text as words are compared: composed, case-folded ("Straße" and "STRASSE" are one word)."""
    return composed(text).casefold()


def words_of(text: str) -> list[str]:
    """Index words of a text: runs of letters/digits, case-folded (as both indexes do)."""
    return [w[:MAX_WORD_LENGTH] for w in _WORD.findall(fold(text))]


@dataclass(frozen=True)
class Term:
    """One word, a word prefix, or a phrase of several words in a row."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class Clause:
    """Terms joined by OR; a negated clause excludes lines matching any of them."""

    terms: tuple[Term, ...]
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...] = field(default_factory=tuple)
    # Tag keys (see tag_names.tag_key) the notes must have, and must not have.
    tags: tuple[str, ...] = ()
    excluded_tags: tuple[str, ...] = ()

    @property
    def has_tags(self) -> bool:
        return bool(self.tags or self.excluded_tags)

    @property
    def positive(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.negated)

    @property
    def negative(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.negated)

    @property
    def is_empty(self) -> bool:
        # A query of exclusions only would list every line; it is treated as empty.
        return not self.positive

    def highlight_words(self) -> set[str]:
        return {w for c in self.positive for t in c.terms for w in t.words}

    def highlight_prefixes(self) -> set[str]:
        return {t.words[-1] for c in self.positive for t in c.terms if t.prefix}


def _tag_terms(text: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The text without its tag terms, and the tags it asks for and excludes."""
    tags: list[str] = []
    excluded: list[str] = []

    def take(match: re.Match) -> str:
        negated, quoted, bare = match.groups()
        key = tag_key(quoted if quoted is not None else bare)
        wanted = excluded if negated else tags
        if key and key not in wanted and len(tags) + len(excluded) < MAX_TERMS:
            wanted.append(key)
        return " "

    rest = _TAG.sub(take, text or "")
    return rest, tuple(tags), tuple(excluded)


def parse(text: str) -> ParsedQuery:
    text, tags, excluded_tags = _tag_terms(text)
    clauses: list[Clause] = []
    join_next = False
    for match in _TOKEN.finditer(text):
        negated_phrase, phrase, bare = match.groups()
        if bare is not None and bare == "OR":
            join_next = bool(clauses) and not clauses[-1].negated
            continue
        if phrase is not None:
            term_words = tuple(words_of(phrase))
            negated = bool(negated_phrase)
            prefix = False
        else:
            negated = bare.startswith("-") and len(bare) > 1
            raw = bare[1:] if negated else bare
            prefix = raw.endswith("*")
            term_words = tuple(words_of(raw.rstrip("*")))
            prefix = prefix and bool(term_words)
        if not term_words:
            join_next = False
            continue
        term = Term(term_words, prefix)
        if join_next and not negated:
            last = clauses.pop()
            clauses.append(Clause(last.terms + (term,)))
        else:
            clauses.append(Clause((term,), negated))
        join_next = False
        if len(clauses) >= MAX_TERMS:
            break
    return ParsedQuery(tuple(clauses), tags, excluded_tags)
