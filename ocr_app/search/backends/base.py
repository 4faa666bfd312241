from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.utils import timezone

from ..documents import TABLE, NoteDocument
from ..query import ParsedQuery, Term

# Index weights: the best reading of a line counts far more than an alternative.
TEXT_WEIGHT = 10.0
ALTERNATIVES_WEIGHT = 2.0
# A word in the note's title counts more than one in its lines: of two notes that
# match alike, the one whose title holds the words ranks first.
TITLE_WEIGHT = 20.0

# Orders in which a backend lists matching notes.
NEWEST = "newest"  # most recently added first (note id): cheap to walk in both indexes
UPLOADED = "uploaded"  # upload date, newest first


class NoteMatch(NamedTuple):  # a tuple: a search makes a thousand
    note_id: int
    score: float  # higher is better; comparable only within one query; 0 when not scored


@dataclass(frozen=True)
class Ranked:
    matches: list[NoteMatch]  # best first
    count: int  # notes in the window
    documents: dict[int, NoteDocument]


@dataclass(frozen=True)
class Filters:
    needs_review: bool | None = None
    uploaded_from: datetime | None = None
    uploaded_before: datetime | None = None
    # Tag keys (tag_names.tag_key): the note has every one of ``tags`` and none of ``without_tags``.
    tags: tuple[str, ...] = ()
    without_tags: tuple[str, ...] = ()

    def with_tags(self, tags=(), without_tags=()) -> "Filters":
        """These filters and the tags (of a query's tag: terms) too."""
        return replace(self, tags=tuple(dict.fromkeys(self.tags + tuple(tags))),
                       without_tags=tuple(dict.fromkeys(self.without_tags + tuple(without_tags))))

    @property
    def has_tags(self) -> bool:
        return bool(self.tags or self.without_tags)

    @classmethod
    def for_days(cls, *, uploaded_from: date | None = None, uploaded_to: date | None = None,
                 needs_review: bool | None = None) -> "Filters":
        """The filters as people give them: whole days in the current time zone,
        ``uploaded_to`` included. ValueError for a day past the calendar's end."""

        def day_start(day: date | None, days_after: int = 0) -> datetime | None:
            if day is None:
                return None
            try:
                return timezone.make_aware(datetime.combine(day + timedelta(days=days_after), time.min))
            except OverflowError as exc:
                raise ValueError(f"{day} is the calendar's last day") from exc

        return cls(needs_review, day_start(uploaded_from), day_start(uploaded_to, days_after=1))

    def sql(self, connection, note_id: str) -> tuple[list[str], list, bool]:
        """WHERE conditions on a matching note (``note_id`` is the SQL naming its
        id; ``n`` is the notes table), their parameters, and whether they need ``n``
        joined: plain SQL, the same for every backend."""
        # As the ORM stores them (on SQLite: naive UTC text, which an aware
        # datetime's "+00:00" would not compare equal to).
        adapt = connection.ops.adapt_datetimefield_value
        where, params = [], []
        if self.needs_review is not None:
            # A note waits for review while any of its lines does.
            exists = f"EXISTS (SELECT 1 FROM ocr_app_line l WHERE l.note_id = {note_id} AND l.needs_review)"
            where.append(exists if self.needs_review else f"NOT {exists}")
        if self.uploaded_from:
            where.append("n.uploaded_at >= %s")
            params.append(adapt(self.uploaded_from))
        if self.uploaded_before:
            where.append("n.uploaded_at < %s")
            params.append(adapt(self.uploaded_before))
        # The note is its owner's, and so are its tags: the key alone names the tag.
        tagged = ("EXISTS (SELECT 1 FROM ocr_app_notetag nt JOIN ocr_app_tag t ON t.id = nt.tag_id"
                  f" WHERE nt.note_id = {note_id} AND t.key = %s)")
        for key in self.tags:
            where.append(tagged)
            params.append(key)
        for key in self.without_tags:
            where.append(f"NOT {tagged}")
            params.append(key)
        return where, params, bool(self.uploaded_from or self.uploaded_before)


