"""Line confidence predicts whether a line was read right."""

from __future__ import annotations

import pytest

from ocr_app.engines.base import Box, RecognizedLine, RecognizedWord
from ocr_app.engines.confidence import calibrated_confidence, features, known_share
from ocr_app.pipeline.engine_selection import get_engine
from tests.notegen import render_note


def line(text: str, score: float = 95.0, alternatives=()) -> RecognizedLine:
    words = tuple(RecognizedWord(w, score, Box(0, 0, 10, 10)) for w in text.split())
    return RecognizedLine(text, score, Box(0, 0, 100, 20), words, tuple(alternatives))


def test_words_of_the_language_count_for_the_reading():
    assert known_share("Call the plumber on Monday", "en") == 1.0
    assert known_share("Call the plumbcr on Mondlay", "en") == pytest.approx(0.5)
    assert known_share("4pm 12:30", "en") == 1.0  # no words to check
    assert known_share("Rufen Sie den Klempner an", "de") == 1.0


def test_the_owners_own_words_count_as_words_of_the_language_whatever_their_case():
    assert known_share("Call Tsukimura on Monday", "en") == pytest.approx(2 / 3)
    assert known_share("Call Tsukimura on Monday", "en", ("tsukimura",)) == 1.0
    assert known_share("CALL TSUKIMURA ON MONDAY", "en", ("Tsukimura", "Okonkwo")) == 1.0
    assert known_share("Call Tsukimurra on Monday", "en", ("Tsukimura",)) == pytest.approx(2 / 3)  # only the word itself
    sure_of_the_name = calibrated_confidence(line("Call Tsukimura on Monday"), user_words=("Tsukimura",))
    assert sure_of_the_name > calibrated_confidence(line("Call Tsukimura on Monday"))


def test_a_misreading_gets_a_lower_confidence_than_the_right_reading_at_the_same_engine_score():
    right = calibrated_confidence(line("Call the plumber on Monday"))
    misread = calibrated_confidence(line("Call the plumbcr on Mondlay"))
    unsure = calibrated_confidence(line("Call the plumbcr on Mondlay", alternatives=["Call the plumber on Monday"]))
    assert right > 75 > misread > unsure


def test_features_are_what_the_weights_expect():
    assert features(line("Pay the bi11s", score=80.0, alternatives=["Pay the bills"]), "en") == pytest.approx(
        (0.8, 0.8, 1 / 3, 1.0, (2 / 3) ** 1.5, 0.0), abs=0.01
    )


def test_the_engine_reports_calibrated_confidences():
    image, _ = render_note(["Call the plumber on Monday", "Buy milk, eggs and coffee"], font="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    recognition = get_engine().recognize(image)
    assert [l.text for l in recognition.lines] == ["Call the plumber on Monday", "Buy milk, eggs and coffee"]
    # Printed, plain words: confidently right.
    assert all(l.confidence >= 90 for l in recognition.lines)


def test_the_engine_is_surer_of_a_line_whose_only_unusual_word_is_one_of_the_owners_words():
    image, _ = render_note(["Call Tsukimura on Monday"], font="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    engine = get_engine()  # in its child process, as the worker runs it: the words go through its pipe
    [alone] = engine.recognize(image, "en").lines
    [with_words] = engine.recognize(image, "en", user_words=("Priya", "tsukimura")).lines
    assert alone.text == with_words.text == "Call Tsukimura on Monday"
    assert dict(alone.features)["known_words"] == pytest.approx(2 / 3, abs=0.001)
    assert dict(with_words.features)["known_words"] == 1.0
    assert [name for name, _ in with_words.features] == [name for name, _ in alone.features]
    assert with_words.confidence > alone.confidence + 5


def test_the_engine_keeps_each_lines_features_and_weighs_them_with_the_weights_it_is_given():
    from ocr_app.engines.confidence import BUILT_IN, FEATURES, Calibration

    image, _ = render_note(["Call the plumber on Monday"], font="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    engine = get_engine()  # in its child process, as the worker runs it
    [read] = engine.recognize(image).lines
    assert [name for name, _ in read.features] == list(FEATURES)
    assert read.confidence == BUILT_IN.confidence(dict(read.features))

    doubtful = Calibration.of(dict(BUILT_IN.weights), BUILT_IN.bias - 6)
    engine.use_calibration(doubtful)
    try:
        [reweighed] = engine.recognize(image).lines
    finally:
        engine.use_calibration(None)
    assert reweighed.features == read.features
    assert reweighed.confidence == doubtful.confidence(dict(read.features)) < read.confidence - 20
