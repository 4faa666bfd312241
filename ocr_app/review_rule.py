"""Which lines need review, and the confidence a line is stored with: decided here only.

A line is flagged for review when it is read: its confidence is under the review
threshold (``INKDEX_REVIEW_THRESHOLD``) of that moment, or the engine's result was
partial (a trial engine's, which cannot be trusted line by line). The flag is
stored (``Line.needs_review``) and is what the review queue, the notes list, the
search filter, the API's ``review_state`` and the note page all read, so they
always agree. A change of the threshold applies to the lines read from then on
(reprocessing a note reads its lines again), as the confidence weights do: a line's
stored confidence was computed by the weights of its moment, and the threshold is
chosen with them. A person's review clears the flag.
"""

from __future__ import annotations

from .conf import inkdex


def review_threshold() -> float:
    """The confidence (0-100) under which a line read now is flagged for review."""
    return inkdex().review_threshold


def stored_confidence(value: float) -> float:
    """An engine's (or an archive's) confidence as a line stores it: a float from 0 to 100."""
    return min(100.0, max(0.0, float(value)))


def needs_review(confidence: float, *, partial: bool = False, threshold: float | None = None) -> bool:
    """Whether a line just read with ``confidence`` is flagged for review (``threshold``:
    None for the configured one)."""
    return partial or confidence < (review_threshold() if threshold is None else threshold)
