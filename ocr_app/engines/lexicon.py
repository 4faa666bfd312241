"""Reading an unclear handwritten word as a word of the note's language.

A CTC recogniser reads each letter on its own: a blurred "budget" comes out as
"ludset" although "budget" is nearly as likely letter by letter. For each word
of a line that is not a word of the note's language, the known words within a
couple of edits are scored against the recogniser's own probabilities over the
stretch of the line where that word was read (the CTC forward probability, which
sums over every alignment). A known word replaces the reading when the
recogniser finds it almost as likely; names, codes and numbers, which the
recogniser reads clearly, keep their reading because no known word comes close
in probability. The reading replaced is kept as an alternative for search.

Other spellings scored the same way: an unknown word cut into two to four known
words (a space the recogniser dropped: "membershipby"), and a known word glued to
a number spaced from it ("MEETING19"). A line is read in pieces where letters
meet punctuation, so "DECISION:MOVERELEASESCHEDULE" gets the same treatment.

Word lists come from ``wordfreq`` (in its wheel: nothing is downloaded).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .confidence import is_known_word

# Known words considered per language: the most frequent ones.
VOCABULARY_SIZE = 60_000
# A known word replaces a reading when its log probability is at most this much
# lower than the reading's (in nats: 4.5 is e^-4.5, 1/90 as likely; tuned on the
# quality corpus's tuning seeds, where the recogniser's letter probabilities are
# overconfident on blurred writing: 1.0 -> 4.5 took hard-tier exact-word recall
# from 65% to 72%, and clean and typical did not get worse; 6.0 gained little more).
MAX_LOG_LOSS = 4.5
MIN_LENGTH = 3
# A glued word is split only into parts at least this long.
MIN_SPLIT_PART = 2
# ...and into at most this many words.
MAX_SPLIT_PARTS = 4
# Letters of the Latin alphabet, accented ones included, end here (Latin Extended-B).
LATIN_END = "\u0250"
_LETTERS_ONLY = re.compile(r"[^\W\d_]+")
# Where runs of letters meet other characters.
_LETTER_RUNS = re.compile(r"(?<=[^\W\d_])(?=[\d])|(?<=[\d])(?=[^\W\d_])")
# Letters written against a number that belong to it.
UNITS = frozenset({"am", "pm", "st", "nd", "rd", "th", "kg", "km", "cm", "mm", "ml", "gb", "mb", "kb", "min", "hrs", "h"})
BLANK = 0


@lru_cache(maxsize=8)
def vocabulary(language: str) -> dict[int, tuple[str, ...]]:
    """Known words of ``language`` by length (lower case, letters only)."""
    try:
        from wordfreq import top_n_list
    except ImportError:
        return {}
    try:
        words = top_n_list(language, VOCABULARY_SIZE)
    except (LookupError, ValueError):
        return {}
    by_length: dict[int, list[str]] = {}
    for word in words:
        # Alphabetic words only: a CTC recogniser reads Chinese one character
        # at a time, where a word list of several-character words does not help.
        if len(word) >= MIN_LENGTH and _LETTERS_ONLY.fullmatch(word) and max(word) < LATIN_END:
            by_length.setdefault(len(word), []).append(word)
    return {length: tuple(group) for length, group in by_length.items()}


def ctc_log_prob(probs: np.ndarray, labels: Sequence[int]) -> float:
    """log P(labels | probs): the CTC forward algorithm over (steps x alphabet)
    probabilities, blank at column 0."""
    steps = probs.shape[0]
    if not labels:
        return float(np.log(np.clip(probs[:, BLANK], 1e-30, None)).sum())
    extended = [BLANK]
    for label in labels:
        extended += [label, BLANK]
    states = len(extended)
    if steps < len(labels):
        return -math.inf
    log_probs = np.log(np.clip(probs[:, extended], 1e-30, None))
    # A state may be skipped from two back when it is a label that differs from that one.
    skip = np.zeros(states, dtype=bool)
    for s in range(2, states):
        skip[s] = extended[s] != BLANK and extended[s] != extended[s - 2]
    alpha = np.full(states, -np.inf)
    alpha[0] = log_probs[0, 0]
    alpha[1] = log_probs[0, 1]
    for t in range(1, steps):
        previous = alpha
        stay = previous
        step = np.concatenate(([-np.inf], previous[:-1]))
        jump = np.where(skip, np.concatenate(([-np.inf, -np.inf], previous[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(stay, step), jump) + log_probs[t]
    return float(np.logaddexp(alpha[-1], alpha[-2]))


def _greedy_words(probs: np.ndarray, characters: Sequence[str]) -> list[list[tuple[str, int, int]]]:
    """The greedy reading's space-separated words, each as its pieces (cut where
    letters meet punctuation: "DECISION:MOVE" is "DECISION", ":", "MOVE") with the
    time steps [start, end) each was read over: from after the symbol before it
    (blanks taken in) to its last symbol's end."""
    best = probs.argmax(axis=1).tolist()
    words: list[list[tuple[str, int, int]]] = []
    pieces: list[tuple[str, int, int]] = []
    current: list[str] = []
    start = 0
    last = None

    def close(end: int) -> None:
        nonlocal current
        if current:
            pieces.append(("".join(current), start, end))
            current = []

    for t, symbol in enumerate(best):
        if symbol != last and symbol != BLANK and symbol < len(characters):
            char = characters[symbol]
            if char == " ":
                close(t)
                if pieces:
                    words.append(pieces)
                    pieces = []
            else:
                if current and char.isalpha() != current[-1].isalpha() and not (
                    char.isalnum() and current[-1].isalnum()
                ):
                    close(t)
                if not current:
                    current, start = [char], t
                    # Take in the blanks since the symbol before.
                    while start > 0 and best[start - 1] == BLANK:
                        start -= 1
                else:
                    current.append(char)
        last = symbol
    close(len(best))
    if pieces:
        words.append(pieces)
    return words


