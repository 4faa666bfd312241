"""Full-text search: one suite, run on SQLite and again on PostgreSQL (see ./inkdex test).

Notes and lines are made directly here (no OCR) so that each query's expected
result set is known exactly; both backends must return the same notes. A note
matches when the query's words occur anywhere in it, on any of its lines.
"""

from datetime import datetime, timezone

import pytest
from django.db import connection, models
from django.urls import reverse

import ocr_app.search
from ocr_app.models import Line
from ocr_app.search import DATE, Filters, lines_matching, search_notes, suggest
from ocr_app.search.backends import backend_for
from ocr_app.search.documents import NoteDocument
from ocr_app.search.index import ensure_search_index, index_drift, rebuild_search_index
from ocr_app.search.query import parse
from ocr_app.services.titles import rename_note
from ocr_app.templatetags.highlight import highlight

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
        "econ": make_note(user, ["Econ 110 - 06/02", "read case study on tariffs",
                                 "elasticity = % change Q / % change P"], name="econ.jpg"),
        "costco": make_note(user, ["COSTCO LIST", "3 BANANAS", "paper towels"], name="costco.jpg"),
        "wrapped": make_note(user, ["Remember to call the", "dentist before Friday"], name="wrapped.jpg"),
    }
    return notes


def found(user, query, **filters):
    return [r.note.pk for r in search_notes(user, query, filters=Filters(**filters)).notes]


def ids(corpus, *names):
    return [corpus[name].pk for name in names]


def marked(line_result) -> str:
    """A result line as the pages show it."""
    return str(highlight(line_result.line.text, line_result.highlights))


def test_one_word_only_own_notes(user, other_user, corpus):
    assert found(user, "plumber") == ids(corpus, "plumber", "misread")  # exact first, then fuzzy
    assert found(other_user, "plumber") == ids(corpus, "bobs")


def test_all_words_must_match_anywhere_in_the_note(user, corpus):
    assert found(user, "buy milk") == ids(corpus, "plumber")
    assert found(user, "buy eggs coffee") == []
    # Words on different lines of one note find it.
    assert found(user, "tariffs elasticity") == ids(corpus, "econ")
    assert found(user, "econ tariffs") == ids(corpus, "econ")
    assert found(user, "costco bananas") == ids(corpus, "costco")
    assert found(user, "monday eggs") == ids(corpus, "plumber")
    # ...but every word must be in the same note.
    assert found(user, "costco tariffs") == []
    assert found(user, "plumber sarah") == []


def test_phrase_runs_on_across_a_line_break(user, corpus):
    assert found(user, '"call the dentist"') == ids(corpus, "wrapped")
    assert found(user, '"the dentist before"') == ids(corpus, "wrapped")
    assert found(user, '"dentist the"') == []
    # The last line of one note does not run on into another note.
    assert found(user, '"monday buy"') == ids(corpus, "plumber")
    assert found(user, '"eggs email"') == []


def test_excluded_word_on_another_line_excludes_the_note(user, corpus):
    assert found(user, "plumber -milk") == ids(corpus, "misread")  # only the approximate note is left
    assert found(user, "list -bananas") == []
    assert found(user, 'list -"paper towels"') == []
    assert found(user, "list -towel*") == []
    assert found(user, "list -apples") == ids(corpus, "costco")
    # An engine's other reading never hides a note: only the lines' text counts.
    assert found(user, "filters -coffee") == ids(corpus, "alt")


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
    assert "<mark>plumbcr</mark>" in marked(results[1].lines[0])
    # A misspelt query finds the right word too (and the misread one), both as approximate
    # matches; between two approximate matches no order is promised.
    results = search_notes(user, "plumbre").notes
    assert sorted((r.note.pk, r.fuzzy) for r in results) == sorted(
        [(corpus["plumber"].pk, True), (corpus["misread"].pk, True)]
    )
    assert found(user, "landlrod") == ids(corpus, "coffee")


def test_alternative_readings_are_searchable_below_best_readings(user, corpus):
    results = search_notes(user, "coffee").notes
    assert [r.note.pk for r in results] == ids(corpus, "coffee", "alt")


