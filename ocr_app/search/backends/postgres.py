"""PostgreSQL: the notes' search documents with a generated ``tsvector`` and a GIN index.

Statement-level triggers on ``ocr_app_line`` rebuild the documents (see
``documents``) of the notes a statement touched, once per statement, so a
bulk insert costs one pass. The ``simple`` configuration neither stems nor drops
stop words, and text is split on the same characters as SQLite's unicode61
tokenizer before it is indexed, so the same query finds the same notes on both
databases. Line text has weight A, the note's title B and other readings D; a
phrase must lie within one of them, as FTS5 keeps a phrase within one column. A
row trigger on ``ocr_app_note`` copies a renamed note's title into its document.
"""

from __future__ import annotations

from ..documents import TABLE
from ..query import ParsedQuery, Term
from .base import ALTERNATIVES_WEIGHT, NEWEST, TEXT_WEIGHT, TITLE_WEIGHT, SearchBackend

INDEX = "ocr_app_note_text_search_gin"
OWNER_INDEX = "ocr_app_note_text_owner_idx"
# Weights A (text), B (title) and D (alternatives): ts_rank's weight array is
# {D, C, B, A}, each at most 1.
_TOP_WEIGHT = max(TEXT_WEIGHT, TITLE_WEIGHT, ALTERNATIVES_WEIGHT)
RANK_WEIGHTS = f"'{{{ALTERNATIVES_WEIGHT / _TOP_WEIGHT}, 0, {TITLE_WEIGHT / _TOP_WEIGHT}, {TEXT_WEIGHT / _TOP_WEIGHT}}}'"
VECTOR_EXPRESSION = (
    "setweight(to_tsvector('simple'::regconfig, regexp_replace(text, '[^[:alnum:]]+', ' ', 'g')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, regexp_replace(alternatives, '[^[:alnum:]]+', ' ', 'g')), 'D') || "
    "setweight(to_tsvector('simple'::regconfig, regexp_replace(title, '[^[:alnum:]]+', ' ', 'g')), 'B')"
)
DOCUMENT_COLUMNS = "note_id, owner_id, text, alternatives, line_ids, title"

# The documents of the lines ``{where}`` selects, as the lines table holds them now.
FRESH_DOCUMENTS = r"""
SELECT l.note_id, max(l.owner_id),
    string_agg(replace(l.text, E'\x1e', ' '), E'\x1e' ORDER BY l."order", l.id),
    string_agg(CASE WHEN jsonb_typeof(l.alternatives) = 'array' THEN coalesce(
        (SELECT string_agg(replace(value, E'\x1e', ' '), ' ') FROM jsonb_array_elements_text(l.alternatives)), '')
        ELSE '' END, E'\x1e' ORDER BY l."order", l.id),
    string_agg(l.id::text, ' ' ORDER BY l."order", l.id),
    coalesce(max(n.title), '')
FROM ocr_app_line l JOIN ocr_app_note n ON n.id = l.note_id {where} GROUP BY l.note_id
"""

