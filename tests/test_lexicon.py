"""Unclear words read as known words of the note's language (``ocr_app.engines.lexicon``)."""

import itertools
import string

import numpy as np
import pytest

from ocr_app.engines import Box, RecognizedWord
from ocr_app.engines.lexicon import known_word_reading, ctc_log_prob
from ocr_app.engines.rapidocr_engine import RapidOcrEngine, _with_known_words
from tests.notegen import PRINT_FONT, SAMPLE_LINES, render_note

# Column 0 is CTC's blank, as in RapidOCR's alphabet.
ALPHABET = ["blank"] + list(string.ascii_lowercase) + list(string.ascii_uppercase) + list(string.digits) + [":", " "]


def matrix(*steps):
    """(time steps x alphabet) probabilities; each step {symbol: p}, the rest spread evenly."""
    probs = np.zeros((len(steps), len(ALPHABET)))
    for t, step in enumerate(steps):
        for symbol, p in step.items():
            probs[t, ALPHABET.index(symbol)] = p
        unused = [i for i, s in enumerate(ALPHABET) if s not in step]
        probs[t, unused] = (1 - sum(step.values())) / len(unused)
    return probs


def spelled(text, unsure=None):
    """Steps writing ``text`` letter by letter with blanks between; ``unsure`` maps
    a position to the step to use there instead."""
    steps = []
    for index, char in enumerate(text):
        steps.append((unsure or {}).get(index, {char: 0.98}))
        steps.append({"blank": 0.98})
    return steps


def test_forward_probability_sums_every_alignment():
    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.ones(4), size=5)
    alphabet = ["blank", "a", "b", "c"]
    for labels in ([1], [1, 2], [1, 1], [3, 1, 3]):
        brute = 0.0
        for path in itertools.product(range(4), repeat=5):
            collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1])]
            if collapsed == labels:
                brute += np.prod([probs[t, c] for t, c in enumerate(path)])
        assert ctc_log_prob(probs, labels) == pytest.approx(np.log(brute)), [alphabet[c] for c in labels]


def test_an_unclear_unknown_word_becomes_the_known_word_nearly_as_likely():
    # "lrakes", but the first letter could well be a "b".
    probs = matrix(*spelled("new lrakes", {4: {"l": 0.6, "b": 0.35}}))
    corrected = known_word_reading(probs, ALPHABET, "new lrakes", "en")
    assert [word for word, _ in corrected] == ["new", "brakes"]
    assert corrected[0][1] == 1.0
    assert corrected[1][1] == pytest.approx(0.35 / 0.6, rel=0.05)


def test_clear_writing_keeps_its_reading_even_when_unknown():
    # A product code written clearly stays as it is, though "brakes" is one letter away.
    probs = matrix(*spelled("new brakxs"))
    assert known_word_reading(probs, ALPHABET, "new brakxs", "en") is None


def test_known_words_numbers_and_short_words_are_left_alone():
    probs = matrix(*spelled("bake 12345 xq", {0: {"b": 0.5, "m": 0.45}}))
    assert known_word_reading(probs, ALPHABET, "bake 12345 xq", "en") is None


def test_a_language_without_a_word_list_reads_as_the_recogniser_does():
    probs = matrix(*spelled("new lrakes", {4: {"l": 0.6, "b": 0.35}}))
    assert known_word_reading(probs, ALPHABET, "new lrakes", "xx") is None


def test_capitals_are_kept():
    probs = matrix(*spelled("LRAKES", {0: {"L": 0.6, "B": 0.35}}))
    assert known_word_reading(probs, ALPHABET, "LRAKES", "en") == [("BRAKES", pytest.approx(0.35 / 0.6, rel=0.05))]


def test_the_reading_replaced_is_kept_for_search_and_the_word_is_less_sure():
    words = (RecognizedWord("new", 99.0, Box(0, 0, 30, 20)), RecognizedWord("lrakes", 90.0, Box(40, 0, 60, 20)))
    text, new_words, alternatives = _with_known_words(
        "new lrakes", [("new", 1.0), ("brakes", 0.5)], words, [("new brakes", 0.4), ("new lrakos", 0.2)]
    )
    assert text == "new brakes"
    assert [alt for alt, _ in alternatives] == ["new lrakes", "new lrakos"]
    assert new_words[0] is words[0]
    assert new_words[1] == RecognizedWord("brakes", 45.0, Box(40, 0, 60, 20))


@pytest.fixture(scope="module")
def engine():
    return RapidOcrEngine()


def test_the_real_engine_keeps_a_clearly_written_unknown_word(engine):
    # Printed, so the recogniser is sure: "Zorblax" is no English word, nor "recieve"
    # (two edits from "receive"); both stay as written.
    image, _ = render_note(["Call Zorblax to recieve parts"], font=PRINT_FONT, size=64)
    text = " ".join(line.text for line in engine.recognize(image, "en").lines)
    assert "Zorblax" in text and "recieve" in text


def test_the_real_engine_reads_a_blurred_word_as_the_word_it_is(engine):
    # In this blurred handwriting the recogniser reads "appcintment"; with the
    # lexicon the line says "appointment", and the first reading stays findable.
    image, _ = render_note(SAMPLE_LINES[:4], font="breip", blur=1.5)
    plain = RapidOcrEngine(lexicon=False).recognize(image, "en")
    line = next(l for l in plain.lines if l.text.startswith("Dentist"))
    assert line.text == "Dentist appcintment at 4pm"

    line = next(l for l in engine.recognize(image, "en").lines if l.text.startswith("Dentist"))
    assert line.text == "Dentist appointment at 4pm"
    assert line.alternatives[0] == "Dentist appcintment at 4pm"
    assert [w.text for w in line.words] == ["Dentist", "appointment", "at", "4pm"]