def test_filters_needs_review_and_dates(user, corpus):
    assert found(user, "landlord", needs_review=True) == ids(corpus, "coffee")
    # A note waits for review when any of its lines does, whichever line the word is on.
    assert found(user, "coffee", needs_review=True) == ids(corpus, "coffee")
    assert found(user, "plumber", needs_review=True) == []
    assert found(user, "coffee", needs_review=False) == ids(corpus, "alt")
    october = dict(uploaded_from=datetime(2026, 10, 1, tzinfo=timezone.utc),
                   uploaded_before=datetime(2026, 10, 31, tzinfo=timezone.utc))
    assert found(user, "budget", **october) == ids(corpus, "budget")
    assert found(user, "plumber", **october) == []


def test_highlight_escapes_ocr_text(user):
    make_note(user, ["<script>alert(1)</script> milk", "<img src=x onerror=alert(1)>"])
    [result] = search_notes(user, "milk").notes
    html = marked(result.lines[0])
    assert "<script>" not in html and "&lt;script&gt;" in html and "<mark>milk</mark>" in html
    [result] = search_notes(user, "onerror").notes
    assert "<img" not in marked(result.lines[0])


def test_search_gives_where_the_words_are_and_the_filter_escapes_everything_else(user):
    make_note(user, ["<script>alert('milk & eggs')</script>", "Tom & Jerry <b>milk</b>"])
    [result] = search_notes(user, "milk").notes
    # The search gives data: the text as read, and where the word is in it.
    assert [(line.line.text, line.highlights) for line in result.lines] == [
        ("<script>alert('milk & eggs')</script>", ((15, 19),)), ("Tom & Jerry <b>milk</b>", ((15, 19),))]
    assert [marked(line) for line in result.lines] == [
        "&lt;script&gt;alert(&#x27;<mark>milk</mark> &amp; eggs&#x27;)&lt;/script&gt;",
        "Tom &amp; Jerry &lt;b&gt;<mark>milk</mark>&lt;/b&gt;",
    ]
    # Markup inside a match is escaped too, and spans that overlap, come out of order
    # or run past the end never mark (or repeat) text twice.
    assert highlight("a<b>&c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>&amp;c"
    assert highlight("abcdef", [(0, 3), (2, 5), (1, 2), (5, 99)]) == "<mark>abc</mark><mark>de</mark><mark>f</mark>"
    assert highlight("<i>", []) == highlight("<i>", None) == "&lt;i&gt;"


def test_changed_line_text_is_searchable_at_once_and_old_text_is_gone(user, corpus):
    rename_note(note=corpus["misread"], text="The leak")  # its automatic title holds the old text
    line = corpus["misread"].lines.get()
    Line.objects.filter(pk=line.pk).update(text="Ask plumber about the leak")
    line.refresh_from_db()
    assert set(found(user, "plumber")) == set(ids(corpus, "plumber", "misread"))
    assert [r.fuzzy for r in search_notes(user, "plumber").notes] == [False, False]
    # The old text is out of the index: "plumbcr" finds the notes only approximately, as "plumber".
    results = search_notes(user, "plumbcr").notes
    assert sorted((r.note.pk, r.fuzzy) for r in results) == sorted(
        [(corpus["plumber"].pk, True), (corpus["misread"].pk, True)]
    )


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
    assert "1 note matches, and 1 more approximately" in html
    html = alice_client.get(reverse("ocr_app:search"), {"q": "read elasticity", "sort": "date"}).content.decode()
    assert "1 note matches · newest first" in html and "<mark>elasticity</mark>" in html
    assert '<option value="date" selected>' in html
    data = alice_client.get(reverse("ocr_app:search_json"), {"q": "plumber"}).json()
    assert (data["count"], data["count_capped"], data["approximate_count"], data["sort"]) == (1, False, 1, "relevance")
    assert [n["id"] for n in data["notes"]] == ids(corpus, "plumber", "misread")
    assert data["notes"][1]["approximate"] is True
    assert data["fuzzy_words"] == {"plumber": ["plumbcr"]}
    assert alice_client.get(reverse("ocr_app:search_json"), {"q": "x", "from": "yesterday"}).status_code == 400
    assert alice_client.get(reverse("ocr_app:search_json"), {"q": "x", "sort": "random"}).status_code == 400
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


def test_other_users_better_matches_do_not_hide_a_users_own(user, other_user):
    for i in range(8):
        make_note(other_user, ["plumber plumber plumber", f"note {i}"])
    mine = make_note(user, ["Ask the plumber about the long leak under the kitchen sink"])
    assert [r.note.pk for r in search_notes(user, "plumber").notes] == [mine.pk]
    assert len(search_notes(other_user, "plumber").notes) == 8
    assert lines_matching(mine, "plumber").line_ids == {mine.lines.get().pk}


def test_fuzzy_word_on_one_line_and_exact_word_on_another(user, corpus):
    note = make_note(user, ["Ask plumbcr about it", "under the kitchen sink"], name="kitchen.jpg")
    results = search_notes(user, "plumber kitchen")
    assert [(r.note.pk, r.fuzzy) for r in results.notes] == [(note.pk, True)]
    assert results.expansions == {"plumber": ["plumbcr"]}
    assert [marked(line) for line in results.notes[0].lines] == [
        "Ask <mark>plumbcr</mark> about it", "under the <mark>kitchen</mark> sink"]
    assert (results.count, results.approximate_count) == (0, 1)


def test_words_close_together_rank_above_scattered_ones(user):
    filler = [f"unrelated words number {i}" for i in range(6)]
    # bm25 alone would put this one first: both words three times, in a short note.
    scattered = make_note(user, ["garden garden garden", *filler[:3], "shed shed shed"])
    neighbouring = make_note(user, [*filler, "tidy the garden", "paint the shed"])
    one_line = make_note(user, [*filler, "repair the garden shed door before winter comes"])
    assert found(user, "garden shed") == [one_line.pk, neighbouring.pk, scattered.pk]
    # One word alone: the database's score decides.
    assert found(user, "garden")[0] == scattered.pk
    # Closeness counts OR-groups and phrases as one clause each.
    assert found(user, '"the garden" shed OR hut') == [one_line.pk, neighbouring.pk]


def test_results_show_the_lines_holding_the_words(user, corpus):
    [result] = search_notes(user, "tariffs elasticity").notes
    assert [marked(line) for line in result.lines] == [
        "read case study on <mark>tariffs</mark>", "<mark>elasticity</mark> = % change Q / % change P"]
    assert result.match_count == 2
    [result] = search_notes(user, '"call the dentist"').notes
    assert [line.line.order for line in result.lines] == [0, 1]
    many = make_note(user, [f"milk {i}" for i in range(10)] + ["eggs at the end"],
                     uploaded_at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    [result] = search_notes(user, "milk eggs -coffee", filters=Filters(uploaded_from=many.uploaded_at)).notes
    # At most three lines, and the words' tightest run among them: both words show.
    assert [line.line.order for line in result.lines] == [0, 9, 10] and result.match_count == 11


def test_count_and_sorting_by_date(user, corpus):
    older = make_note(user, ["the budget for 2026"], uploaded_at=datetime(2025, 1, 5, tzinfo=timezone.utc))
    newer = make_note(user, ["a budget"], uploaded_at=datetime(2026, 11, 30, tzinfo=timezone.utc))
    results = search_notes(user, "budget")
    assert (results.count, results.count_capped, results.approximate_count) == (3, False, 0)
    assert [r.note.pk for r in search_notes(user, "budget", sort=DATE).notes] == [
        newer.pk, corpus["budget"].pk, older.pk]
    assert [r.note.pk for r in search_notes(user, "budget", sort=DATE, per_page=2, page=2).notes] == [older.pk]


def test_beyond_the_ranking_window_older_matches_follow_newest_first(user, monkeypatch):
    monkeypatch.setattr(ocr_app.search, "RANKING_WINDOW", 3)
    notes = [make_note(user, [f"walk the dog {i}"]) for i in range(3)]
    notes += [make_note(user, ["walk walk walk the dog", "dog"]) for _ in range(3)]  # the best scores
    results = search_notes(user, "dog walk", per_page=4)
    assert (results.count, results.count_capped, results.has_next) == (3, True, True)
    assert results.approximate_count is None  # the exact matches fill the page: no need to look
    # The three newest are ranked; then the others, newest first.
    first_page = [r.note.pk for r in results.notes]
    assert sorted(first_page[:3]) == [n.pk for n in notes[3:]] and first_page[3] == notes[2].pk
    assert [r.note.pk for r in search_notes(user, "dog walk", per_page=4, page=2).notes] == [notes[1].pk, notes[0].pk]


def test_note_page_highlights_every_line_holding_any_query_word(alice_client, corpus):
    note = corpus["econ"]
    html = alice_client.get(reverse("ocr_app:note_detail", args=[note.pk]), {"q": "tariffs elasticity -cats"}).content.decode()
    assert 'class="line hit"' not in html.split('id="line-1"')[0]
    assert '<li id="line-1" data-line="1" class="line hit">' in html
    assert '<li id="line-2" data-line="2" class="line hit">' in html
    assert "2 lines match" in html
    wrapped = corpus["wrapped"]
    assert lines_matching(wrapped, '"call the dentist"').line_ids == set(wrapped.lines.values_list("pk", flat=True))
    assert lines_matching(wrapped, "friday").line_ids == {wrapped.lines.get(order=1).pk}
    assert lines_matching(wrapped, "-friday").line_ids == set()


def test_documents_follow_every_way_lines_change(user, corpus):
    backend = backend_for(connection)
    note = make_note(user, ["first line", "second line"], alternatives={1: ["sec0nd ünïcode", "2nd"]})

    def stored():
        return backend.documents(connection, [note.pk]).get(note.pk)

    assert stored() == NoteDocument.from_lines(note.pk, note.lines.all(), note.title)
    assert stored().alternatives == ("", "sec0nd ünïcode 2nd")
    Line.objects.filter(note=note, order=0).update(text="changed\x1eline")  # the separator never splits a line
    Line.objects.filter(note=note).update(order=models.F("order") + 10)
    Line.objects.create(note=note, owner=user, order=5, text="now first", confidence=90, x=0, y=0, width=1, height=1)
    assert stored().texts == ("now first", "changed line", "second line")
    assert found(user, '"now first changed"') == [note.pk]
    moved = corpus["costco"].lines.get(order=1)
    Line.objects.filter(pk=moved.pk).update(note=note, order=99)
    assert stored().texts[-1] == "3 BANANAS" and found(user, "bananas") == [note.pk]
    assert found(user, "costco") == ids(corpus, "costco")
    note.lines.all().delete()
    assert stored() is None and found(user, "second") == []
    assert index_drift() is None


@pytest.mark.django_db(transaction=True)
def test_an_install_with_the_line_index_upgrades_on_migrate(user, restore_index_afterwards):
    """The database as the previous version left it: its per-line index, migration
    0008 not applied. The system check must not stop ``migrate``, which upgrades it."""
    from django.core import checks
    from django.core.management import call_command
    from django.db.migrations.recorder import MigrationRecorder

    from ocr_app.search.backends import postgres, sqlite

    make_note(user, ["COSTCO LIST", "3 BANANAS"])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in [*sqlite.LINE_TRIGGERS, *sqlite.INDEX_TRIGGERS]:
                cursor.execute(f"DROP TRIGGER {name}")
            cursor.execute(f"DROP TABLE {sqlite.FTS_TABLE}")
            cursor.execute(f"CREATE VIRTUAL TABLE {sqlite.OLD_TABLE} USING fts5(text, content='ocr_app_line')")
        else:
            for name in postgres.TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name} ON ocr_app_line")
            cursor.execute(f"ALTER TABLE ocr_app_line ADD COLUMN {postgres.OLD_COLUMN} tsvector")
        cursor.execute("DROP TABLE ocr_app_note_text")
    # The previous version had none of the later migrations either (Django refuses a
    # history with a gap); their changes are still in this database, so they are only
    # recorded again once 0008 ran.
    MigrationRecorder(connection).migration_qs.filter(app="ocr_app", name__gte="0008").delete()
    assert [e for e in checks.run_checks(databases=["default"]) if e.id.startswith("inkdex.E")] == []

    call_command("migrate", "ocr_app", "0008_note_search", verbosity=0)
    call_command("migrate", fake=True, verbosity=0)
    assert found(user, "costco bananas") == [user.notes.get().pk]
    assert index_drift() is None
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = %s", [sqlite.OLD_TABLE])
        else:
            cursor.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'ocr_app_line' "
                           "AND column_name = %s", [postgres.OLD_COLUMN])
        assert cursor.fetchone()[0] == 0
