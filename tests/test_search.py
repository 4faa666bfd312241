"""Full-text search: one suite, run on SQLite and again on PostgreSQL (see ./inkdex test).

Notes and lines are made directly here (no OCR) so that each query's expected
result set is known exactly; both backends must return the same.
"""

from datetime import datetime, timezone

import pytest
from django.db import connection
from django.urls import reverse

from ocr_app.models import Line
from ocr_app.search import Filters, lines_matching, search_notes, suggest
from ocr_app.search.index import ensure_search_index, index_drift, rebuild_search_index
from ocr_app.search.query import parse

from tests.factories import make_note

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(user, other_user):
    notes = {
        "plumber": make_note(user, ["Call the plumber on Monday", "Buy milk and eggs"], name="todo.jpg"),
        "misread": make_note(user, ["Ask plumbcr about the leak"], name="misread.jpg"),
        "budget": make_note(user, ["Email Sarah about the budget", "Meeting notes: budget 2027"],
                            uploaded_at=datetime(2026, 10, 3, tzinfo=timezone.utc)),
        "coffee": make_note(user, ["Buy coffee beans", "e-mail the landlord"], review={1}),
        "alt": make_note(user, ["Pick up c0ffee filters"], alternatives={0: ["Pick up coffee filters"]}),
        "bobs": make_note(other_user, ["Call the plumber about coffee"]),
    }
    return notes


def found(user, query, **filters):
    return [r.note.pk for r in search_notes(user, query, filters=Filters(**filters)).notes]


def ids(corpus, *names):
    return [corpus[name].pk for name in names]


def test_one_word_only_own_notes(user, other_user, corpus):
    assert found(user, "plumber") == ids(corpus, "plumber", "misread")  # exact first, then fuzzy
    assert found(other_user, "plumber") == ids(corpus, "bobs")


def test_all_words_must_match(user, corpus):
    assert found(user, "buy milk") == ids(corpus, "plumber")
    assert found(user, "buy eggs coffee") == []


def test_stop_words_are_words_like_any_other(user, corpus):
    # Neither backend drops "the": both words must be on a line.
    assert set(found(user, "the budget")) == set(ids(corpus, "budget"))
    assert found(user, '"call the plumber"') == ids(corpus, "plumber")
    assert found(user, '"call plumber"') == []


def test_prefix_exclusion_and_or(user, corpus):
    assert set(found(user, "budg*")) == set(ids(corpus, "budget"))
    assert set(found(user, "buy -milk")) == set(ids(corpus, "coffee"))
    assert set(found(user, "sarah OR landlord")) == set(ids(corpus, "budget", "coffee"))
    assert found(user, "-milk") == []


def test_punctuated_words_match_as_indexed(user, corpus):
    assert found(user, "e-mail") == ids(corpus, "coffee")
    assert set(found(user, "email")) >= set(ids(corpus, "budget"))
    assert found(user, "2027") == ids(corpus, "budget")


def test_fuzzy_match_for_misread_words_ranked_below_exact(user, corpus):
    results = search_notes(user, "plumber").notes
    assert [(r.note.pk, r.fuzzy) for r in results] == [(corpus["plumber"].pk, False), (corpus["misread"].pk, True)]
    assert "<mark>plumbcr</mark>" in results[1].lines[0].html
    # A misspelt query finds the right word too.
    assert found(user, "plumbre") == ids(corpus, "plumber", "misread") or set(found(user, "plumbre")) == set(
        ids(corpus, "plumber", "misread")
    )
    assert found(user, "landlrod") == ids(corpus, "coffee")


def test_alternative_readings_are_searchable_below_best_readings(user, corpus):
    results = search_notes(user, "coffee").notes
    assert [r.note.pk for r in results] == ids(corpus, "coffee", "alt")


def test_filters_needs_review_and_dates(user, corpus):
    assert found(user, "landlord", needs_review=True) == ids(corpus, "coffee")
    assert found(user, "coffee", needs_review=True) == []
    october = dict(uploaded_from=datetime(2026, 10, 1, tzinfo=timezone.utc),
                   uploaded_before=datetime(2026, 10, 31, tzinfo=timezone.utc))
    assert found(user, "budget", **october) == ids(corpus, "budget")
    assert found(user, "plumber", **october) == []


def test_highlight_escapes_ocr_text(user):
    make_note(user, ["<script>alert(1)</script> milk", "<img src=x onerror=alert(1)>"])
    [result] = search_notes(user, "milk").notes
    html = str(result.lines[0].html)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<mark>milk</mark>" in html
    [result] = search_notes(user, "onerror").notes
    assert "<img" not in str(result.lines[0].html)


def test_changed_line_text_is_searchable_at_once_and_old_text_is_gone(user, corpus):
    line = corpus["misread"].lines.get()
    Line.objects.filter(pk=line.pk).update(text="Ask plumber about the leak")
    line.refresh_from_db()
    assert set(found(user, "plumber")) == set(ids(corpus, "plumber", "misread"))
    assert [r.fuzzy for r in search_notes(user, "plumber").notes] == [False, False]
    assert found(user, "plumbcr") != [corpus["misread"].pk] or False


def test_deleted_notes_are_not_found(user, corpus):
    corpus["budget"].delete()
    assert found(user, "budget") == []
    assert index_drift() is None


def test_bulk_created_lines_are_indexed(user):
    make_note(user, [f"inventory item {i}" for i in range(50)])
    assert len(found(user, "inventory")) == 1
    assert index_drift() is None