def test_only_alphabetic_words_are_candidates():
    from ocr_app.engines.lexicon import vocabulary

    # Chinese notes keep the recogniser's characters; only the Latin words
    # Chinese text is mixed with can be corrected.
    chinese = [word for group in vocabulary("zh").values() for word in group]
    assert chinese and all(word.isascii() for word in chinese)
    assert "appointment" in vocabulary("en")[11] and "rendez" in vocabulary("fr")[6]


def test_a_dropped_space_between_two_known_words_is_put_back():
    # "membershipby": where the gap is, a space was nearly as likely as nothing.
    steps = spelled("membership") + [{"blank": 0.6, " ": 0.38}] + spelled("by")
    corrected = known_word_reading(matrix(*steps), ALPHABET, "membershipby", "en")
    assert corrected == [("membership by", pytest.approx(0.38 / 0.6, rel=0.1))]


LIKELY_GAP = {"blank": 0.6, " ": 0.38}  # a space nearly as likely as nothing


def glued(*pieces: str) -> list[dict]:
    """The steps of ``pieces`` read as one word, a likely space between each two."""
    steps = spelled(pieces[0])
    for piece in pieces[1:]:
        steps += [LIKELY_GAP] + spelled(piece)
    return steps


@pytest.mark.parametrize("pieces", [
    ("move", "release", "schedule"),
    ("MEETING", "19", "AT"),  # a word glued to a number
    ("DECISION:MOVE", "RELEASE", "SCHEDULE"),  # glued after punctuation
])
def test_a_run_of_glued_words_is_cut_where_the_spaces_were_likely(pieces):
    corrected = known_word_reading(matrix(*glued(*pieces)), ALPHABET, "".join(pieces), "en")
    assert [word for word, _ in corrected] == [" ".join(pieces)]


def test_units_stay_glued_to_their_number():
    # "4pm" is how times are written: no space is tried there, however likely.
    assert known_word_reading(matrix(*glued("4", "pm")), ALPHABET, "4pm", "en") is None


def test_full_width_and_circled_forms_become_plain_except_in_chinese():
    from ocr_app.engines import RecognizedLine
    from ocr_app.engines.rapidocr_engine import _in_plain_forms

    line = RecognizedLine(
        "DECISION：MOVE ⑥ PM", 80.0, Box(0, 0, 10, 10),
        words=(RecognizedWord("DECISION：MOVE", 80.0, Box(0, 0, 5, 10)),),
        alternatives=("DECISION:MOVE 6 PM", "DECISION：MOVE 6 AM"),
    )
    plain = _in_plain_forms(line)
    assert plain.text == "DECISION:MOVE 6 PM"
    assert plain.words[0].text == "DECISION:MOVE"
    assert plain.alternatives == ("DECISION:MOVE 6 AM",)


# --- the owner's own words (``user_words``) -----------------------------------------


def test_a_misread_name_becomes_the_owners_word_only_when_it_is_in_their_list():
    # "Okonkwa": the last letter could well be an "o". No dictionary word is near,
    # so without the owner's words the reading stays.
    probs = matrix(*spelled("call Okonkwa", {11: {"a": 0.7, "o": 0.25}}))
    assert known_word_reading(probs, ALPHABET, "call Okonkwa", "en") is None
    assert known_word_reading(probs, ALPHABET, "call Okonkwa", "en", ("Priya", "Zephyr")) is None
    corrected = known_word_reading(probs, ALPHABET, "call Okonkwa", "en", ("Priya", "Okonkwo"))
    assert [word for word, _ in corrected] == ["call", "Okonkwo"]


def test_the_owners_word_is_taken_though_a_little_less_likely():
    # "Priyu", the last letter possibly an "a": the owner's "Priya" is taken though
    # the recogniser finds it half as likely as its reading.
    probs = matrix(*spelled("ask Priyu", {8: {"u": 0.6, "a": 0.3}}))
    corrected = known_word_reading(probs, ALPHABET, "ask Priyu", "en", ("Priya",))
    assert [word for word, _ in corrected] == ["ask", "Priya"]


def test_a_dictionary_word_read_clearly_stays_even_near_an_owners_word():
    probs = matrix(*spelled("the price"))
    assert known_word_reading(probs, ALPHABET, "the price", "en", ("Priya", "prick")) is None


def test_a_dictionary_word_read_unclearly_may_be_the_owners_word():
    # "tone" is English, so it is left alone, unless the owner writes "Tome" and
    # the recogniser finds an "m" nearly as likely as the "n".
    probs = matrix(*spelled("ask tone", {6: {"n": 0.55, "m": 0.4}}))
    assert known_word_reading(probs, ALPHABET, "ask tone", "en") is None
    corrected = known_word_reading(probs, ALPHABET, "ask tone", "en", ("Tome",))
    # Scored in the reading's case, written as the owner writes it.
    assert [word for word, _ in corrected] == ["ask", "Tome"]


def test_a_reading_that_is_an_owners_word_is_never_changed():
    # "Zorblax" is nobody's word; an owner who writes it keeps it even when unclear.
    probs = matrix(*spelled("Zorblax", {0: {"Z": 0.5, "B": 0.45}}))
    assert known_word_reading(probs, ALPHABET, "Zorblax", "en", ("Zorblax",)) is None
