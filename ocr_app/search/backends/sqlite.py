"""SQLite: an FTS5 index over the notes' search documents, all kept in step by triggers.

Triggers on ``ocr_app_line`` rebuild the written note's document in
``ocr_app_note_text`` (see ``documents``), and a trigger on ``ocr_app_note``
copies a renamed note's title into it; triggers on that table keep the
external-content FTS5 index ``ocr_app_note_fts`` in step with it. The index
holds each document's text, its alternative readings, its title and its owner's id, so that
a query is restricted to one user's notes inside the index.

Django rebuilds a SQLite table for some migrations and the triggers on it
vanish with it: ``missing_parts`` notices, and the post_migrate hook and system
check in ``ocr_app.search`` restore them.
"""

from __future__ import annotations

from ..documents import TABLE
from ..query import ParsedQuery, Term
from .base import ALTERNATIVES_WEIGHT, NEWEST, TEXT_WEIGHT, TITLE_WEIGHT, SearchBackend

FTS_TABLE = "ocr_app_note_fts"
DOCUMENT_COLUMNS = "note_id, owner_id, text, alternatives, line_ids, title"

# Every note's document as the lines table holds it now (``{where}`` narrows the
# lines), in one well-defined order: running group_concat windows are ordered,
# where a plain group_concat's order is unspecified before SQLite 3.44.
FRESH_DOCUMENTS = """
SELECT note_id, owner_id, text, alternatives, line_ids,
    coalesce((SELECT n.title FROM ocr_app_note n WHERE n.id = note_id), '') AS title FROM (
    SELECT note_id, owner_id,
        -- (group_concat gives NULL, not '', for one empty string)
        coalesce(group_concat(text, char(30)) OVER running, '') AS text,
        coalesce(group_concat(alternatives, char(30)) OVER running, '') AS alternatives,
        group_concat(id, ' ') OVER running AS line_ids,
        lead(id) OVER running AS next_line
    FROM (
        SELECT l.id, l.note_id, l.owner_id, l."order", replace(l.text, char(30), ' ') AS text,
            CASE WHEN json_valid(l.alternatives) THEN CASE WHEN json_type(l.alternatives) = 'array' THEN
                coalesce((SELECT group_concat(replace(value, char(30), ' '), ' ') FROM json_each(l.alternatives)), '')
            ELSE '' END ELSE '' END AS alternatives
        FROM ocr_app_line l {where}
    )
    WINDOW running AS (PARTITION BY note_id ORDER BY "order", id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
) WHERE next_line IS NULL
"""


def _refresh(note_id: str) -> str:
    """Statements (for a trigger body) that rebuild one note's document."""
    fresh = FRESH_DOCUMENTS.format(where=f"WHERE l.note_id = {note_id}")
    return f"""
        INSERT INTO {TABLE} ({DOCUMENT_COLUMNS}) {fresh}
        ON CONFLICT (note_id) DO UPDATE SET owner_id = excluded.owner_id, text = excluded.text,
            alternatives = excluded.alternatives, line_ids = excluded.line_ids, title = excluded.title
        WHERE {TABLE}.owner_id IS NOT excluded.owner_id OR {TABLE}.text IS NOT excluded.text
            OR {TABLE}.alternatives IS NOT excluded.alternatives OR {TABLE}.line_ids IS NOT excluded.line_ids
            OR {TABLE}.title IS NOT excluded.title;
        DELETE FROM {TABLE} WHERE note_id = {note_id}
            AND NOT EXISTS (SELECT 1 FROM ocr_app_line WHERE note_id = {note_id});"""


