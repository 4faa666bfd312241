"""PostgreSQL full-text search: a generated ``tsvector`` column with a GIN index.

The ``simple`` configuration neither stems nor drops stop words, and line text
is split on the same characters as SQLite's unicode61 tokenizer before it is
indexed, so the same query finds the same lines on both databases.
"""

from __future__ import annotations

from ..query import ParsedQuery, Term
from .base import ALTERNATIVES_WEIGHT, TEXT_WEIGHT, Filters, LineMatch, SearchBackend

VECTOR = "search_vector"
INDEX = "ocr_app_line_search_gin"
# Weights A (text) and D (alternatives): ts_rank's weight array is {D, C, B, A}.
RANK_WEIGHTS = f"'{{{ALTERNATIVES_WEIGHT / TEXT_WEIGHT}, 0, 0, 1.0}}'"
VECTOR_EXPRESSION = (
    "setweight(to_tsvector('simple'::regconfig, regexp_replace(text, '[^[:alnum:]]+', ' ', 'g')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, regexp_replace(alternatives::text, '[^[:alnum:]]+', ' ', 'g')), 'D')"
)


def _lexeme(word: str) -> str:
    return "'" + word.replace("'", "''") + "'"


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    def compile(self, query: ParsedQuery, expansions: dict[str, list[str]] | None = None) -> str:
        def term(t: Term) -> str:
            words = self.term_words(t, expansions)
            if words is not None:
                return " | ".join(_lexeme(w) for w in words)
            parts = [_lexeme(w) for w in t.words]
            if t.prefix:
                parts[-1] += ":*"
            return " <-> ".join(parts)

        def clause(terms) -> str:
            return "(" + " | ".join(f"({term(t)})" for t in terms) + ")"

        expression = " & ".join(clause(c.terms) for c in query.positive)
        for negative in query.negative:
            expression += f" & !{clause(negative.terms)}"
        return expression

    def match_lines(self, connection, *, owner_id, query, expansions=None, filters=Filters(), limit=200):
        if query.is_empty:
            return []
        sql = [
            f"SELECT l.id, l.note_id, ts_rank({RANK_WEIGHTS}, l.{VECTOR}, q) AS score",
            "FROM ocr_app_line l CROSS JOIN to_tsquery('simple', %s) q",
        ]
        filter_sql, filter_params, joins = filters.sql()
        sql += joins
        where = ["l.owner_id = %s", f"l.{VECTOR} @@ q", *filter_sql]
        params = [self.compile(query, expansions), owner_id, *filter_params]
        sql.append("WHERE " + " AND ".join(where))
        sql.append("ORDER BY score DESC, l.id LIMIT %s")
        params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute("\n".join(sql), params)
            return [LineMatch(line_id, note_id, float(score)) for line_id, note_id, score in cursor.fetchall()]

    def install(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE ocr_app_line ADD COLUMN IF NOT EXISTS {VECTOR} tsvector "
                f"GENERATED ALWAYS AS ({VECTOR_EXPRESSION}) STORED"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON ocr_app_line USING gin ({VECTOR})")

    def missing_parts(self, connection) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_name = 'ocr_app_line' AND column_name = %s",
                [VECTOR],
            )
            has_column = cursor.fetchone() is not None
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [INDEX])
            has_index = cursor.fetchone() is not None
        return [name for name, ok in ((VECTOR, has_column), (INDEX, has_index)) if not ok]

    def rebuild(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"REINDEX INDEX {INDEX}")

    def drift(self, connection) -> str | None:
        missing = self.missing_parts(connection)
        if missing:
            return f"missing: {', '.join(missing)}"
        # A generated column cannot drift from its row; nothing else to compare.
        return None