def max_edits(length: int) -> int:
    """Candidates: known words within this many edits of a reading this long."""
    return 1 if length <= 4 else 2


def _cased_like(word: str, model: str) -> str:
    """``word`` (lower case) in the case the recogniser read: CAPITALS, Capitalised or lower."""
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


@lru_cache(maxsize=256)
def _words_of_lengths(language: str, shortest: int, longest: int) -> tuple[str, ...]:
    words = vocabulary(language)
    return tuple(w for length in range(shortest, longest + 1) for w in words.get(length, ()))


def _near_words(word: str, language: str) -> list[str]:
    """Spellings to score for an unknown word (lower case): known words a few
    edits away, and the word cut into known words (spaces the recogniser dropped)."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    lower = word.lower()
    edits = max_edits(len(word))
    pool = _words_of_lengths(language, len(word) - edits, len(word) + edits)
    near = [w for w, _, _ in process.extract(lower, pool, scorer=Levenshtein.distance, score_cutoff=edits, limit=12)]
    near += [" ".join(parts) for parts in _splits(lower, language, MAX_SPLIT_PARTS)]
    return near


def _splits(text: str, language: str, parts: int) -> list[tuple[str, ...]]:
    """``text`` cut into 2 to ``parts`` known words (each MIN_SPLIT_PART letters or more)."""
    found = []
    for cut in range(MIN_SPLIT_PART, len(text) - MIN_SPLIT_PART + 1):
        head, rest = text[:cut], text[cut:]
        if not is_known_word(head, language):
            continue
        if is_known_word(rest, language):
            found.append((head, rest))
        if parts > 2:
            found += [(head, *tail) for tail in _splits(rest, language, parts - 1)]
    return found


def _spellings(piece: str, language: str) -> list[str]:
    """Other spellings of a piece of a word read (letters, or no letters next to
    punctuation: see ``_greedy_words``), to score against the recogniser's probabilities."""
    if _LETTERS_ONLY.fullmatch(piece):
        if len(piece) < MIN_LENGTH or is_known_word(piece.lower(), language):
            return []
        return [_cased_like(word, piece) for word in _near_words(piece, language)]
    # Letters glued to a number ("MEETING19/8AT"): spaces where a known word
    # meets a digit (not units such as "4pm" or "14h00").
    runs = _LETTER_RUNS.split(piece)
    cuts = [
        i for i in range(1, len(runs))
        if runs[i - 1] and runs[i] and (_is_spaced_word(runs[i - 1], language) or _is_spaced_word(runs[i], language))
    ]
    if not cuts:
        return []
    # One spelling, every such space put in: each space costs probability, so a
    # choice among subsets would always take the fewest.
    return ["".join((" " if i in cuts else "") + run for i, run in enumerate(runs))]


def _is_spaced_word(run: str, language: str) -> bool:
    """A run of letters that is a word of its own, not a unit of the number beside it."""
    return (
        len(run) >= MIN_SPLIT_PART
        and _LETTERS_ONLY.fullmatch(run) is not None
        and run.lower() not in UNITS
        and is_known_word(run.lower(), language)
    )


def _better_spelling(piece, segment, index_of, language) -> tuple[str, float] | None:
    """The spelling of ``piece`` to take instead, and how likely relative to it, or None."""
    spellings = _spellings(piece, language)
    if not spellings:
        return None
    try:
        own = ctc_log_prob(segment, [index_of[c] for c in piece])
    except KeyError:
        return None
    best, best_log_prob = None, -math.inf
    for spelled in spellings:
        labels = [index_of.get(c) for c in spelled]
        if None in labels:
            continue
        log_prob = ctc_log_prob(segment, labels)
        if log_prob > best_log_prob:
            best, best_log_prob = spelled, log_prob
    if best is None or best_log_prob < own - MAX_LOG_LOSS:
        return None
    return best, min(1.0, math.exp(best_log_prob - own))


def correct_line(
    probs: np.ndarray, characters: Sequence[str], text: str, language: str
) -> list[tuple[str, float]] | None:
    """The words of ``text`` (the greedy reading of ``probs``), with unknown words
    that the recogniser finds nearly as likely to be known words replaced by them:
    (word, how likely the recogniser finds it relative to the word it read; 1 when
    unchanged). None when no word changes."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or not vocabulary(language):
        return None
    read = _greedy_words(probs, characters)
    if not read or " ".join("".join(p for p, _, _ in pieces) for pieces in read) != " ".join(text.split()):
        return None  # not the reading these probabilities give: leave it
    index_of = {char: index for index, char in enumerate(characters)}
    out = []
    changed = False
    for pieces in read:
        spelled, ratio = [], 1.0
        for piece, start, end in pieces:
            better = _better_spelling(piece, probs[start:end], index_of, language)
            if better is None:
                spelled.append(piece)
            else:
                spelled.append(better[0])
                ratio *= better[1]
                changed = True
        out.append(("".join(spelled), ratio))
    return out if changed else None
