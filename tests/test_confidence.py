"""Line confidence predicts whether a line was read right."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ocr_app.engines.base import Box, RecognizedLine, RecognizedWord
from ocr_app.engines.confidence import FEATURES, Calibration, calibrated_confidence, features
from ocr_app.pipeline.engine_selection import get_engine
from tests.notegen import render_note


def line(text: str, score: float = 95.0, alternatives=(), words=None) -> RecognizedLine:
    """A line whose words are its text's (or ``words``: (text, confidence) pairs),
    each word box 10 px per character with a 10 px gap."""
    pairs = [(w, score) for w in text.split()] if words is None else words
    boxes, x = [], 0
    for word, confidence in pairs:
        boxes.append(RecognizedWord(word, confidence, Box(x, 0, 10 * len(word), 20)))
        x += 10 * len(word) + 10
    return RecognizedLine(text, score, Box(0, 0, max(x, 10), 20), tuple(boxes), tuple(alternatives))


def named(line_: RecognizedLine, **options) -> dict[str, float]:
    return dict(zip(FEATURES, features(line_, "en", **options)))


def test_the_owners_own_words_count_as_common_words_whatever_their_case():
    assert named(line("Call Tsukimura on Monday"))["rarest_word"] == 1.0
    assert named(line("Call Tsukimura on Monday"), user_words=("tsukimura",))["rarest_word"] < 0.5
    assert named(line("CALL TSUKIMURA ON MONDAY"), user_words=("Tsukimura", "Okonkwo"))["rarest_word"] < 0.5
    assert named(line("Call Tsukimurra on Monday"), user_words=("Tsukimura",))["rarest_word"] == 1.0  # only the word itself
    sure_of_the_name = calibrated_confidence(line("Call Tsukimura on Monday"), user_words=("Tsukimura",))
    assert sure_of_the_name > calibrated_confidence(line("Call Tsukimura on Monday"))


def test_a_misreading_gets_a_lower_confidence_than_the_right_reading_at_the_same_engine_score():
    right = calibrated_confidence(line("Call the plumber on Monday"))
    misread = calibrated_confidence(line("Call the plumbcr on Mondlay"))
    unsure = calibrated_confidence(line("Call the plumbcr on Mondlay", alternatives=["Call the plumber on Monday"]))
    assert right > 75 > misread > unsure


def test_features_are_what_the_weights_expect():
    read = named(line("Pay the bi11s", score=99.0, alternatives=["Pay the bills", "Pay thebi11s"]))
    assert read == pytest.approx(
        {
            "engine": 0.99,
            "engine_nines": 0.5,  # two nines of four
            "rarest_word": 0.0,  # "Pay", "the": common words ("bi11s" is no word of letters)
            "weakest_uncommon_word": 0.99,  # "bi11s"
            "word_alternatives": 1 / 3,  # "Pay thebi11s" only changes a space
            "alternative_gain": 1.0,  # "bills" is a common word, "bi11s" none (the gain is capped)
            "lexicon_replaced": 0.0,
            "widest_word": 0.0,
            "glued": 0.0,
        },
        abs=0.02,
    )


def test_a_rare_word_weighs_on_the_confidence_unless_it_is_one_of_the_owners_words():
    plain = named(line("Call Wrzesniak about the plumber"))
    assert plain["rarest_word"] == pytest.approx(1.0)  # no word of English
    assert named(line("Call Wrzesniak about the plumber"), user_words=("Wrzesniak",))["rarest_word"] < 0.2
    assert calibrated_confidence(line("Call Wrzesniak about the plumber"), user_words=("Wrzesniak",)) > calibrated_confidence(
        line("Call Wrzesniak about the plumber")
    )


def test_a_space_dropped_shows_in_the_word_boxes_and_in_a_word_too_wide_for_its_letters():
    # The recogniser saw two words where the text has one.
    glued = line("PICKUP DRY CLEANING", words=[("PICK", 99.0), ("UP", 99.0), ("DRY", 99.0), ("CLEANING", 99.0)])
    assert named(glued)["glued"] == 1.0
    assert named(line("PICK UP DRY CLEANING"))["glued"] == 0.0
    # A line cut into single characters says nothing.
    assert named(line("Mia:prepare", words=[(c, 99.0) for c in "Mia:prepare"]))["glued"] == 0.0

    wide = line("NEXT MEETING19 AT 8:30")
    wide = RecognizedLine(
        wide.text, wide.confidence, wide.box,
        tuple(replace(w, box=replace(w.box, width=w.box.width * 3)) if w.text == "MEETING19" else w for w in wide.words),
    )
    assert named(wide)["widest_word"] == pytest.approx((3 - 1) / 3)
    assert named(line("NEXT MEETING 19 AT 8:30"))["widest_word"] == 0.0
    assert calibrated_confidence(glued) < 75 < calibrated_confidence(line("PICK UP DRY CLEANING", score=99.0))


def test_a_word_the_lexicon_replaced_is_known_by_the_reading_it_replaced():
    # The lexicon's reading goes first among the alternatives; its word is unsure.
    replaced = line(
        "Renew passport", score=96.5, alternatives=["Renew pusspert"], words=[("Renew", 100.0), ("passport", 4.0)]
    )
    features_ = named(replaced)
    assert features_["lexicon_replaced"] == 1.0
    assert features_["weakest_uncommon_word"] == 1.0  # "passport" is a common word: its doubt is the lexicon's
    assert features_["alternative_gain"] < 0.5  # the reading replaced is no word
    assert calibrated_confidence(replaced) >= 75


def test_the_features_of_a_line_in_a_language_wordfreq_cannot_cut_into_words():
    # wordfreq cuts Chinese into words only with jieba, which Inkdex does not install:
    # its words then count as common rather than the engine failing on the note.
    chinese = line("下午开会 10:30", words=[("下午开会", 90.0), ("10:30", 95.0)])
    assert dict(zip(FEATURES, features(chinese, "zh")))["rarest_word"] == 0.0  # an everyday word's
    assert 0 < calibrated_confidence(chinese, "zh") <= 100


def test_an_owners_word_with_a_sharp_s_is_theirs_in_every_feature():
    # "ß" lower-cases to itself but case-folds to "ss": the owner's words and the
    # line's words must be folded alike, or the alternative reading looks like a gain.
    read = line("Treffen Fußgasse 4", alternatives=["Treffen Fufsgasse 4"])
    assert named(read)["alternative_gain"] > 0
    assert named(read, user_words=("Fußgasse",))["alternative_gain"] == 0.0


def test_weights_for_other_features_are_refused():
    current = {name: 1.0 for name in FEATURES}
    assert Calibration.of(current, -1.0).bias == -1.0
    with pytest.raises(ValueError, match="lack the features engine_nines"):
        Calibration.of({name: 1.0 for name in FEATURES if name != "engine_nines"}, -1.0)
    with pytest.raises(ValueError, match=r"features this version does not compute \(short\)"):
        Calibration.of({**current, "short": 0.0}, -1.0)


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
    assert dict(alone.features)["rarest_word"] == 1.0
    assert dict(with_words.features)["rarest_word"] < 0.5
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
