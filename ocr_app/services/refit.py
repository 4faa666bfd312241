"""Refitting the confidence weights on the lines people reviewed.

A reviewed line is *right* when the text people left on it is the engine's
reading (accepted as read, or corrected to the very same text) and *wrong*
otherwise. Its stored features (``Line.features``) and that label are one
example for a logistic regression.

The reviewed lines are not a fair sample of all lines: the review queue shows
only the lines under the threshold, so most reviewed lines are unsure ones, and
a confident line is reviewed only when its owner happens to correct or accept
it. Fitted and measured on them as they are, the weights would be judged on
unsure lines alone and their bias pulled down (more lines flagged). So each
reviewed line counts with the inverse of its chance of being reviewed, taken
per group (lines under the threshold, lines at or above it): the share of that
group's lines that were reviewed. Both the fit and the AUC use these weights,
so the sample stands for all the lines read.

Part of the lines (chosen with a fixed seed, in proportion within each group
and label) is held out; the weights in use and the new ones are compared on it,
and new weights that do worse are refused.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q

from ..engines.confidence import FEATURES, Calibration
from ..models import ConfidenceWeights, Line, ReviewAction, ReviewEvent
from ..review_rule import needs_review, review_threshold
from .confidence_weights import activate_new_weights, calibration_in_use
from .logistic import fit_logistic, roc_auc

MIN_LINES = 200
HOLDOUT = 0.3
SEED = 16
# What a person did that says whether the engine's reading was right.
JUDGING_ACTIONS = (ReviewAction.ACCEPT, ReviewAction.CORRECT, ReviewAction.RESTORE)


class RefitRefused(Exception):
    """Why no new weights were stored; the message is for the admin. ``report``:
    what was measured, when it got that far."""

    def __init__(self, message: str, report: "RefitReport | None" = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Example:
    line_id: int
    features: dict
    right: bool
    flagged: bool  # under the threshold: the kind of line the review queue shows
    weight: float = 1.0


@dataclass
class RefitReport:
    engine_name: str
    examples: int
    right: int
    flagged_reviewed: int
    flagged_total: int
    confident_reviewed: int
    confident_total: int
    fitted: int
    held_out: int
    before: Calibration
    after: Calibration | None = None
    auc_before: float | None = None
    auc_after: float | None = None
    stored: ConfidenceWeights | None = None
    warnings: list[str] = field(default_factory=list)


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _lines_with_features(engine_name: str):
    """The engine's lines that keep every feature this code computes: lines read before
    features were kept, or before the current ones, count neither as examples nor in
    the totals the examples are weighted by."""
    return (
        Line.objects.filter(note__engine_name=engine_name, features__has_keys=list(FEATURES))
        .exclude(ocr_text="")
    )


def reviewed_examples(engine_name: str, threshold: float) -> tuple[list[Example], dict[str, tuple[int, int]]]:
    """The engine's reviewed lines as weighted examples (by line id), and per group
    (``flagged``, ``confident``) how many lines were reviewed out of how many."""
    judged = ReviewEvent.objects.filter(line=OuterRef("pk"), action__in=JUDGING_ACTIONS)
    lines = _lines_with_features(engine_name)
    flagged_q = Q(confidence__lt=threshold) | Q(note__partial_result=True)
    rows = (
        lines.filter(reviewed_at__isnull=False)
        .filter(Exists(judged))
        .order_by("pk")
        .values_list("pk", "features", "text", "ocr_text", "confidence", "note__partial_result")
    )
    raw = [
        Example(pk, features, _same_text(text, ocr_text), needs_review(confidence, partial=partial, threshold=threshold))
        for pk, features, text, ocr_text, confidence, partial in rows
    ]
    totals = {"flagged": lines.filter(flagged_q).count(), "confident": lines.exclude(flagged_q).count()}
    reviewed = {"flagged": sum(e.flagged for e in raw), "confident": sum(not e.flagged for e in raw)}
    # Inverse of the chance of being reviewed, per group.
    weight = {group: totals[group] / reviewed[group] if reviewed[group] else 0.0 for group in totals}
    examples = [
        Example(e.line_id, e.features, e.right, e.flagged, weight["flagged" if e.flagged else "confident"]) for e in raw
    ]
    return examples, {group: (reviewed[group], totals[group]) for group in totals}


def split_held_out(examples: list[Example], holdout: float, seed: int = SEED) -> tuple[list[Example], list[Example]]:
    """(fitted, held out): ``holdout`` of each (group, label) kind held out, chosen
    by a fixed seed, so the same lines give the same split."""
    rng = random.Random(seed)
    fitted, held = [], []
    for kind in ((True, True), (True, False), (False, True), (False, False)):
        group = sorted((e for e in examples if (e.flagged, e.right) == kind), key=lambda e: e.line_id)
        rng.shuffle(group)
        count = round(len(group) * holdout)
        held += group[:count]
        fitted += group[count:]
    return fitted, held


def _matrix(examples: list[Example]) -> list[list[float]]:
    return [[float(e.features[name]) for name in FEATURES] for e in examples]


def auc_of(calibration: Calibration, examples: list[Example]) -> float:
    return roc_auc(
        [calibration.log_odds(e.features) for e in examples], [e.right for e in examples], [e.weight for e in examples]
    )


def refit_confidence(
    engine_name: str = "rapidocr",
    *,
    min_lines: int = MIN_LINES,
    holdout: float = HOLDOUT,
    dry_run: bool = False,
    threshold: float | None = None,
) -> RefitReport:
    """Fit new weights on the engine's reviewed lines and make them the active set,
    unless they do worse than the weights in use on the held-out lines (RefitRefused)
    or ``dry_run``. The report says what was measured either way."""
    if not 0 < holdout < 1:
        raise RefitRefused(f"The held-out share must be between 0 and 1 (got {holdout:g}).")
    threshold = review_threshold() if threshold is None else threshold
    examples, groups = reviewed_examples(engine_name, threshold)
    if len(examples) < min_lines:
        raise RefitRefused(
            f"Only {len(examples)} reviewed lines of the {engine_name} engine carry the features to refit on; "
            f"at least {min_lines} are needed. Review more lines (lines read before this version lack its features; "
            "reprocessing a note gives its new lines theirs)."
        )
    fitted, held = split_held_out(examples, holdout)
    for part, name in ((fitted, "fitted"), (held, "held-out")):
        kinds = {e.right for e in part}
        if kinds != {True, False}:
            missing = "wrong" if True in kinds else "right"
            raise RefitRefused(f"The {name} lines hold no {missing} line: there is nothing to tell apart.")
    report = RefitReport(
        engine_name=engine_name,
        examples=len(examples),
        right=sum(e.right for e in examples),
        flagged_reviewed=groups["flagged"][0],
        flagged_total=groups["flagged"][1],
        confident_reviewed=groups["confident"][0],
        confident_total=groups["confident"][1],
        fitted=len(fitted),
        held_out=len(held),
        before=calibration_in_use(engine_name),
    )
    if not report.confident_reviewed:
        report.warnings.append(
            f"No reviewed line is at or above the threshold ({threshold:g}): the weights are fitted and "
            "measured on unsure lines only."
        )
    weights, bias = fit_logistic(_matrix(fitted), [e.right for e in fitted], [e.weight for e in fitted])
    report.after = Calibration.of(dict(zip(FEATURES, (round(float(w), 4) for w in weights))), round(bias, 4))
    report.auc_before = auc_of(report.before, held)
    report.auc_after = auc_of(report.after, held)
    if report.auc_after < report.auc_before:
        raise RefitRefused(
            f"The new weights do worse on the {len(held)} held-out lines (AUC {report.auc_after:.3f} against "
            f"{report.auc_before:.3f} for the weights in use); the weights in use stay.",
            report,
        )
    if not dry_run:
        report.stored = activate_new_weights(
            engine_name,
            report.after,
            auc_before=report.auc_before,
            auc_after=report.auc_after,
            lines_fitted=len(fitted),
            lines_held_out=len(held),
        )
    return report
