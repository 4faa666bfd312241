"""A line confidence that predicts whether the line was read right.

The recogniser's own score (its mean character probability) is high on many
misread handwriting lines. Combined with what else is known about the reading
it separates wrong lines from right ones much better: the least sure word, how
many other readings the recogniser found plausible, whether the words exist in
the note's language (word frequencies from ``wordfreq``, shipped in its wheel)
or are among the note owner's own words (``user_words``, as the lexicon gets
them: a name the owner confirmed is as much a word as one of the dictionary),
and whether the text looks like text at all (``text_confidence``).

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
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

from .base import RecognizedLine

_WORD = re.compile(r"\S+")
_PLAIN_WORD = re.compile(r"[(\"']?(?:[A-Za-z][a-z]*|[A-Z]+|\d+(?:[.,:/-]\d+)*(?:am|pm|st|nd|rd|th|%)?)[)\"'.,;:!?]*")
_LETTERS = re.compile(r"[^\W\d_]{3,}")
KNOWN_ZIPF = 1.5  # a word seen at least ~3 times in 100 million is a word

# Weights per feature and bias of the log-odds that the line is right, as fitted
# by bench/quality/calibrate.py (2026-11-25, with the lexicon reading unclear
# words as known ones: on 691 lines of the tuning seeds; on 348 other lines, ROC
# AUC 0.88 against 0.85 for the engine's own score).
FEATURES = ("engine", "weakest_word", "alternatives", "known_words", "plain_words", "short")
WEIGHTS = (1.33, 1.34, -2.66, 3.71, 0.61, 0.00)
BIAS = -3.95


@dataclass(frozen=True)
class Calibration:
    """Weights per feature (by name, every one of ``FEATURES``) and the bias of the
    log-odds that a line is right: plain data, picklable into the engine's process."""

    weights: tuple[tuple[str, float], ...]
    bias: float

    @classmethod
    def of(cls, weights: Mapping[str, float], bias: float) -> "Calibration":
        missing = [name for name in FEATURES if name not in weights]
        if missing:
            raise ValueError(f"Confidence weights lack the features {', '.join(missing)}")
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
def is_known_word(word: str, language: str) -> bool:
    """Whether ``word`` (lower case) is a word of ``language``; True when that cannot be told."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # without the word list, every word counts as known
        return True
    try:
        return zipf_frequency(word, language) >= KNOWN_ZIPF
    except (LookupError, ValueError):  # a language wordfreq does not know
        return True


@lru_cache(maxsize=8)
def _own_keys(user_words: tuple[str, ...]) -> frozenset[str]:
    # Cached: the engine weighs every line of an image against the same words.
    return frozenset(word.casefold() for word in user_words)


def known_share(text: str, language: str, user_words: Collection[str] = ()) -> float:
    """The share of the line's words (3+ letters) that exist in ``language`` or are
    one of the owner's ``user_words`` (whatever the case); 1 when it has none."""
    words = _LETTERS.findall(text)
    if not words:
        return 1.0
    own = _own_keys(tuple(user_words)) if user_words else frozenset()
    return sum(word.casefold() in own or is_known_word(word.lower(), language) for word in words) / len(words)


def features(line: RecognizedLine, language: str, user_words: Collection[str] = ()) -> tuple[float, ...]:
    engine = line.confidence / 100
    weakest = min((word.confidence for word in line.words), default=line.confidence) / 100
    return (
        engine,
        weakest,
        len(line.alternatives) / 3,
        known_share(line.text, language, user_words),
        text_confidence(line.text) / 100,
        1.0 if len(line.text.strip()) <= 3 else 0.0,
    )


def named_features(
    line: RecognizedLine, language: str, user_words: Collection[str] = ()
) -> tuple[tuple[str, float], ...]:
    """``features`` by name, as a line keeps them (``RecognizedLine.features``)."""
    return tuple((name, round(value, 4)) for name, value in zip(FEATURES, features(line, language, user_words)))


def calibrated_confidence(
    line: RecognizedLine, language: str = "en", calibration: Calibration | None = None, user_words: Collection[str] = ()
) -> float:
    """0-100: the estimated chance, in %, that the line was read right (built-in weights
    by default); the owner's ``user_words`` count as known words."""
    return (calibration or BUILT_IN).confidence(dict(zip(FEATURES, features(line, language, user_words))))
