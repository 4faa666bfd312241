"""Alternative readings of a line from the recogniser's character probabilities."""

import itertools
import pickle
import re

import numpy as np
import pytest

from ocr_app.engines import Box, RecognizedLine
from ocr_app.engines.alternatives import ctc_readings, joined_alternatives, key, line_alternatives
from ocr_app.engines.layout import group_into_lines
from ocr_app.engines.rapidocr_engine import RapidOcrEngine, _with_joined_alternatives
from ocr_app.pipeline.engine_selection import get_engine
from tests.notegen import PRINT_FONT, SAMPLE_LINES, render_note

# Column 0 is CTC's blank, as in RapidOCR's alphabet.
ALPHABET = ["blank", "b", "o", "c", "k", "s", " ", "l", "i", "B", "口"]


def matrix(*steps):
    """A (time steps x alphabet) probability matrix; each step is {symbol: probability},
    the rest of the step's mass (if any) spread over the unused symbols."""
    probs = np.zeros((len(steps), len(ALPHABET)), dtype=np.float32)
    for t, step in enumerate(steps):
        for symbol, p in step.items():
            probs[t, ALPHABET.index(symbol)] = p
        rest = 1 - sum(step.values())
        unused = [i for i in range(len(ALPHABET)) if ALPHABET[i] not in step]
        probs[t, unused] = rest / len(unused)
    return probs


def sure(symbol):
    return {symbol: 1.0}


GAP = sure("blank")


def test_unsure_character_gives_the_runner_up_reading():
    probs = matrix(sure("b"), GAP, sure("o"), GAP, {"c": 0.56, "o": 0.44}, GAP, sure("k"), GAP, sure("s"))
    readings = ctc_readings(probs, ALPHABET)
    assert [text for text, _ in readings] == ["bocks", "books"]
    assert readings[0][1] == pytest.approx(0.56) and readings[1][1] == pytest.approx(0.44)

    alternatives = line_alternatives(probs, ALPHABET, "bocks")
    assert alternatives == [("books", pytest.approx(0.44 / 0.56, abs=1e-3))]


def test_a_line_read_without_doubt_has_no_alternatives():
    probs = matrix(sure("b"), GAP, {"o": 0.97, "c": 0.03}, GAP, sure("o"), sure("k"), GAP, sure("s"))
    assert line_alternatives(probs, ALPHABET, "books") == []


def test_readings_sum_over_alignments_and_a_repeat_needs_a_blank_between():
    # o o o collapses to "o"; o - o to "oo". P("o") = .9*.6*.9, P("oo") = .9*.4*.9.
    probs = matrix(sure("b"), {"o": 0.9, "blank": 0.1}, {"o": 0.6, "blank": 0.4}, {"o": 0.9, "blank": 0.1})
    readings = dict(ctc_readings(probs, ALPHABET))
    assert set(readings) == {"bo", "boo", "b"}
    # Brute force: every path over {o, blank} after the "b", collapsed.
    exact = {}
    for path in itertools.product(["o", "blank"], repeat=3):
        collapsed = "b" + "".join(s for i, s in enumerate(path) if s != "blank" and (i == 0 or path[i - 1] != s))
        p = np.prod([probs[t, ALPHABET.index(s)] for t, s in enumerate(path, start=1)])
        exact[collapsed] = exact.get(collapsed, 0) + p
    assert exact.keys() == readings.keys()
    for text, p in exact.items():
        assert readings[text] == pytest.approx(p / sum(exact.values()), abs=1e-6), text
    assert line_alternatives(probs, ALPHABET, "bo")[0][0] == "boo"


def test_alternatives_are_few_distinct_and_best_first():
    # Four unsure letters: many readings, at most three alternatives, none the text itself.
    unsure = [{"l": 0.55, "i": 0.45}, {"o": 0.6, "c": 0.4}, {"k": 0.7, "s": 0.3}, {"s": 0.65, "c": 0.35}]
    steps = []
    for step in unsure:
        steps += [step, GAP]
    probs = matrix(*steps)
    alternatives = line_alternatives(probs, ALPHABET, "loks")
    assert 1 <= len(alternatives) <= 3
    texts = [text for text, _ in alternatives]
    assert "loks" not in texts and len(set(texts)) == len(texts)
    assert texts[0] == "ioks"  # the closest call flipped first
    relatives = [p for _, p in alternatives]
    assert relatives == sorted(relatives, reverse=True) and all(0 < p <= 1 for p in relatives)


