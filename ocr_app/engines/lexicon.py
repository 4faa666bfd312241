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

The note owner's own words (``user_words``: the words people confirmed on their
lines, passed in by the worker) are preferred over the general word list: they
are candidates whatever their frequency (names such as "Okonkwo" included), a
reading that is one of them is never changed, their score gets a prior of
``USER_WORD_PRIOR``, and a reading that is a dictionary word may become one of
them when the recogniser finds the user's word about as likely.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
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
# The owner's own words are this much more likely a priori than others (in nats:
# e^3 = 20 times; a misread name is usually several letters off, so it needs a
# strong prior to win over the letters read; see bench/user_words.py).
USER_WORD_PRIOR = 3.0


@dataclass(frozen=True)
class UserWords:
    """The owner's words prepared for lookups: lower case, by length."""

    keys: frozenset[str] = frozenset()
    by_length: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # key -> the owner's own spelling ("Okonkwo", "iPhone").
    spellings: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def near(self, word: str, edits: int) -> list[str]:
        """The owner's words within ``edits`` edits of ``word`` (lower case), closest first."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        pool = [w for length in range(len(word) - edits, len(word) + edits + 1) for w in self.by_length.get(length, ())]
        return [w for w, _, _ in process.extract(word, pool, scorer=Levenshtein.distance, score_cutoff=edits, limit=12)]


NO_USER_WORDS = UserWords()


@lru_cache(maxsize=16)
def user_lexicon(words: tuple[str, ...]) -> UserWords:
    """``words`` (as people wrote them) ready for ``known_word_reading``; letters-only words
    of MIN_LENGTH or more count, as for the general word list."""
    spellings: dict[str, str] = {}
    for word in words:
        if len(word) >= MIN_LENGTH and _LETTERS_ONLY.fullmatch(word):
            spellings.setdefault(word.lower(), word)
    by_length: dict[int, list[str]] = {}
    for word in sorted(spellings):
        by_length.setdefault(len(word), []).append(word)
    return UserWords(frozenset(spellings), {length: tuple(group) for length, group in by_length.items()}, spellings)


def _as_owner_writes(spelled: str, user: UserWords) -> str:
    """An owner's word (scored in the reading's case) written as the owner writes it
    ("Okonkwo" for a reading "okonkwc"), except in capitals where the reading is."""
    own = user.spellings.get(spelled.lower())
    if own is None or (spelled.isupper() and len(spelled) > 1):
        return spelled
    return own


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


def max_spelling_edits(length: int) -> int:
    """Candidate spellings: known words within this many edits of a reading this long,
    1 up to 4 letters, else 2 (search's fuzzy matching has its own rule,
    ``search.vocabulary.max_fuzzy_edits``)."""
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


def _near_words(word: str, language: str, user: UserWords = NO_USER_WORDS) -> list[str]:
    """Spellings to score for an unknown word (lower case): the owner's words and
    known words a few edits away, and the word cut into known words (spaces the
    recogniser dropped)."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    lower = word.lower()
    edits = max_spelling_edits(len(word))
    pool = _words_of_lengths(language, len(word) - edits, len(word) + edits)
    near = user.near(lower, edits)
    near += [w for w, _, _ in process.extract(lower, pool, scorer=Levenshtein.distance, score_cutoff=edits, limit=12)]
    near += [" ".join(parts) for parts in _splits(lower, language, MAX_SPLIT_PARTS, user)]
    return list(dict.fromkeys(near))


def _is_known(word: str, language: str, user: UserWords) -> bool:
    return word in user.keys or is_known_word(word, language)


def _splits(text: str, language: str, parts: int, user: UserWords = NO_USER_WORDS) -> list[tuple[str, ...]]:
    """``text`` cut into 2 to ``parts`` known words (each MIN_SPLIT_PART letters or more)."""
    found = []
    for cut in range(MIN_SPLIT_PART, len(text) - MIN_SPLIT_PART + 1):
        head, rest = text[:cut], text[cut:]
        if not _is_known(head, language, user):
            continue
        if _is_known(rest, language, user):
            found.append((head, rest))
        if parts > 2:
            found += [(head, *tail) for tail in _splits(rest, language, parts - 1, user)]
    return found


def _spellings(piece: str, language: str, user: UserWords = NO_USER_WORDS) -> list[str]:
    """Other spellings of a piece of a word read (letters, or no letters next to
    punctuation: see ``_greedy_words``), to score against the recogniser's probabilities."""
    if _LETTERS_ONLY.fullmatch(piece):
        lower = piece.lower()
        if len(piece) < MIN_LENGTH or lower in user.keys:
            return []
        if is_known_word(lower, language):
            # A dictionary word may still be a misread word of the owner's.
            return [_cased_like(word, piece) for word in user.near(lower, max_spelling_edits(len(piece)))]
        return [_cased_like(word, piece) for word in _near_words(piece, language, user)]
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


def _better_spelling(piece, segment, index_of, language, user: UserWords = NO_USER_WORDS) -> tuple[str, float] | None:
    """The spelling of ``piece`` to take instead, and how likely relative to it, or None."""
    spellings = _spellings(piece, language, user)
    if not spellings:
        return None
    try:
        own = ctc_log_prob(segment, [index_of[c] for c in piece])
    except KeyError:
        return None
    best, best_log_prob, best_score = None, -math.inf, -math.inf
    for spelled in spellings:
        labels = [index_of.get(c) for c in spelled]
        if None in labels:
            continue
        log_prob = ctc_log_prob(segment, labels)
        score = log_prob + (USER_WORD_PRIOR if spelled.lower() in user.keys else 0.0)
        if score > best_score:
            best, best_log_prob, best_score = spelled, log_prob, score
    # An unknown reading gives way to a word nearly as likely; a dictionary word
    # only to an owner's word that is, prior included, more likely than it.
    allowed_loss = 0.0 if is_known_word(piece.lower(), language) else MAX_LOG_LOSS
    if best is None or best_score < own - allowed_loss:
        return None
    return _as_owner_writes(best, user), min(1.0, math.exp(best_log_prob - own))


def known_word_reading(
    probs: np.ndarray, characters: Sequence[str], text: str, language: str, user_words: Sequence[str] = ()
) -> list[tuple[str, float]] | None:
    """The words of ``text`` (the greedy reading of ``probs``), with unknown words
    that the recogniser finds nearly as likely to be known words replaced by them:
    (word, how likely the recogniser finds it relative to the word it read; 1 when
    unchanged). None when no word changes. ``user_words``: the owner's own words,
    preferred (see the module's docstring)."""
    probs = np.asarray(probs, dtype=np.float64)
    user = user_lexicon(tuple(user_words)) if user_words else NO_USER_WORDS
    if probs.ndim != 2 or not (vocabulary(language) or user):
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
            better = _better_spelling(piece, probs[start:end], index_of, language, user)
            if better is None:
                spelled.append(piece)
            else:
                spelled.append(better[0])
                ratio *= better[1]
                changed = True
        out.append(("".join(spelled), ratio))
    return out if changed else None
