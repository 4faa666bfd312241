"""Fit the weights of ``ocr_app.engines.confidence`` on generated notes, and check them.

    .venv/bin/python bench/quality/calibrate.py [--notes-per-tier 24]

Inkdex's RapidOCR engine with calibration off (alternatives and lexicon on, as
the worker runs it) reads notes drawn from the tuning seeds; each line is labelled right or wrong against the ground truth (aligned as
``score.py`` does; wrong = its words differ). A logistic regression on
``confidence.features`` is fitted on half of the seeds and checked on the other
half: ROC AUC and the review threshold's catch / false-alarm rates, raw engine
score against calibrated. The printed WEIGHTS and BIAS go into confidence.py.
The report seed of ``score.py`` is never used here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402 - also puts the project on sys.path
from corpus import TIERS, draw_note  # noqa: E402
from score import TUNING_SEEDS, RecLine, align, words  # noqa: E402


def labelled_lines(seeds, per_tier: int):
    """(features, wrong, engine confidence) of every line the engine read."""
    from ocr_app.engines.confidence import features
    from ocr_app.engines.rapidocr_engine import RapidOcrEngine

    engine = RapidOcrEngine(calibrate=False)
    rows = []
    for seed in seeds:
        for tier in TIERS:
            for index in range(per_tier):
                truth = draw_note(seed * 1000 + index, tier)
                recognition = engine.recognize(truth.image.convert("RGB"))
                rec = [RecLine(l.text, l.confidence, (l.box.x, l.box.y, l.box.width, l.box.height), False)
                       for l in recognition.lines]
                for line, match in zip(recognition.lines, align(truth, rec)):
                    wrong = match is None or words(line.text) != words(truth.lines[match])
                    rows.append((features(line, "en"), wrong, line.confidence))
    return rows


def fit(x: np.ndarray, right: np.ndarray, steps: int = 3000, rate: float = 0.5, l2: float = 1e-3):
    """Logistic regression by gradient descent: weights and bias for log-odds(right)."""
    weights, bias = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ weights + bias)))
        gradient = p - right
        weights -= rate * (x.T @ gradient / len(x) + l2 * weights)
        bias -= rate * gradient.mean()
    return weights, bias


def auc(confidence, wrong) -> float:
    """How often a wrong line gets a lower confidence than a right one."""
    confidence, wrong = np.asarray(confidence), np.asarray(wrong, dtype=bool)
    bad, good = confidence[wrong], confidence[~wrong]
    if not len(bad) or not len(good):
        return float("nan")
    less = (bad[:, None] < good[None, :]).sum() + 0.5 * (bad[:, None] == good[None, :]).sum()
    return less / (len(bad) * len(good))


def rates(confidence, wrong, threshold: float = 75.0) -> tuple[float, float]:
    confidence, wrong = np.asarray(confidence), np.asarray(wrong, dtype=bool)
    flagged = confidence < threshold
    return flagged[wrong].mean(), flagged[~wrong].mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes-per-tier", type=int, default=24)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notes_site.settings")
    os.environ.setdefault("INKDEX_DATA_DIR", str(_common.PROJECT_DIR / "var" / "bench"))
    import django

    django.setup()
    from ocr_app.engines.confidence import FEATURES

    seeds = list(TUNING_SEEDS)
    fit_rows = labelled_lines(seeds[:2], args.notes_per_tier)
    check_rows = labelled_lines(seeds[2:], args.notes_per_tier)
    x = np.array([row[0] for row in fit_rows])
    right = np.array([not row[1] for row in fit_rows], dtype=float)
    weights, bias = fit(x, right)
    print(f"fitted on {len(fit_rows)} lines ({int((1 - right).sum())} wrong); checked on {len(check_rows)} lines "
          f"({sum(row[1] for row in check_rows)} wrong)")
    print("WEIGHTS = (" + ", ".join(f"{w:.2f}" for w in weights) + ")  # " + ", ".join(FEATURES))
    print(f"BIAS = {bias:.2f}")
    wrong = [row[1] for row in check_rows]
    raw = [row[2] for row in check_rows]
    xc = np.array([row[0] for row in check_rows])
    calibrated = 100 / (1 + np.exp(-(xc @ weights + bias)))
    print("\n| confidence | AUC | wrong lines flagged at 75 | right lines flagged at 75 |")
    print("|---|---|---|---|")
    for name, values in (("engine score", raw), ("calibrated", calibrated)):
        caught, needless = rates(values, wrong)
        print(f"| {name} | {auc(values, wrong):.3f} | {caught:.0%} | {needless:.0%} |")


if __name__ == "__main__":
    main()
