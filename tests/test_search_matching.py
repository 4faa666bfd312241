"""Which lines of a note a query's words are on, and how close (no database)."""

from ocr_app.search.documents import NoteDocument
from ocr_app.search.highlight import Highlighter
from ocr_app.search.matching import Closeness, QueryMatcher, closeness, hit_lines
from ocr_app.search.query import parse
from ocr_app.templatetags.highlight import highlight


def document(*texts, alternatives=None):
    alternatives = alternatives or {}
    return NoteDocument(1, tuple(texts), tuple(alternatives.get(i, "") for i in range(len(texts))),
                        tuple(range(100, 100 + len(texts))))


def lines_of(query, doc, expansions=None):
    return QueryMatcher(parse(query), expansions).clause_lines(doc)


def test_words_are_found_whole_on_their_lines_whatever_their_case():
    doc = document("Call the PLUMBER", "plumbers arrive", "replumber_x", "the-plumber.")
    assert lines_of("plumber", doc) == [{0, 3}]  # not inside plumbers or replumber; _ separates like -
    assert lines_of("plumber*", doc) == [{0, 1, 3}]
    assert lines_of("x", doc) == [{2}]
    assert lines_of("call plumber -arrive", doc) == [{0}, {0, 3}]  # exclusions are the database's business


def test_phrase_wraps_onto_the_next_line_and_other_readings_count():
    doc = document("please call the", "plumber today", "nothing", alternatives={2: "call tbe plumber"})
    assert lines_of('"call the plumber"', doc) == [{0, 1}]
    assert lines_of('"the plumber today"', doc) == [{0, 1}]
    assert lines_of("tbe", doc) == [{2}]
    assert lines_of("plumbr", doc, {"plumbr": ["plumber"]}) == [{1, 2}]
    assert lines_of("café", document("Un CAFÉ noir")) == [{0}]


def test_closeness_is_the_tightest_run_of_lines_holding_every_clause():
    assert closeness([{3}, {3, 9}]) == Closeness(0, 3, 3)
    assert closeness([{1, 8}, {5, 9}]) == Closeness(1, 8, 9)
    assert closeness([{0}, {4}, {2}]) == Closeness(4, 0, 4)
    assert closeness([{0}, set()]) is None
    assert [closeness([{0}, {n}]).tier for n in (0, 1, 2, 3)] == [0, 1, 1, 2]


def test_snippet_shows_every_clause_and_at_most_three_lines():
    doc = document(*[f"milk {i}" for i in range(10)], "eggs")
    found = hit_lines(QueryMatcher(parse("milk eggs")), doc)
    assert found.snippet == (0, 9, 10) and len(found.lines) == 11 and found.tier == 1
    found = hit_lines(QueryMatcher(parse("eggs zebra")), doc)
    assert found.tier == 3 and found.snippet == (10,)


def test_highlighting_folds_case_as_the_index_does():
    # The query's words come folded ("Straße" is "strasse"); the text keeps its own letters.
    assert Highlighter({"strasse"}).spans("Die Straße, STRASSE") == ((4, 10), (12, 19))
    assert highlight("Die Straße", Highlighter({"strasse"}).spans("Die Straße")) == "Die <mark>Straße</mark>"
    assert Highlighter(set(), {"stras"}).spans("x Straßenbahn") == ((2, 13),)
    assert Highlighter({"strasse"}).word_boxes([{"text": "Straße", "box": {"x": 1}}]) == [{"x": 1}]