FUNCTIONS = [
    f"""
    CREATE OR REPLACE FUNCTION ocr_app_refresh_note_text(note_ids bigint[]) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        -- Wait for any other transaction rewriting these documents; the statements
        -- below then see its lines (each statement takes a new snapshot).
        PERFORM 1 FROM {TABLE} WHERE note_id = ANY(note_ids) ORDER BY note_id FOR UPDATE;
        DELETE FROM {TABLE} d WHERE d.note_id = ANY(note_ids)
            AND NOT EXISTS (SELECT 1 FROM ocr_app_line l WHERE l.note_id = d.note_id);
        INSERT INTO {TABLE} ({DOCUMENT_COLUMNS})
        {FRESH_DOCUMENTS.format(where="WHERE l.note_id = ANY(note_ids)")}
        ON CONFLICT (note_id) DO UPDATE SET owner_id = excluded.owner_id, text = excluded.text,
            alternatives = excluded.alternatives, line_ids = excluded.line_ids, title = excluded.title
        WHERE ({TABLE}.owner_id, {TABLE}.text, {TABLE}.alternatives, {TABLE}.line_ids, {TABLE}.title)
            IS DISTINCT FROM (excluded.owner_id, excluded.text, excluded.alternatives, excluded.line_ids, excluded.title);
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION ocr_app_note_title_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {TABLE} SET title = NEW.title WHERE note_id = NEW.id AND title IS DISTINCT FROM NEW.title;
        RETURN NULL;
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION ocr_app_line_document_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM ocr_app_refresh_note_text(ARRAY(SELECT DISTINCT note_id FROM new_lines));
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM ocr_app_refresh_note_text(ARRAY(SELECT DISTINCT note_id FROM old_lines));
        ELSIF TG_OP = 'UPDATE' THEN
            -- Most updates (claims, review flags) change nothing a document holds.
            PERFORM ocr_app_refresh_note_text(ARRAY(
                SELECT unnest(ARRAY[o.note_id, n.note_id]) FROM old_lines o JOIN new_lines n ON n.id = o.id
                WHERE (o.text, o.alternatives, o."order", o.note_id, o.owner_id)
                    IS DISTINCT FROM (n.text, n.alternatives, n."order", n.note_id, n.owner_id)));
        ELSE
            TRUNCATE {TABLE};
        END IF;
        RETURN NULL;
    END $$""",
]
TRIGGERS = {
    "ocr_app_line_document_ai": "AFTER INSERT ON ocr_app_line REFERENCING NEW TABLE AS new_lines",
    "ocr_app_line_document_ad": "AFTER DELETE ON ocr_app_line REFERENCING OLD TABLE AS old_lines",
    "ocr_app_line_document_au": "AFTER UPDATE ON ocr_app_line REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines",
    "ocr_app_line_document_at": "AFTER TRUNCATE ON ocr_app_line",
}
# A renamed note (the owner, or recognition choosing a title) gets its document's title.
NOTE_TRIGGER = "ocr_app_note_document_title"
NOTE_TRIGGER_SQL = (
    f"CREATE TRIGGER {NOTE_TRIGGER} AFTER UPDATE OF title ON ocr_app_note FOR EACH ROW "
    "WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION ocr_app_note_title_trigger()"
)
# What earlier versions indexed: a generated tsvector column on each line.
OLD_INDEX = "ocr_app_line_search_gin"
OLD_COLUMN = "search_vector"


def _lexeme(word: str, suffix: str = "") -> str:
    return "'" + word.replace("'", "''") + "'" + suffix


