"""Fit the weights of ``ocr_app.engines.confidence`` on generated notes, and check them.

    .venv/bin/python bench/quality/calibrate.py [--notes-per-tier 32] [--lines /tmp/lines.pickle]

Inkdex's RapidOCR engine with calibration off (alternatives and lexicon on, as
the worker runs it) reads notes drawn from the tuning seeds; each line is
labelled right or wrong against the ground truth (aligned as ``score.py`` does;
wrong = its words differ). A logistic regression on ``confidence.features``
(``ocr_app.services.logistic``, as ``manage.py refit_confidence`` fits; lines
unweighted, so the confidence stays the chance that a line is right) is fitted
on the first two seeds and checked on the third, per tier: ROC AUC and, at the
review threshold, the share of wrong lines flagged (caught) and of right lines
flagged, for the engine's own score, the built-in weights and the new ones.
The printed WEIGHTS and BIAS go into confidence.py. The report seed of
``score.py`` is never used here.

``--lines FILE`` keeps the lines read (and their labels) in FILE, or takes them
from it when it exists: working on the features then needs no engine run.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402 - also puts the project on sys.path
from corpus import TIERS, draw_note  # noqa: E402
from score import TUNING_SEEDS, RecLine, align, words  # noqa: E402

RIDGE = 0.3  # held-out AUC was flat from 0.1 to 1 (tuning seeds, leave-one-seed-out)
THRESHOLD = 75.0


def labelled_lines(seeds, per_tier: int) -> list[tuple[int, str, object, bool]]:
    """(seed, tier, RecognizedLine, wrong) of every line the engine read."""
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
                    rows.append((seed, tier, line, wrong))
            print(f"  read seed {seed}, {tier}: {len(rows)} lines so far", file=sys.stderr, flush=True)
    return rows


def auc(confidence, wrong) -> float:
    """How often a wrong line gets a lower confidence than a right one (as
    ``refit_confidence`` measures it); nan for a tier with one kind of line only."""
    from ocr_app.services.logistic import roc_auc  # after django.setup(), as main's imports

    try:
        return roc_auc(confidence, ~np.asarray(wrong, dtype=bool))
    except ValueError:
        return float("nan")


def rates(confidence, wrong, threshold: float = THRESHOLD) -> tuple[float, float]:
    """(share of wrong lines flagged, share of right lines flagged) under ``threshold``."""
    confidence, wrong = np.asarray(confidence), np.asarray(wrong, dtype=bool)
    flagged = confidence < threshold
    share = lambda kind: flagged[kind].mean() if kind.any() else float("nan")  # noqa: E731
    return share(wrong), share(~wrong)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes-per-tier", type=int, default=32)
    parser.add_argument("--lines", type=Path, help="pickle of the lines read: written once, then read")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notes_site.settings")
    os.environ.setdefault("INKDEX_DATA_DIR", str(_common.PROJECT_DIR / "var" / "bench"))
    import django

    django.setup()
    from ocr_app.engines.confidence import BUILT_IN, FEATURES, features
    from ocr_app.services.logistic import fit_logistic

    seeds = list(TUNING_SEEDS)
    if args.lines and args.lines.exists():
        rows = pickle.loads(args.lines.read_bytes())
    else:
        rows = labelled_lines(seeds, args.notes_per_tier)
        if args.lines:
            args.lines.write_bytes(pickle.dumps(rows))
    fit_rows = [row for row in rows if row[0] in seeds[:2]]
    check_rows = [row for row in rows if row[0] in seeds[2:]]
    x = np.array([features(row[2], "en") for row in fit_rows])
    right = np.array([not row[3] for row in fit_rows])
    weights, bias = fit_logistic(x, right, ridge=RIDGE)
    print(f"fitted on {len(fit_rows)} lines of seeds {seeds[:2]} ({int((~right).sum())} wrong); checked on "
          f"{len(check_rows)} lines of seed {seeds[2:]} ({sum(row[3] for row in check_rows)} wrong)")
    print("WEIGHTS = (" + ", ".join(f"{w:.2f}" for w in weights) + ")  # " + ", ".join(FEATURES))
    print(f"BIAS = {bias:.2f}")

    xc = np.array([features(row[2], "en") for row in check_rows])
    scored = {
        "engine score": np.array([row[2].confidence for row in check_rows]),
        "built-in weights": np.array([BUILT_IN.confidence(dict(zip(FEATURES, f))) for f in xc]),
        "new weights": 100 / (1 + np.exp(-(xc @ weights + bias))),
    }
    print(f"\nHeld out: ROC AUC; wrong lines flagged (caught) and right lines flagged at {THRESHOLD:g}\n")
    print("| confidence | tier | lines (wrong) | AUC | wrong caught | right flagged |")
    print("|---|---|---|---|---|---|")
    for name, values in scored.items():
        for tier in (*TIERS, "all"):
            keep = np.array([tier == "all" or row[1] == tier for row in check_rows])
            wrong = np.array([row[3] for row in check_rows])[keep]
            caught, needless = rates(values[keep], wrong)
            print(f"| {name} | {tier} | {keep.sum()} ({wrong.sum()}) | {auc(values[keep], wrong):.3f} | "
                  f"{caught:.0%} | {needless:.0%} |")


if __name__ == "__main__":
    main()
