"""How much the owner's learned words help the reader: names and terms a user's
notes keep reusing, read before and after a first note is corrected.

1. Generates ``--notes`` notes with ``tests/notegen.py`` (the four handwriting fonts in
   turn, every third one blurred) whose lines reuse a few names and terms ("Priya",
   "Okonkwo", "Zephyr account", ...) among ordinary words.
2. Makes a scratch Inkdex (SQLite), a user, and the first note as the engine reads it;
   the user corrects each of its lines to what was written (``owner_edits``), which
   teaches their words (``learned_words``).
3. Reads every other note with the real RapidOCR engine (in this process: the same
   code as in the worker's engine process) twice: without user words, then with the
   user's words as the worker gives them (``words_for_engine``).

Prints, for each pass, the share of the reused names and terms read right (each
occurrence, as a whole word, case ignored) and the share of the other words read right
(which must not get worse).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import scratch_site  # noqa: E402

NAMES = ["Priya", "Okonkwo", "Halvorsen", "Marguerite", "Kowalczyk", "Tsukimura"]
TERMS = ["Zephyr", "Brightwater", "Quillon", "Nordvik"]
TEMPLATES = [
    "Call {name} about the {term} account",
    "{name} sent the {term} figures",
    "Ask {name} to check {term} invoices",
    "Meeting with {name} on Friday",
    "{term} renewal is due in May",
    "Lunch with {name} and {other}",
    "Send {name} the {term} contract",
    "{name} owes us for {term}",
]
FONTS = ["dkg", "humor", "femke", "breip"]
_WORD = re.compile(r"[^\W\d_]+")


def note_lines(rng: random.Random, lines: int) -> list[str]:
    chosen = []
    for _ in range(lines):
        name, other = rng.sample(NAMES, 2)
        chosen.append(rng.choice(TEMPLATES).format(name=name, other=other, term=rng.choice(TERMS)))
    return chosen


def first_note_lines() -> list[str]:
    """The note the user corrects: every name and term once."""
    return [f"{name} and {term}" for name, term in zip(NAMES, TERMS + TERMS)] + [
        f"{TERMS[2]} and {TERMS[3]} for {NAMES[0]}"
    ]


def score(truth: list[str], read: str, targets: set[str]) -> tuple[int, int, int, int]:
    """(targets read right, targets, other words read right, other words), counting each occurrence."""
    read_words: dict[str, int] = {}
    for word in _WORD.findall(read.casefold()):
        read_words[word] = read_words.get(word, 0) + 1
    hits = [0, 0, 0, 0]
    for line in truth:
        for word in _WORD.findall(line.casefold()):
            slot = 0 if word in targets else 2
            hits[slot + 1] += 1
            if read_words.get(word, 0) > 0:
                read_words[word] -= 1
                hits[slot] += 1
    return tuple(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=24, help="notes read after the first (default 24)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with scratch_site(keep=args.keep):
        from django.contrib.auth import get_user_model

        from ocr_app.engines.rapidocr_engine import RapidOcrEngine
        from ocr_app.services import owner_edits
        from ocr_app.services.learned_words import words_for_engine
        from tests.factories import make_note
        from tests.notegen import render_note

        engine = RapidOcrEngine()
        engine.warm_up()
        rng = random.Random(args.seed)
        user = get_user_model().objects.create_user("bench", password="bench-password-1")

        # The first note: read by the engine, then corrected line by line by its owner.
        truth = first_note_lines()
        image, _ = render_note(truth, font="dkg", seed=args.seed)
        read = [line.text for line in engine.recognize(image, "en").lines]
        note = make_note(user, read + ["?"] * max(0, len(truth) - len(read)))
        for line, text in zip(note.lines.order_by("order"), truth):
            owner_edits.correct_own_line(line_id=line.pk, owner=user, text=text)
        user_words = words_for_engine(user.pk)
        print(f"learned from the first note: {', '.join(user_words)}")

        targets = {w.casefold() for w in NAMES + TERMS}
        notes = []
        for index in range(args.notes):
            lines = note_lines(rng, rng.randint(4, 6))
            image, _ = render_note(
                lines, font=FONTS[index % len(FONTS)], seed=args.seed + index, blur=1.2 if index % 3 == 2 else 0.0
            )
            notes.append((lines, image))

        print(f"{'':28} {'names/terms right':>18} {'other words right':>18} {'s/note':>8}")
        changed = []
        results = {}
        for label, words in (("without user words", ()), ("with the user's words", user_words)):
            totals = [0, 0, 0, 0]
            started = time.perf_counter()
            texts = []
            for lines, image in notes:
                text = " ".join(line.text for line in engine.recognize(image, "en", user_words=words).lines)
                texts.append(text)
                totals = [a + b for a, b in zip(totals, score(lines, text, targets))]
            seconds = (time.perf_counter() - started) / len(notes)
            results[label] = texts
            print(
                f"{label:28} {totals[0] / totals[1]:>10.1%} ({totals[0]}/{totals[1]})"
                f" {totals[2] / totals[3]:>9.1%} ({totals[2]}/{totals[3]}) {seconds:>7.2f}"
            )
        for before, after in zip(*results.values()):
            if before != after:
                changed.append((before, after))
        print(f"\n{len(changed)} of {len(notes)} notes read differently, e.g.:")
        for before, after in changed[:5]:
            print(f"  - {before}\n  + {after}")


if __name__ == "__main__":
    main()
