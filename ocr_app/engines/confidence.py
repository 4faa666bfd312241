"""A line confidence that predicts whether the line was read right.

The recogniser's own score (its mean character probability) is high on many
misread handwriting lines. Combined with what else is known about the reading
it separates wrong lines from right ones much better: how rare the rarest word
is in the note's language (word frequencies from ``wordfreq``, shipped in its
wheel; the owner's own words count as common), how sure the recogniser was of
the words that are not common ones, how many other readings change the words
and whether they would make the line more ordinary, whether the lexicon
replaced a word, and two signs of a dropped space: a word much wider per
character than the line's others, and the recogniser's word boxes cutting a
word of the text in two.

The built-in weights come from a logistic regression fitted on generated notes
by ``bench/quality/calibrate.py`` (tuning seeds only); ``manage.py
refit_confidence`` refits them on the lines people reviewed and stores them in
the database, from where the worker hands them to the engine (a
``Calibration``). The figure is 100 × the estimated probability that the line
is right.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from .base import RecognizedLine

_WORD = re.compile(r"\S+")
_PLAIN_WORD = re.compile(r"[(\"']?(?:[A-Za-z][a-z]*|[A-Z]+|\d+(?:[.,:/-]\d+)*(?:am|pm|st|nd|rd|th|%)?)[)\"'.,;:!?]*")
# Words for how common they are: runs of two letters or more.
_LETTER_WORDS = re.compile(r"[^\W\d_]{2,}")
# Words as search indexes them (runs of letters and digits): what makes a line right or wrong.
_INDEX_WORDS = re.compile(r"[^\W_]+")
KNOWN_ZIPF = 1.5  # a word seen at least ~3 times in 100 million is a word
# A word at least this frequent (Zipf; 3 is once in a million words) is a common
# one; rarer words weigh on ``rarest_word`` the rarer they are.
COMMON_ZIPF = 3.0
RARE_ZIPF = 3.5
# How common a number is, and a word of the owner's, or any word when the
# language's frequencies are unknown: as an everyday word.
NEUTRAL_ZIPF = 4.0

# What the log-odds that a line is right are weighed from, each 0-1.
FEATURES = (
    "engine",  # the recogniser's score, 0-1
    "engine_nines",  # the same as its nines (0.99 -> 0.5, 0.9999 -> 1): the top of the range spread out
    "rarest_word",  # how rare the line's rarest word is (0: common, 1: no known word)
    "weakest_uncommon_word",  # the recogniser's confidence in its least sure word that is not a common word
    "word_alternatives",  # other readings that change the words (not only spaces or punctuation), / 3
    "alternative_gain",  # how much more common the words of the best such reading are (0.5: as common)
    "lexicon_replaced",  # the lexicon read an unclear word as a known one
    "widest_word",  # the widest word per character against the line's others (0: as wide, 1: 4x)
    "glued",  # the recogniser's word boxes cut a word of the text in two: a space dropped
)
# Fitted by bench/quality/calibrate.py (2026-12-01) on the 1,387 lines (488 wrong) of 192
# generated notes of tuning seeds 1-2 (32 per tier and seed); on the 693 lines (277 wrong)
# of seed 3, held out: ROC AUC clean 0.930 / typical 0.913 / hard 0.970 (0.943 overall),
# and at the review threshold 75, 91 % of the wrong lines caught and 21 % of the right ones
# flagged (clean 86 / 16 %, typical 84 / 23 %, hard 98 / 29 %). The six features before
# these (engine, weakest word, alternatives, known words, plain words, short) scored
# 0.830 / 0.857 / 0.884 (0.867) there with their weights, catching 91 % for 42 % flagged.
# Lines unweighted: weighting the classes equally flagged more right lines (28 %) and
# made the figure a worse estimate of the chance that a line is right.
WEIGHTS = (3.72, 4.43, -6.54, 1.24, -2.12, -1.79, 0.55, -4.52, -2.68)
BIAS = -3.53


@dataclass(frozen=True)
class Calibration:
    """Weights per feature (by name, every one of ``FEATURES``) and the bias of the
    log-odds that a line is right: plain data, picklable into the engine's process."""

    weights: tuple[tuple[str, float], ...]
    bias: float

    @classmethod
    def of(cls, weights: Mapping[str, float], bias: float) -> "Calibration":
        """Raises ValueError unless ``weights`` are for exactly the features this code
        computes (weights fitted on another set would weigh them wrongly)."""
        missing = [name for name in FEATURES if name not in weights]
        extra = sorted(name for name in weights if name not in FEATURES)
        if missing or extra:
            lacks = f"lack the features {', '.join(missing)}" if missing else ""
            unknown = f"have features this version does not compute ({', '.join(extra)})" if extra else ""
            raise ValueError(f"Confidence weights {' and '.join(part for part in (lacks, unknown) if part)}")
        return cls(tuple((name, float(weights[name])) for name in FEATURES), float(bias))

    def log_odds(self, features: Mapping[str, float]) -> float:
        return self.bias + sum(weight * float(features.get(name, 0.0)) for name, weight in self.weights)

    def confidence(self, features: Mapping[str, float]) -> float:
        """0-100: the estimated chance, in %, that a line with these features is right."""
        log_odds = max(-700.0, min(700.0, self.log_odds(features)))
        return round(100 / (1 + math.exp(-log_odds)), 1)