class PostgresBackend(SearchBackend):
    def compile(self, query: ParsedQuery, expansions: dict[str, list[str]] | None = None) -> str:
        def phrase(t: Term, weight: str) -> str:
            parts = [_lexeme(w, f":{weight}") for w in t.words]
            if t.prefix:
                parts[-1] = _lexeme(t.words[-1], f":*{weight}")
            return "(" + " <-> ".join(parts) + ")"

        def term(t: Term, *, text_only: bool = False) -> str:
            words = self.term_words(t, expansions)
            if words is not None:
                return " | ".join(_lexeme(w, ":AB" if text_only else "") for w in words)
            if text_only:
                return f"{phrase(t, 'A')} | {phrase(t, 'B')}"
            if not t.is_phrase:  # a prefix
                return _lexeme(t.words[0], ":*")
            return f"{phrase(t, 'A')} | {phrase(t, 'B')} | {phrase(t, 'D')}"

        def clause(terms, **options) -> str:
            return "(" + " | ".join(f"({term(t, **options)})" for t in terms) + ")"

        expression = " & ".join(clause(c.terms) for c in query.positive)
        for negative in query.negative:
            # Excluded words count in the lines' text (weight A) and the title (B) only.
            expression += f" & !{clause(negative.terms, text_only=True)}"
        return expression

    def matching_sql(self, connection, *, owner_id, query, expansions, filters, order, limit, offset, scored):
        where, params, join_notes = filters.sql(connection, "d.note_id")
        by_upload = order != NEWEST
        sql = [
            "SELECT d.note_id, d.search_vector, q.query" + (", n.uploaded_at" if by_upload else ""),
            f"FROM {TABLE} d CROSS JOIN to_tsquery('simple', %s) AS q(query)",
        ]
        if join_notes or by_upload:
            sql.append("JOIN ocr_app_note n ON n.id = d.note_id")
        sql.append(" AND ".join(["WHERE d.owner_id = %s AND d.search_vector @@ q.query", *where]))
        sql.append("ORDER BY n.uploaded_at DESC, d.note_id DESC" if by_upload else "ORDER BY d.note_id DESC")
        sql.append("LIMIT %s OFFSET %s")
        # Scored once the rows are chosen: ts_rank reads each whole vector.
        score = f"ts_rank({RANK_WEIGHTS}, m.search_vector, m.query)::float8" if scored else "0.0::float8"
        statement = "\n".join([
            f"SELECT m.note_id, {score} AS score FROM (", *sql, ") m",
            "ORDER BY m.uploaded_at DESC, m.note_id DESC" if by_upload else "ORDER BY m.note_id DESC",
        ])
        return statement, [self.compile(query, expansions), owner_id, *params, limit, offset]

    def install(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")
            cursor.execute(f"ALTER TABLE ocr_app_line DROP COLUMN IF EXISTS {OLD_COLUMN}")
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = current_schema()), EXISTS (SELECT 1 FROM information_schema.columns "
                "WHERE table_name = %s AND table_schema = current_schema() AND column_name = 'title')",
                [TABLE, TABLE],
            )
            has_table, has_title = cursor.fetchone()
            if has_table and not has_title:
                # Documents made before notes had titles: made again from the lines below.
                cursor.execute(f"DROP TABLE {TABLE}")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (note_id bigint PRIMARY KEY, owner_id bigint NOT NULL, "
                "text text NOT NULL, alternatives text NOT NULL, line_ids text NOT NULL, title text NOT NULL DEFAULT '', "
                f"search_vector tsvector GENERATED ALWAYS AS ({VECTOR_EXPRESSION}) STORED)"
            )
            # Matching reads each candidate's vector: keep it in the row (compressed),
            # and the texts, which search reads for a page's notes only, out of it.
            cursor.execute(
                f"ALTER TABLE {TABLE} ALTER COLUMN search_vector SET STORAGE MAIN, "
                "ALTER COLUMN text SET STORAGE EXTERNAL, ALTER COLUMN alternatives SET STORAGE EXTERNAL"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING gin (search_vector)")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {OWNER_INDEX} ON {TABLE} (owner_id, note_id)")
            for sql in FUNCTIONS:
                cursor.execute(sql)
            for name, when in TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON ocr_app_line")
                cursor.execute(
                    f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION ocr_app_line_document_trigger()"
                )
            cursor.execute(f"DROP TRIGGER IF EXISTS {NOTE_TRIGGER} ON ocr_app_note")
            cursor.execute(NOTE_TRIGGER_SQL)
        self.rebuild(connection)

    def missing_parts(self, connection) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL", [TABLE, INDEX])
            has_table, has_index = cursor.fetchone()
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE (tgrelid = to_regclass('ocr_app_line') AND tgname = ANY(%s)) "
                "OR (tgrelid = to_regclass('ocr_app_note') AND tgname = %s)",
                [list(TRIGGERS), NOTE_TRIGGER],
            )
            triggers = {row[0] for row in cursor.fetchall()}
        parts = {TABLE: has_table, INDEX: has_index, **{name: name in triggers for name in [*TRIGGERS, NOTE_TRIGGER]}}
        return [name for name, present in parts.items() if not present]

    def rebuild(self, connection) -> None:
        with connection.cursor() as cursor:
            # TRUNCATE leaves no dead rows behind for searches to step over (DELETE would, until vacuumed).
            cursor.execute(f"TRUNCATE {TABLE}")
            cursor.execute(f"INSERT INTO {TABLE} ({DOCUMENT_COLUMNS}) {FRESH_DOCUMENTS.format(where='')}")
            cursor.execute(f"ANALYZE {TABLE}")

    def drift(self, connection) -> str | None:
        # The generated vector cannot differ from its row; the index is checked by being present.
        return self.documents_drift(connection, fresh=FRESH_DOCUMENTS.format(where=""), columns=DOCUMENT_COLUMNS)
