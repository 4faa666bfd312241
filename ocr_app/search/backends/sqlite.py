"""SQLite FTS5: an external-content index over ``ocr_app_line``, kept in sync by triggers.

The index holds each line's text, its alternative readings and its owner's id
(so that a query can be restricted to one user's lines inside the index when
other users' lines crowd theirs out of the best matches). Django rebuilds a SQLite table for some
migrations and the triggers on it vanish with it: ``missing_parts`` notices,
and the post_migrate hook and system check in ``ocr_app.search`` restore them.
"""

from __future__ import annotations

import time

from ..query import ParsedQuery, Term
from .base import ALTERNATIVES_WEIGHT, TEXT_WEIGHT, Filters, LineMatch, SearchBackend

FTS_TABLE = "ocr_app_line_fts"
TRIGGERS = {
    "ocr_app_line_fts_ai": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_line_fts_ai AFTER INSERT ON ocr_app_line BEGIN
            INSERT INTO {FTS_TABLE}(rowid, text, alternatives, owner_id)
            VALUES (new.id, new.text, new.alternatives, new.owner_id);
        END""",
    "ocr_app_line_fts_ad": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_line_fts_ad AFTER DELETE ON ocr_app_line BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, alternatives, owner_id)
            VALUES ('delete', old.id, old.text, old.alternatives, old.owner_id);
        END""",
    "ocr_app_line_fts_au": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_line_fts_au AFTER UPDATE OF text, alternatives, owner_id ON ocr_app_line BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, alternatives, owner_id)
            VALUES ('delete', old.id, old.text, old.alternatives, old.owner_id);
            INSERT INTO {FTS_TABLE}(rowid, text, alternatives, owner_id)
            VALUES (new.id, new.text, new.alternatives, new.owner_id);
        END""",
}


def _quote(word: str) -> str:
    # Words are letters and digits only (see query.words_of); quoting keeps
    # FTS5 from reading one as an operator such as AND or NEAR.
    return f'"{word}"'


# (alias, database, owner) -> (valid until, share of all lines that are the owner's)
_shares: dict[tuple, tuple[float, float]] = {}
SHARE_TTL_SECONDS = 300.0


class SqliteBackend(SearchBackend):
    vendor = "sqlite"
    # How many of the index's best matches the fast path looks at, at least.
    min_pool = 1000
    # The fast path pays when the user holds at least this share of all lines.
    fast_path_share = 0.3

    # --- querying -------------------------------------------------------------------

    def compile(self, query: ParsedQuery, expansions: dict[str, list[str]] | None = None) -> str:
        def term(t: Term) -> str:
            words = self.term_words(t, expansions)
            if words is not None:
                return " OR ".join(_quote(w) for w in words)
            phrase = _quote(" ".join(t.words))
            return f"{phrase}*" if t.prefix else phrase

        def clause(terms) -> str:
            return "(" + " OR ".join(f"({term(t)})" for t in terms) + ")"

        expression = " AND ".join(clause(c.terms) for c in query.positive)
        negative = [clause(c.terms) for c in query.negative]
        if negative:
            expression = f"({expression}) NOT ({' OR '.join(negative)})"
        return f"{{text alternatives}} : ({expression})"

    def match_lines(self, connection, *, owner_id, query, expansions=None, filters=Filters(), limit=200):
        if query.is_empty:
            return []
        match = self.compile(query, expansions)
        if filters.note_id is not None:
            return self._note_matches(connection, match, owner_id, filters, limit)
        if self._share_of_lines(connection, owner_id) >= self.fast_path_share:
            # Most lines are this user's: rank in the whole index, then keep the
            # user's. Restricting by owner inside the match would walk every line
            # the user has (24 ms at a million lines, against 4 ms for this).
            pool = max(limit * 5, self.min_pool)
            ranked = self._ranked(connection, match, limit=pool)
            matches = self._keep_owned(connection, ranked, owner_id, filters)
            if len(matches) >= limit or len(ranked) < pool:
                return matches[:limit]
        # A user among many (or one whose lines the others crowded out of the pool).
        return self._owner_matches(connection, match, owner_id, filters, limit)

    def _share_of_lines(self, connection, owner_id: int) -> float:
        """The share of all lines that are the owner's, recounted every few minutes."""
        key = (connection.alias, connection.settings_dict["NAME"], owner_id)
        now = time.monotonic()
        cached = _shares.get(key)
        if cached and cached[0] > now:
            return cached[1]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM ocr_app_line WHERE owner_id = %s", [owner_id])
            (owned,) = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM ocr_app_line")
            (total,) = cursor.fetchone()
        share = owned / total if total else 1.0
        _shares[key] = (now + SHARE_TTL_SECONDS, share)
        return share

    def _owner_matches(self, connection, match, owner_id, filters: Filters, limit) -> list[LineMatch]:
        """Restricted to the owner inside the index, with the filters, best first."""
        sql = [
            f"SELECT l.id, l.note_id, bm25({FTS_TABLE}, {TEXT_WEIGHT}, {ALTERNATIVES_WEIGHT}, 0.0) AS score",
            f"FROM {FTS_TABLE} JOIN ocr_app_line l ON l.id = {FTS_TABLE}.rowid",
        ]
        where, params = [f"{FTS_TABLE} MATCH %s"], [f'owner_id : "{int(owner_id)}" AND {match}']
        filter_sql, filter_params, joins = filters.sql()
        sql += joins
        where += filter_sql
        params += filter_params
        sql.append("WHERE " + " AND ".join(where) + " ORDER BY score LIMIT %s")
        params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute("\n".join(sql), params)
            # bm25 is "lower is better"; the interface wants higher is better.
            return [LineMatch(line_id, note_id, -score) for line_id, note_id, score in cursor.fetchall()]

    def _ranked(self, connection, match: str, *, limit: int | None, rowids: tuple[int, int] | None = None):
        """(line id, score) best first, for an FTS5 match expression."""
        sql = f"SELECT rowid, bm25({FTS_TABLE}, {TEXT_WEIGHT}, {ALTERNATIVES_WEIGHT}, 0.0) AS score FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        params: list = [match]
        if rowids:
            sql += " AND rowid BETWEEN %s AND %s"
            params += list(rowids)
        sql += " ORDER BY score"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _keep_owned(self, connection, ranked, owner_id, filters: Filters) -> list[LineMatch]:
        """The ranked lines that are the owner's and pass the filters, best first."""
        if not ranked:
            return []
        filter_sql, params, joins = filters.sql()
        sql = ["SELECT l.id, l.note_id FROM ocr_app_line l", *joins]
        where = ["l.owner_id = %s", *filter_sql]
        params = [owner_id, *params]
        notes: dict[int, int] = {}
        with connection.cursor() as cursor:
            # In chunks: SQLite caps the number of parameters of one statement.
            for start in range(0, len(ranked), 5000):
                ids = [line_id for line_id, _ in ranked[start : start + 5000]]
                cursor.execute(
                    " ".join(sql) + " WHERE " + " AND ".join(where) + f" AND l.id IN ({', '.join(['%s'] * len(ids))})",
                    params + ids,
                )
                notes.update(cursor.fetchall())
        # bm25 is "lower is better"; the interface wants higher is better.
        return [LineMatch(line_id, notes[line_id], -score) for line_id, score in ranked if line_id in notes]

    def _note_matches(self, connection, match, owner_id, filters, limit) -> list[LineMatch]:
        # A note's lines are stored together, so their ids span a short range
        # that the index can restrict to directly.
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id), max(id) FROM ocr_app_line WHERE note_id = %s", [filters.note_id])
            low, high = cursor.fetchone()
        if low is None:
            return []
        ranked = self._ranked(connection, match, limit=None, rowids=(low, high))
        return self._keep_owned(connection, ranked, owner_id, filters)[:limit]

    # --- maintenance ------------------------------------------------------------------

    def install(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                "text, alternatives, owner_id, content='ocr_app_line', content_rowid='id', "
                "tokenize='unicode61 remove_diacritics 0')"
            )
            for sql in TRIGGERS.values():
                cursor.execute(sql)
        self.rebuild(connection)

    def missing_parts(self, connection) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE (type = 'trigger' AND tbl_name = 'ocr_app_line') OR name = %s",
                [FTS_TABLE],
            )
            present = {row[0] for row in cursor.fetchall()}
        return [name for name in [FTS_TABLE, *TRIGGERS] if name not in present]

    def rebuild(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")

    def drift(self, connection) -> str | None:
        missing = self.missing_parts(connection)
        if missing:
            return f"missing: {', '.join(missing)}"
        try:
            with connection.cursor() as cursor:
                # rank = 1 compares the index with the content table itself.
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
        except Exception as exc:  # SQLite reports drift as "database disk image is malformed"
            return f"the index does not match the lines table ({exc})"
        return None