def test_empty_and_junk_queries(user, corpus):
    for query in ["", "   ", '"', "*", "-", "OR", "AND", "NEAR(", '"unclosed phrase', "(((", "'; drop table x; --"]:
        search_notes(user, query)  # never an error
    assert found(user, '"unclosed phrase') == []
    assert found(user, "(plumber)") == ids(corpus, "plumber", "misread")
    assert found(user, "NEAR(plumber") == []  # a phrase "near plumber", as indexed


def test_parse():
    parsed = parse('milk OR cream "call the plumber" plumb* -coffee')
    assert [(c.negated, [(t.words, t.prefix) for t in c.terms]) for c in parsed.clauses] == [
        (False, [(("milk",), False), (("cream",), False)]),
        (False, [(("call", "the", "plumber"), False)]),
        (False, [(("plumb",), True)]),
        (True, [(("coffee",), False)]),
    ]


def test_suggestions_come_from_own_words(user, other_user, corpus):
    make_note(other_user, ["plumbago plumbing"])
    assert suggest(user, "plu") == ["plumbcr", "plumber"]
    assert suggest(user, "") == []


def test_search_page_json_and_note_highlight(alice_client, user, corpus):
    page = alice_client.get(reverse("ocr_app:search"), {"q": "plumber"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<mark>plumber</mark>" in html and "approximate match" in html and "Call the plumber about coffee" not in html
    data = alice_client.get(reverse("ocr_app:search_json"), {"q": "plumber"}).json()
    assert [n["id"] for n in data["notes"]] == ids(corpus, "plumber", "misread")
    assert data["notes"][1]["approximate"] is True
    assert data["fuzzy_words"] == {"plumber": ["plumbcr"]}
    assert alice_client.get(reverse("ocr_app:search_json"), {"q": "x", "from": "yesterday"}).status_code == 400
    assert alice_client.get(reverse("ocr_app:suggest"), {"q": "bud"}).json() == {"suggestions": ["budget"]}


def test_index_can_be_rebuilt(user, corpus):
    rebuild_search_index()
    assert index_drift() is None
    assert found(user, "sarah") == ids(corpus, "budget")


@pytest.fixture
def restore_index_afterwards():
    yield
    ensure_search_index()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite table rebuilds are what drop triggers")
@pytest.mark.django_db(transaction=True)
def test_sqlite_table_rebuild_drops_triggers_and_migrate_restores_them(user, corpus, restore_index_afterwards):
    # What a migration altering a Line field does on SQLite: copy, drop, rename the table.
    with connection.schema_editor() as editor:
        editor._remake_table(Line)
    assert "missing" in index_drift()
    from django.core import checks

    assert [e.id for e in checks.run_checks(databases=["default"]) if e.id.startswith("inkdex.E")] == ["inkdex.E001"]

    # Lines written meanwhile are not in the index...
    make_note(user, ["written while the triggers were gone: zeppelin"])
    assert found(user, "zeppelin") == []
    # ...until the index is restored (migrate does this after every run).
    assert ensure_search_index() != []
    assert index_drift() is None
    assert len(found(user, "zeppelin")) == 1


def test_note_page_highlights_the_hit_lines_and_their_boxes(alice_client, corpus):
    note = corpus["plumber"]
    html = alice_client.get(reverse("ocr_app:note_detail", args=[note.pk]), {"q": "plumber"}).content.decode()
    assert '<li id="line-0" data-line="0" class="line hit">' in html
    assert 'class="line hit"' not in html.split('id="line-1"')[1]
    assert "<mark>plumber</mark>" in html
    assert 'class="box conf-high hit"' in html
    # The matched word's own box from the engine, drawn on the image.
    assert '<rect class="word-hit" x="170" y="10" width="70" height="60"/>' in html
    assert "1 line match" in html
    fragment = alice_client.get(reverse("ocr_app:note_lines", args=[note.pk]), {"q": "plumber"}).content.decode()
    assert "<mark>plumber</mark>" in fragment


@pytest.mark.parametrize("fast_path_share", [0.0, 1.01], ids=["whole-index-first", "owner-restricted"])
def test_other_users_best_matches_do_not_hide_a_users_own(user, other_user, monkeypatch, fast_path_share):
    """SQLite either looks at the best matches of the whole index first (when
    the user holds most lines) or restricts to the user inside the index; in
    both, other users' better matches must not hide this user's."""
    from ocr_app.search.backends import backend_for
    from ocr_app.search.backends.sqlite import SqliteBackend

    monkeypatch.setattr(SqliteBackend, "min_pool", 3)
    monkeypatch.setattr(SqliteBackend, "fast_path_share", fast_path_share)
    for i in range(8):
        make_note(other_user, ["plumber plumber plumber", f"note {i}"])
    mine = make_note(user, ["Ask the plumber about the long leak under the kitchen sink"])
    backend = backend_for(connection)
    [match] = backend.match_lines(connection, owner_id=user.pk, query=parse("plumber"), limit=1)
    assert match.line_id == mine.lines.get().pk
    assert len(backend.match_lines(connection, owner_id=other_user.pk, query=parse("plumber"), limit=5)) == 5
    assert [r.note.pk for r in search_notes(user, "plumber").notes] == [mine.pk]
    assert lines_matching(mine, "plumber").line_ids == {mine.lines.get().pk}
