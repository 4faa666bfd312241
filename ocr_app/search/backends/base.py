from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from ..query import ParsedQuery, Term

# Index weights: the best reading of a line counts far more than an alternative.
TEXT_WEIGHT = 10.0
ALTERNATIVES_WEIGHT = 2.0


@dataclass(frozen=True)
class LineMatch:
    line_id: int
    note_id: int
    score: float  # higher is better; comparable only within one query


@dataclass(frozen=True)
class Filters:
    needs_review: bool | None = None
    uploaded_from: datetime | None = None
    uploaded_before: datetime | None = None
    note_id: int | None = None

    def sql(self) -> tuple[list[str], list, list[str]]:
        """WHERE conditions on ``l`` (the lines table), their parameters, and the
        joins they need: plain SQL, the same for every backend."""
        where, params, joins = [], [], []
        if self.uploaded_from or self.uploaded_before:
            joins.append("JOIN ocr_app_note n ON n.id = l.note_id")
        if self.needs_review is not None:
            where.append("l.needs_review = %s")
            params.append(self.needs_review)
        if self.note_id is not None:
            where.append("l.note_id = %s")
            params.append(self.note_id)
        if self.uploaded_from:
            where.append("n.uploaded_at >= %s")
            params.append(self.uploaded_from)
        if self.uploaded_before:
            where.append("n.uploaded_at < %s")
            params.append(self.uploaded_before)
        return where, params, joins


class SearchBackend(ABC):
    """Full-text index over line text for one database vendor.

    ``expansions`` maps a query word to the words to accept in its place
    (fuzzy matching); the backend ORs them in wherever that word stands alone.
    """

    vendor = ""

    @abstractmethod
    def match_lines(
        self,
        connection,
        *,
        owner_id: int,
        query: ParsedQuery,
        expansions: dict[str, list[str]] | None = None,
        filters: Filters = Filters(),
        limit: int = 200,
    ) -> list[LineMatch]: ...

    @abstractmethod
    def install(self, connection) -> None:
        """Create the index structures (idempotent) and fill them."""

    @abstractmethod
    def missing_parts(self, connection) -> list[str]:
        """Names of index parts that should exist and do not (e.g. dropped triggers)."""

    @abstractmethod
    def rebuild(self, connection) -> None:
        """Rebuild the index from the lines table."""

    @abstractmethod
    def drift(self, connection) -> str | None:
        """None when the index matches the lines table, else what is wrong."""

    @staticmethod
    def term_words(term: Term, expansions: dict[str, list[str]] | None) -> list[str] | None:
        """The words a single-word term may match, or None for phrases and prefixes."""
        if term.is_phrase or term.prefix:
            return None
        word = term.words[0]
        return [word, *[w for w in (expansions or {}).get(word, []) if w != word]]