class SearchBackend(ABC):
    """Full-text index over notes' search documents (``documents``) for one vendor.

    A note matches when all the query's positive clauses occur anywhere in its
    document (its title, its lines' text and other readings) and no negative
    clause occurs in its lines' text or its title. A phrase lies within one of
    those three, never across two. ``expansions`` maps a query word to the words
    to accept in its place (fuzzy matching); the backend ORs them in wherever that
    word stands alone.
    """

    @abstractmethod
    def matching_sql(
        self,
        connection,
        *,
        owner_id: int,
        query: ParsedQuery,
        expansions: dict[str, list[str]] | None,
        filters: Filters,
        order: str,
        limit: int,
        offset: int,
        scored: bool,
    ) -> tuple[str, list]:
        """A statement listing the owner's matching notes as (note id, score) rows in
        ``order``, ``limit`` of them from ``offset``; scored (by the database's
        relevance, higher is better) only with ``scored``, and then for the rows
        listed only. With its parameters."""

    def match_notes(self, connection, *, owner_id: int, query: ParsedQuery, expansions=None,
                    filters: Filters = Filters(), order: str = NEWEST, limit: int, offset: int = 0) -> list[int]:
        """The ids of the owner's matching notes in ``order``."""
        if query.is_empty:
            return []
        sql, params = self.matching_sql(connection, owner_id=owner_id, query=query, expansions=expansions,
                                        filters=filters, order=order, limit=limit, offset=offset, scored=False)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    def rank_notes(self, connection, *, owner_id: int, query: ParsedQuery, expansions=None,
                   filters: Filters = Filters(), window: int, limit: int) -> Ranked:
        """Of the owner's ``window`` newest matching notes, the ``limit`` best by
        score (best first) with their documents, and how many the window holds."""
        if query.is_empty:
            return Ranked([], 0, {})
        sql, params = self.matching_sql(connection, owner_id=owner_id, query=query, expansions=expansions,
                                        filters=filters, order=NEWEST, limit=window, offset=0, scored=True)
        with connection.cursor() as cursor:
            # The documents come along for the best only (one statement: one round trip).
            cursor.execute(
                "SELECT b.note_id, b.score, b.total, t.text, t.alternatives, t.line_ids, t.title FROM ("
                f" SELECT note_id, score, count(*) OVER () AS total FROM ({sql}) w"
                " ORDER BY score DESC, note_id DESC LIMIT %s"
                f") b JOIN {TABLE} t ON t.note_id = b.note_id ORDER BY b.score DESC, b.note_id DESC",
                [*params, limit],
            )
            rows = cursor.fetchall()
        return Ranked(
            [NoteMatch(row[0], row[1]) for row in rows],
            rows[0][2] if rows else 0,
            {row[0]: NoteDocument.from_row(row[0], *row[3:]) for row in rows},
        )

    def count_notes(self, connection, *, owner_id: int, query: ParsedQuery, expansions=None,
                    filters: Filters = Filters(), limit: int) -> int:
        """How many notes of the owner match, counted up to ``limit``."""
        if query.is_empty:
            return 0
        sql, params = self.matching_sql(connection, owner_id=owner_id, query=query, expansions=expansions,
                                        filters=filters, order=NEWEST, limit=limit, offset=0, scored=False)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql}) w", params)
            return cursor.fetchone()[0]

    def documents(self, connection, note_ids) -> dict[int, NoteDocument]:
        """The search documents of the given notes."""
        note_ids = list(note_ids)
        if not note_ids:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT note_id, text, alternatives, line_ids, title FROM {TABLE} "
                f"WHERE note_id IN ({', '.join(['%s'] * len(note_ids))})",
                note_ids,
            )
            return {row[0]: NoteDocument.from_row(*row) for row in cursor.fetchall()}

    @abstractmethod
    def install(self, connection) -> None:
        """Create the index structures (idempotent), drop those of earlier versions, and fill them."""

    # Counts that must agree when every note with lines has its document (and,
    # where the index is a table of its own, its index entry): one row of numbers.
    DOCUMENT_COUNTS_SQL = (
        "SELECT (SELECT count(*) FROM (SELECT DISTINCT note_id FROM ocr_app_line) n), "
        f"(SELECT count(*) FROM {TABLE})"
    )

    def quick_drift(self, connection) -> str | None:
        """Like ``drift`` but without reading every line's text: missing parts,
        or notes without their document or index entry (counted). Cheap enough
        for every start of a server or worker."""
        missing = self.missing_parts(connection)
        if missing:
            return f"missing: {', '.join(missing)}"
        with connection.cursor() as cursor:
            cursor.execute(self.DOCUMENT_COUNTS_SQL)
            notes, *indexed = cursor.fetchone()
        if any(count != notes for count in indexed):
            return f"{notes} notes have lines but the index holds {' and '.join(map(str, indexed))} documents"
        return None

    @abstractmethod
    def missing_parts(self, connection) -> list[str]:
        """Names of index parts that should exist and do not (e.g. dropped triggers)."""

    @abstractmethod
    def rebuild(self, connection) -> None:
        """Rebuild the documents and the index from the lines table."""

    @abstractmethod
    def drift(self, connection) -> str | None:
        """None when the documents and the index match the lines table, else what is wrong."""

    def documents_drift(self, connection, *, fresh: str, columns: str) -> str | None:
        """What every ``drift`` checks first: missing parts, or how many stored
        documents differ from those ``fresh`` (SQL selecting ``columns``) makes from the lines."""
        missing = self.missing_parts(connection)
        if missing:
            return f"missing: {', '.join(missing)}"
        stored = f"SELECT {columns} FROM {TABLE}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT count(*) FROM ({fresh} EXCEPT {stored}) s), "
                f"(SELECT count(*) FROM ({stored} EXCEPT {fresh}) e)"
            )
            stale, extra = cursor.fetchone()
        if stale or extra:
            return f"{stale + extra} note documents do not match their lines"
        return None

    @staticmethod
    def term_words(term: Term, expansions: dict[str, list[str]] | None) -> list[str] | None:
        """The words a single-word term may match, or None for phrases and prefixes."""
        if term.is_phrase or term.prefix:
            return None
        word = term.words[0]
        return [word, *[w for w in (expansions or {}).get(word, []) if w != word]]