BUILT_IN = Calibration.of(dict(zip(FEATURES, WEIGHTS)), BIAS)


def text_confidence(text: str) -> float:
    """A 0-100 estimate of whether ``text`` was read right, from its look alone.

    Misreadings of handwriting mostly look like mixed letters and digits
    ("bi11s"), case jumbles ("plUmber") or stray symbols; words that are all
    letters (in normal case) or all numbers look right. The share of plain
    words, scaled so that a line with one odd word in three falls under the
    default review threshold.
    """
    words = _WORD.findall(text)
    if not words:
        return 0.0
    plain = sum(bool(_PLAIN_WORD.fullmatch(word)) for word in words)
    return round(100.0 * (plain / len(words)) ** 1.5, 1)


@lru_cache(maxsize=50_000)
def word_zipf(word: str, language: str) -> float | None:
    """``word``'s Zipf frequency in ``language`` (wordfreq's word lists); None when it
    cannot be told: no word list installed, a language wordfreq does not know, or one
    it cannot cut into words without a package it lacks (Chinese needs jieba)."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        return None
    try:
        return zipf_frequency(word, language)
    except (LookupError, ValueError, ImportError):
        return None


def _zipf(word: str, language: str) -> float:
    """``word``'s Zipf frequency; that of an everyday word when it cannot be told."""
    zipf = word_zipf(word, language)
    return NEUTRAL_ZIPF if zipf is None else zipf


def is_known_word(word: str, language: str) -> bool:
    """Whether ``word`` (lower case) is a word of ``language``; True when that cannot be told."""
    return _zipf(word, language) >= KNOWN_ZIPF


@lru_cache(maxsize=8)
def _own_keys(user_words: tuple[str, ...]) -> frozenset[str]:
    # Cached: the engine weighs every line of an image against the same words.
    return frozenset(word.lower() for word in user_words)


def commonness(word: str, language: str, user_words: frozenset[str] = frozenset()) -> float:
    """How common ``word`` (lower case) is, as a Zipf frequency: a number or one of the
    owner's words counts as an everyday word, a mix of letters and digits as none."""
    if word.isdigit():
        return NEUTRAL_ZIPF
    if not word.isalpha():
        return 0.0
    zipf = _zipf(word, language)
    return max(zipf, NEUTRAL_ZIPF) if word in user_words else zipf


def _index_words(text: str) -> list[str]:
    return [word.lower() for word in _INDEX_WORDS.findall(text)]  # as the owner's words are folded


