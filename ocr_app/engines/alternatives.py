"""Other readings of a text line, from a CTC recogniser's character probabilities.

A CTC recogniser (RapidOCR's PP-OCR models) gives, for each time step across
the line image, a probability for every character of its alphabet and for
"blank" (nothing here). The usual reading takes the most likely symbol at each
step, merges repeats and drops blanks (greedy decoding). Where handwriting is
unclear the runner-up symbol often has a real share of the probability: "bocks"
with "o" at 0.43 where the "c" is. A small prefix beam search over the symbols
that have a meaningful probability at each step gives the few most likely
*readings* of the whole line; those that differ from the greedy one (in more
than letter case) are its alternatives, most likely first.

Everything here is plain numpy and Python data, so results pickle between the
engine's process and the worker.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

# A symbol takes part in the search at a time step only with at least this
# probability there (the step's most likely symbol always does).
MIN_SYMBOL_PROB = 0.08
# Readings kept in the beam after each time step.
BEAM_WIDTH = 8
# An alternative must be at least this likely relative to the most likely
# reading, so a confident line gets none.
MIN_RELATIVE_PROB = 0.05
# Alternatives kept per line.
MAX_ALTERNATIVES = 3

BLANK = 0


def key(text: str) -> str:
    """What two readings must differ in to count as different: words, not case or spacing runs."""
    return " ".join(text.casefold().split())


def _allowed(symbol: str) -> bool:
    """Symbols an alternative may bring in: not wide (CJK, full-width) forms,
    which the multilingual model offers as runners-up for Latin strokes."""
    return len(symbol) == 1 and unicodedata.east_asian_width(symbol) not in ("W", "F")


def _collapse(symbols: list[int], characters: Sequence[str]) -> str:
    """The greedy reading of a path: repeats merged, blanks dropped."""
    out, last = [], None
    for c in symbols:
        if c != last and c != BLANK and c < len(characters):
            out.append(characters[c])
        last = c
    return "".join(out)


def ctc_readings(
    probs: np.ndarray,
    characters: Sequence[str],
    *,
    beam_width: int = BEAM_WIDTH,
    min_symbol_prob: float = MIN_SYMBOL_PROB,
    allowed=_allowed,
) -> list[tuple[str, float]]:
    """The most likely readings of one line, best first, with their probabilities.

    ``probs`` is the recogniser's (time steps x alphabet) softmax output for the
    line, ``characters[i]`` the symbol of column ``i`` (column 0 is blank).
    A prefix beam search: each reading's probability sums over every alignment
    (path) that collapses to it, so "bo-oks" and "boo-ks" both count for "books".
    """
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[0] == 0:
        return []
    steps = probs.shape[0]
    best_symbols = probs.argmax(axis=1)
    # The few (step, symbol) pairs taking part, without copying the whole matrix.
    candidates = probs >= min_symbol_prob
    candidates[np.arange(steps), best_symbols] = True
    flat = np.flatnonzero(candidates)
    step_of, symbol_of = np.divmod(flat, probs.shape[1])
    values = probs.ravel()[flat].astype(np.float64)
    if len(flat) == steps:
        # No doubt at any step: the greedy reading is the only one.
        return [(_collapse(best_symbols.tolist(), characters), 1.0)]
    bounds = np.searchsorted(step_of, np.arange(steps + 1))
    best = best_symbols.tolist()

    # prefix (tuple of symbol ids) -> [probability ending in blank, ending in a symbol]
    beams: dict[tuple[int, ...], list[float]] = {(): [1.0, 0.0]}
    symbol_ok: dict[int, bool] = {}
    for t in range(steps):
        symbols = symbol_of[bounds[t] : bounds[t + 1]]
        row = dict(zip(symbols.tolist(), values[bounds[t] : bounds[t + 1]].tolist()))
        if len(symbols) == 1 and symbols[0] == BLANK:
            # Only blank is likely: every reading carries on unchanged.
            p = row[BLANK]
            for entry in beams.values():
                entry[0] = (entry[0] + entry[1]) * p
                entry[1] = 0.0
            continue
        following: dict[tuple[int, ...], list[float]] = {}
        for prefix, (p_blank, p_symbol) in beams.items():
            total = p_blank + p_symbol
            for c, p in row.items():
                if c == BLANK:
                    entry = following.setdefault(prefix, [0.0, 0.0])
                    entry[0] += total * p
                    continue
                if c != best[t]:
                    ok = symbol_ok.get(c)
                    if ok is None:
                        ok = symbol_ok[c] = c < len(characters) and allowed(characters[c])
                    if not ok:
                        continue
                last = prefix[-1] if prefix else None
                extended = prefix + (c,)
                entry = following.setdefault(extended, [0.0, 0.0])
                if c == last:
                    # A repeat only starts a new symbol after a blank...
                    entry[1] += p_blank * p
                    # ...otherwise it continues the one before.
                    same = following.setdefault(prefix, [0.0, 0.0])
                    same[1] += p_symbol * p
                else:
                    entry[1] += total * p
        ranked = sorted(
            ((prefix, entry) for prefix, entry in following.items() if entry[0] + entry[1] > 0),
            key=lambda item: item[1][0] + item[1][1],
            reverse=True,
        )[:beam_width]
        scale = ranked[0][1][0] + ranked[0][1][1] if ranked else 0.0
        if scale <= 0:
            return []
        # Keep the numbers in range on long lines; only ratios matter.
        beams = {prefix: [pb / scale, ps / scale] for prefix, (pb, ps) in ranked}

    ranked = sorted(beams.items(), key=lambda item: item[1][0] + item[1][1], reverse=True)
    total = sum(pb + ps for _, (pb, ps) in ranked) or 1.0
    return [
        ("".join(characters[c] for c in prefix if c < len(characters)), (pb + ps) / total)
        for prefix, (pb, ps) in ranked
    ]


def line_alternatives(
    probs: np.ndarray,
    characters: Sequence[str],
    text: str,
    *,
    limit: int = MAX_ALTERNATIVES,
    min_relative_prob: float = MIN_RELATIVE_PROB,
    **search,
) -> list[tuple[str, float]]:
    """Readings of the line other than ``text`` (the greedy one), best first, each
    with its probability relative to the most likely reading (0-1]."""
    probs = np.asarray(probs)
    if probs.ndim != 2 or not text.strip():
        return []
    readings = ctc_readings(probs, characters, **search)
    if not readings:
        return []
    top = readings[0][1]
    seen = {key(text)}
    alternatives = []
    for reading, p in readings:
        reading = " ".join(reading.split())
        relative = p / top
        if relative < min_relative_prob:
            break
        k = key(reading)
        if not k or k in seen:
            continue
        seen.add(k)
        alternatives.append((reading, round(relative, 4)))
        if len(alternatives) == limit:
            break
    return alternatives


def joined_alternatives(
    parts: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    *,
    limit: int = MAX_ALTERNATIVES,
) -> tuple[str, ...]:
    """Alternatives of a line made of several parts (text, its alternatives),
    joined with spaces: one part read otherwise at a time, most likely first."""
    texts = [text for text, _ in parts]
    options = []
    for index, (_, alternatives) in enumerate(parts):
        for alternative, relative in alternatives:
            joined = " ".join(texts[:index] + [alternative] + texts[index + 1 :])
            options.append((relative, -index, joined))
    options.sort(reverse=True)
    seen = {key(" ".join(texts))}
    result = []
    for _, _, joined in options:
        if key(joined) not in seen:
            seen.add(key(joined))
            result.append(joined)
        if len(result) == limit:
            break
    return tuple(result)
