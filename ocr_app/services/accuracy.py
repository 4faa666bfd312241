"""How good the engines are, measured by what reviewers did to their lines.

Built from review events, which outlive the lines (a reprocess replaces lines,
the events stay). A reviewed line's final text counts as the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from ..models import ReviewAction, ReviewEvent

# Lines added or deleted by a person say nothing of how well a line was read.
NOT_READINGS = (ReviewAction.ADD, ReviewAction.DELETE, ReviewAction.UNDELETE)

THRESHOLDS_SHOWN = (50, 60, 70, 75, 80, 85, 90, 95)


@dataclass(frozen=True)
class ReviewedLine:
    engine: str
    ocr_text: str
    final_text: str
    confidence: float

    @property
    def corrected(self) -> bool:
        return self.final_text != self.ocr_text


def reviewed_lines() -> list[ReviewedLine]:
    """Each reviewed line once, with the text its last review left."""
    last: dict[tuple, ReviewedLine] = {}
    events = ReviewEvent.objects.exclude(action__in=NOT_READINGS).order_by("created_at", "pk").values_list(
        "note_id", "line_order", "ocr_text", "new_text", "confidence", "engine_name"
    )
    for note_id, order, ocr_text, new_text, confidence, engine in events.iterator(2000):
        last[(note_id, order, ocr_text)] = ReviewedLine(engine or "unknown", ocr_text, new_text, confidence)
    return list(last.values())


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


@dataclass(frozen=True)
class EngineAccuracy:
    engine: str
    reviewed: int
    corrected: int
    edits: int
    characters: int

    @property
    def character_error_percent(self) -> float | None:
        """Edits from the engine's text to the reviewed text, per 100 characters."""
        return _percent(self.edits, self.characters)


@dataclass(frozen=True)
class ThresholdOutcome:
    """What a review threshold would have done on the reviewed lines."""

    threshold: float
    flagged: int
    # Of the lines reviewers had to correct, the % the threshold flags.
    caught_percent: float | None
    # Of the flagged lines, the % that were right as the engine read them.
    needless_percent: float | None


def engine_accuracy(lines: list[ReviewedLine]) -> list[EngineAccuracy]:
    by_engine: dict[str, list[ReviewedLine]] = {}
    for line in lines:
        by_engine.setdefault(line.engine, []).append(line)
    return [
        EngineAccuracy(
            engine=engine,
            reviewed=len(group),
            corrected=sum(line.corrected for line in group),
            edits=sum(Levenshtein.distance(line.ocr_text, line.final_text) for line in group),
            characters=sum(len(line.final_text) for line in group),
        )
        for engine, group in sorted(by_engine.items())
    ]


def threshold_outcomes(lines: list[ReviewedLine], thresholds) -> list[ThresholdOutcome]:
    corrected = [line for line in lines if line.corrected]
    outcomes = []
    for threshold in sorted(set(thresholds)):
        flagged = [line for line in lines if line.confidence < threshold]
        outcomes.append(
            ThresholdOutcome(
                threshold=threshold,
                flagged=len(flagged),
                caught_percent=_percent(sum(line.confidence < threshold for line in corrected), len(corrected)),
                needless_percent=_percent(sum(not line.corrected for line in flagged), len(flagged)),
            )
        )
    return outcomes
