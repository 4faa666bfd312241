"""Engines side by side on the same generated note images: time per image, lines found, memory.

Each engine runs as Inkdex runs it, in its own child process (``IsolatedEngine``);
the time per image is measured after one warm-up image (model loading), and the
memory is the child's peak resident size (VmHWM). RapidOCR, the default, is the
reference. Aspose runs only where it is set up (``./inkdex aspose``); without a
license it is in trial mode and reads only the first lines, which the
"lines found" column shows.

    .venv/bin/python bench/engines.py [--images 8]
"""

from __future__ import annotations

import argparse
import os
import random
import time

from _common import PROJECT_DIR, load_average, machine_summary, median, percentile, print_table

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notes_site.settings")
os.environ.setdefault("INKDEX_DATA_DIR", str(PROJECT_DIR / "var" / "bench"))


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def images(count: int):
    from tests.notegen import HANDWRITING_FONTS, SAMPLE_LINES, render_note

    rng = random.Random(7)
    fonts = list(HANDWRITING_FONTS)
    for index in range(count):
        lines = rng.sample(SAMPLE_LINES, rng.randint(4, 7))
        image, _ = render_note(lines, font=fonts[index % len(fonts)], seed=index, ruled=index % 2 == 1)
        yield image, lines


def run(engine_name: str, samples) -> list | None:
    from ocr_app.engines.isolated import IsolatedEngine
    from ocr_app.pipeline.engine_selection import engine_classes, engine_options

    engine_class = engine_classes()[engine_name]
    options = engine_options(engine_class)
    if not engine_class.is_available(**options):
        return None
    engine = IsolatedEngine(engine_class, timeout=600, options=options)
    try:
        engine.recognize(samples[0][0])  # warm-up: loads the models
        seconds, found, drawn = [], 0, 0
        for image, lines in samples:
            started = time.perf_counter()
            recognition = engine.recognize(image)
            seconds.append(time.perf_counter() - started)
            found += len(recognition.lines)
            drawn += len(lines)
        rss = peak_rss_mb(engine._child.pid)
        partial = recognition.partial
    except Exception as exc:  # an engine that cannot run here is reported, not fatal
        return [engine_name, f"failed: {exc}"[:80], "", "", "", "", ""]
    finally:
        engine.stop()
    return [engine_name, f"{median(seconds):.2f}", f"{percentile(seconds, 95):.2f}", f"{60 / median(seconds):.0f}",
            f"{found}/{drawn}", "yes" if partial else "no", f"{rss:.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8)
    args = parser.parse_args()
    import django

    django.setup()
    print(machine_summary())
    samples = list(images(args.images))
    rows = [row for name in ("rapidocr", "aspose") if (row := run(name, samples))]
    reference = float(rows[0][1])
    for row in rows:
        try:
            row.insert(3, f"{float(row[1]) / reference:.2f}x")
        except ValueError:
            row.insert(3, "")
    print_table(
        ["engine", "median s/img", "p95 s/img", "time vs rapidocr", "img/min", "lines found/drawn", "partial (trial)",
         "engine process peak RSS MB"],
        rows,
        title=f"Engines on {args.images} generated note images (after one warm-up image)",
    )
    print(f"at the end: {load_average()}")


if __name__ == "__main__":
    main()