def _word_alternatives(line: RecognizedLine, language: str, user_words: frozenset[str]) -> list[float]:
    """For each other reading that changes the line's words (not only its spaces,
    punctuation or case): how much more common its words are than the ones it
    replaces (mean Zipf of the words it brings in minus of those it takes out)."""
    line_words = _index_words(line.text)
    own, joined = Counter(line_words), "".join(line_words)
    gains = []
    for alternative in line.alternatives:
        words = _index_words(alternative)
        theirs = Counter(words)
        if theirs == own or "".join(words) == joined:
            continue
        added = [commonness(w, language, user_words) for w in (theirs - own).elements()]
        removed = [commonness(w, language, user_words) for w in (own - theirs).elements()]
        gains.append(
            (sum(added) / len(added) if added else NEUTRAL_ZIPF) - (sum(removed) / len(removed) if removed else NEUTRAL_ZIPF)
        )
    return gains


def _lexicon_replaced(line: RecognizedLine, language: str, user_words: frozenset[str]) -> bool:
    """Whether the lexicon read a word as a known one: the reading it replaced is the
    line's first alternative, where that known word is not."""
    if not line.alternatives:
        return False
    before = Counter(_index_words(line.alternatives[0]))
    return any(
        before[word] == 0 and (word in user_words or is_known_word(word, language))
        for word in _index_words(" ".join(w.text for w in line.words))
        if len(word) >= 3
    )


def _widest_word(line: RecognizedLine) -> float:
    """The widest word box per character over the line's median (1: no word stands out)."""
    widths = [word.box.width / len(word.text) for word in line.words if len(word.text) >= 2]
    if len(widths) < 2:
        return 1.0
    return max(widths) / (statistics.median(widths) or 1)


def _glued(line: RecognizedLine) -> bool:
    """Whether the recogniser's word boxes hold more words than the text (it saw a gap
    where the text has no space). Lines it cut into single characters (its way
    with a line it takes for Chinese) say nothing."""
    boxes = [word.text for word in line.words]
    if not boxes or sum(len(text) for text in boxes) / len(boxes) <= 1.5:
        return False
    return len(_INDEX_WORDS.findall(" ".join(boxes))) > len(_INDEX_WORDS.findall(line.text))


def features(line: RecognizedLine, language: str, user_words: tuple[str, ...] = ()) -> tuple[float, ...]:
    """``FEATURES`` of a line, each 0-1. ``user_words``: the owner's own words (as
    given to the engine), which count as common words."""
    own = _own_keys(tuple(user_words))
    engine = line.confidence / 100
    rarity = [
        max(0.0, RARE_ZIPF - commonness(word.lower(), language, own)) / RARE_ZIPF
        for word in _LETTER_WORDS.findall(line.text)
    ]
    # Words that are not common words (rare ones, names, numbers, codes): where a
    # doubt of the recogniser's is a doubt about the line. A doubt about a common
    # word is mostly the lexicon's, which read an unclear word as that word.
    uncommon = [
        word.confidence / 100
        for word in line.words
        if not (
            (letters := _LETTER_WORDS.findall(word.text))
            and not any(c.isdigit() for c in word.text)
            and all(commonness(w.lower(), language, own) >= COMMON_ZIPF for w in letters)
        )
    ]
    gains = _word_alternatives(line, language, own)
    return (
        engine,
        min(1.0, -math.log10(max(1e-4, 1 - engine)) / 4),
        max(rarity, default=0.0),
        min(uncommon, default=1.0),
        min(len(gains), 3) / 3,
        (max(-3.0, min(3.0, max(gains))) + 3) / 6 if gains else 0.0,
        1.0 if _lexicon_replaced(line, language, own) else 0.0,
        min(1.0, max(0.0, (_widest_word(line) - 1) / 3)),
        1.0 if _glued(line) else 0.0,
    )


def named_features(line: RecognizedLine, language: str, user_words: tuple[str, ...] = ()) -> tuple[tuple[str, float], ...]:
    """``features`` by name, as a line keeps them (``RecognizedLine.features``)."""
    return tuple((name, round(value, 4)) for name, value in zip(FEATURES, features(line, language, user_words)))


def calibrated_confidence(
    line: RecognizedLine, language: str = "en", calibration: Calibration | None = None, user_words: tuple[str, ...] = ()
) -> float:
    """0-100: the estimated chance, in %, that the line was read right (built-in weights by default)."""
    return (calibration or BUILT_IN).confidence(dict(named_features(line, language, user_words)))