def test_case_only_and_wide_character_readings_are_not_alternatives():
    probs = matrix({"b": 0.55, "B": 0.45}, GAP, sure("o"), GAP, {"o": 0.5, "口": 0.5}, GAP, sure("k"))
    assert line_alternatives(probs, ALPHABET, "book") == []


def test_unlikely_readings_are_not_offered():
    probs = matrix(sure("b"), GAP, {"o": 0.91, "c": 0.09}, GAP, sure("k"))
    assert [text for text, _ in line_alternatives(probs, ALPHABET, "bok")] == ["bck"]
    assert line_alternatives(probs, ALPHABET, "bok", min_relative_prob=0.2) == []


def test_alternatives_of_joined_fragments_are_whole_lines():
    assert joined_alternatives([("Return", []), ("library", [("lihrary", 0.3)]), ("bocks", [("books", 0.8)])]) == (
        "Return library books",
        "Return lihrary bocks",
    )
    left = RecognizedLine("Return library", 90, Box(10, 10, 300, 40), alternatives=("Retumn library",))
    right = RecognizedLine("bocks", 80, Box(330, 12, 120, 40), alternatives=("books",))
    other = RecognizedLine("eggs", 99, Box(10, 100, 100, 40))
    fragments = [left, right, other]
    lines = group_into_lines(fragments)
    assert lines[0].text == "Return library bocks" and lines[0].alternatives == ()
    alts = {id(left): [("Retumn library", 0.2)], id(right): [("books", 0.9)], id(other): []}
    lines = _with_joined_alternatives(lines, fragments, alts)
    assert lines[0].alternatives == ("Return library books", "Retumn library bocks")
    assert lines[1] is other


def words(texts):
    return {w for text in texts for w in re.findall(r"[a-z0-9]+", text.casefold())}


@pytest.fixture(scope="module")
def engine():
    # As the worker runs it: in a child process (per ENGINE_ISOLATION), results pickled back.
    return get_engine("rapidocr")


def test_real_engine_offers_alternatives_for_unsure_lines(engine):
    image, drawn = render_note(SAMPLE_LINES[:6], font="breip", blur=1.5, ruled=True)
    recognition = engine.recognize(image)
    pickle.loads(pickle.dumps(recognition))
    assert len(recognition.lines) == len(drawn)

    with_alternatives = [line for line in recognition.lines if line.alternatives]
    assert with_alternatives, [line.text for line in recognition.lines]
    for line in recognition.lines:
        assert isinstance(line.alternatives, tuple) and len(line.alternatives) <= 3
        assert all(isinstance(a, str) and a.strip() for a in line.alternatives)
        assert key(line.text) not in {key(a) for a in line.alternatives}
        assert len({key(a) for a in line.alternatives}) == len(line.alternatives)

    # Search gains: a word the best reading got wrong is found through an alternative.
    truth = words(SAMPLE_LINES[:6])
    missed = truth - words(line.text for line in recognition.lines)
    assert missed, "the image should be hard enough to misread a word"
    recovered = missed & words(a for line in recognition.lines for a in line.alternatives)
    assert recovered, (missed, [(line.text, line.alternatives) for line in recognition.lines])


def test_clear_print_has_no_alternatives(engine):
    image, _ = render_note(SAMPLE_LINES[:4], font=PRINT_FONT)
    recognition = engine.recognize(image)
    assert [line.text for line in recognition.lines] == SAMPLE_LINES[:4]
    assert all(line.alternatives == () for line in recognition.lines)


def test_alternatives_leave_the_rest_of_the_reading_unchanged():
    image, _ = render_note(SAMPLE_LINES[:4], font="breip", blur=1.5)
    # (The calibrated confidence weighs the alternatives in, so compare the engine's own score.)
    # (And the lexicon, which needs the probabilities too, is off in both.)
    with_alternatives = RapidOcrEngine(calibrate=False, lexicon=False).recognize(image)
    without = RapidOcrEngine(alternatives=False, calibrate=False, lexicon=False).recognize(image)
    assert any(line.alternatives for line in with_alternatives.lines)
    assert all(line.alternatives == () for line in without.lines)
    strip = lambda lines: [(l.text, l.confidence, l.box, l.words) for l in lines]  # noqa: E731
    assert strip(with_alternatives.lines) == strip(without.lines)