LINE_TRIGGERS = {
    "ocr_app_line_document_ai": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_line_document_ai AFTER INSERT ON ocr_app_line BEGIN
            {_refresh("new.note_id")}
        END""",
    "ocr_app_line_document_ad": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_line_document_ad AFTER DELETE ON ocr_app_line BEGIN
            {_refresh("old.note_id")}
        END""",
    "ocr_app_line_document_au": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_line_document_au
        AFTER UPDATE OF text, alternatives, "order", note_id, owner_id ON ocr_app_line BEGIN
            {_refresh("old.note_id")}
        END""",
    # A line moved to another note changes that note's document too.
    "ocr_app_line_document_au_moved": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_line_document_au_moved
        AFTER UPDATE OF note_id ON ocr_app_line WHEN new.note_id IS NOT old.note_id BEGIN
            {_refresh("new.note_id")}
        END""",
}
# A renamed note (the owner, or recognition choosing a title) gets its document's title.
NOTE_TRIGGERS = {
    "ocr_app_note_document_title": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_note_document_title
        AFTER UPDATE OF title ON ocr_app_note WHEN new.title IS NOT old.title BEGIN
            UPDATE {TABLE} SET title = new.title WHERE note_id = new.id;
        END""",
}
INDEX_TRIGGERS = {
    "ocr_app_note_text_fts_ai": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_note_text_fts_ai AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {FTS_TABLE}(rowid, text, alternatives, owner_id, title)
            VALUES (new.note_id, new.text, new.alternatives, new.owner_id, new.title);
        END""",
    "ocr_app_note_text_fts_ad": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_note_text_fts_ad AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, alternatives, owner_id, title)
            VALUES ('delete', old.note_id, old.text, old.alternatives, old.owner_id, old.title);
        END""",
    "ocr_app_note_text_fts_au": f"""
        CREATE TRIGGER IF NOT EXISTS ocr_app_note_text_fts_au AFTER UPDATE ON {TABLE} BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, alternatives, owner_id, title)
            VALUES ('delete', old.note_id, old.text, old.alternatives, old.owner_id, old.title);
            INSERT INTO {FTS_TABLE}(rowid, text, alternatives, owner_id, title)
            VALUES (new.note_id, new.text, new.alternatives, new.owner_id, new.title);
        END""",
}
# What earlier versions indexed: one FTS5 row per line.
OLD_PARTS = ["ocr_app_line_fts_ai", "ocr_app_line_fts_ad", "ocr_app_line_fts_au"]
OLD_TABLE = "ocr_app_line_fts"


def _quote(word: str) -> str:
    # Words are letters and digits only (see query.words_of); quoting keeps
    # FTS5 from reading one as an operator such as AND or NEAR.
    return f'"{word}"'


class SqliteBackend(SearchBackend):
    # --- querying -------------------------------------------------------------------

    def compile(self, query: ParsedQuery, expansions: dict[str, list[str]] | None = None) -> str:
        """The FTS5 expression for the query's words (without the owner)."""

        def term(t: Term) -> str:
            words = self.term_words(t, expansions)
            if words is not None:
                return " OR ".join(_quote(w) for w in words)
            phrase = _quote(" ".join(t.words))
            return f"{phrase}*" if t.prefix else phrase

        def clause(terms) -> str:
            return "(" + " OR ".join(f"({term(t)})" for t in terms) + ")"

        expression = "{text alternatives title} : (" + " AND ".join(clause(c.terms) for c in query.positive) + ")"
        if query.negative:
            # Excluded words count in the lines' text and the title only: one doubtful reading must not hide a note.
            excluded = " OR ".join(clause(c.terms) for c in query.negative)
            expression = f"({expression}) NOT ({{text title}} : ({excluded}))"
        return expression

    def matching_sql(self, connection, *, owner_id, query, expansions, filters, order, limit, offset, scored):
        score = f"-bm25({FTS_TABLE}, {TEXT_WEIGHT}, {ALTERNATIVES_WEIGHT}, 0.0, {TITLE_WEIGHT})" if scored else "0.0"
        where, params, join_notes = filters.sql(connection, f"{FTS_TABLE}.rowid")
        sql = [f"SELECT {FTS_TABLE}.rowid AS note_id, {score} AS score FROM {FTS_TABLE}"]
        # The owner inside the MATCH: the index intersects their notes with the words'.
        # (Looking up each match's owner instead measured no faster, even for one user.)
        match = f'owner_id : "{int(owner_id)}" AND ({self.compile(query, expansions)})'
        if join_notes or order != NEWEST:
            sql.append(f"JOIN ocr_app_note n ON n.id = {FTS_TABLE}.rowid")
        sql.append(" AND ".join([f"WHERE {FTS_TABLE} MATCH %s", *where]))
        # FTS5 walks its index in rowid order, so "newest" needs no sort, and
        # bm25() runs for the rows listed only.
        sql.append(f"ORDER BY {FTS_TABLE}.rowid DESC" if order == NEWEST else "ORDER BY n.uploaded_at DESC, n.id DESC")
        sql.append("LIMIT %s OFFSET %s")
        return "\n".join(sql), [match, *params, limit, offset]

    # --- maintenance ------------------------------------------------------------------

    def install(self, connection) -> None:
        with connection.cursor() as cursor:
            _drop_triggers(cursor, OLD_PARTS)
            cursor.execute(f"DROP TABLE IF EXISTS {OLD_TABLE}")
            cursor.execute(f"SELECT name FROM pragma_table_info('{TABLE}')")
            columns = {row[0] for row in cursor.fetchall()}
            if columns and "title" not in columns:
                # Documents made before notes had titles: made again from the lines below.
                cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
                cursor.execute(f"DROP TABLE {TABLE}")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (note_id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, "
                "text TEXT NOT NULL, alternatives TEXT NOT NULL, line_ids TEXT NOT NULL, title TEXT NOT NULL DEFAULT '')"
            )
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
                f"text, alternatives, owner_id, title, content='{TABLE}', content_rowid='note_id', "
                "tokenize='unicode61 remove_diacritics 0')"
            )
            # Made again each time: an earlier version's trigger bodies wrote fewer columns.
            triggers = {**LINE_TRIGGERS, **NOTE_TRIGGERS, **INDEX_TRIGGERS}
            _drop_triggers(cursor, triggers)
            _create_triggers(cursor, triggers)
        self.rebuild(connection)

    # The FTS table keeps one size row per indexed document.
    DOCUMENT_COUNTS_SQL = SearchBackend.DOCUMENT_COUNTS_SQL + f", (SELECT count(*) FROM {FTS_TABLE}_docsize)"

    def missing_parts(self, connection) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE (type = 'trigger' AND tbl_name IN ('ocr_app_line', 'ocr_app_note', %s)) "
                "OR name IN (%s, %s)",
                [TABLE, TABLE, FTS_TABLE],
            )
            present = {row[0] for row in cursor.fetchall()}
        return [name for name in [TABLE, FTS_TABLE, *LINE_TRIGGERS, *NOTE_TRIGGERS, *INDEX_TRIGGERS]
                if name not in present]

    def rebuild(self, connection) -> None:
        with connection.cursor() as cursor:
            # Without the index's triggers while the documents are rewritten: the
            # index is rebuilt from them afterwards in one pass.
            _drop_triggers(cursor, INDEX_TRIGGERS)
            cursor.execute(f"DELETE FROM {TABLE}")
            cursor.execute(f"INSERT INTO {TABLE} ({DOCUMENT_COLUMNS}) {FRESH_DOCUMENTS.format(where='')}")
            _create_triggers(cursor, INDEX_TRIGGERS)
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")

    def drift(self, connection) -> str | None:
        problem = self.documents_drift(connection, fresh=FRESH_DOCUMENTS.format(where=""), columns=DOCUMENT_COLUMNS)
        if problem:
            return problem
        try:
            with connection.cursor() as cursor:
                # rank = 1 compares the index with the content table itself.
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
        except Exception as exc:  # SQLite reports drift as "database disk image is malformed"
            return f"the index does not match the note documents ({exc})"
        return None


def _drop_triggers(cursor, names) -> None:
    """``names``: the triggers' names (a dict of triggers gives its keys)."""
    for name in names:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def _create_triggers(cursor, triggers: dict[str, str]) -> None:
    for sql in triggers.values():
        cursor.execute(sql)
