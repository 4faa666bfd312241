"""OCR pipeline throughput: the bare engine against Inkdex's real worker processes.

    .venv/bin/python bench/throughput.py [--images 12] [--workers 2] [--database-url postgres://...]

Reference: ``get_engine('rapidocr', isolated=False).recognize`` on each generated note
image, in this process, after one warm-up image. Inkdex: the same images imported as
notes (upload service, so the post_save signal queues the tasks), then ``manage.py
run_worker --batch`` process(es) drain the queue; each worker runs the engine in a child
process of its own (``ocr_app/engines/isolated.py``), and the CPU time and memory
figures count that child too. Prints images/min for both, the ratio, per-image times
(``Note.processing_seconds``), CPU time per image and each worker's peak RSS.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import load_average, PROJECT_DIR, create_user, machine_summary, median, percentile, print_table, scratch_site, vendor

sys.path.insert(0, str(PROJECT_DIR))
from tests.notegen import HANDWRITING_FONTS, SAMPLE_LINES, encode, render_note  # noqa: E402

EXTRA_LINES = [
    "Meeting notes for the quarterly review",
    "Ask Tom about the server migration",
    "Groceries: bread, apples, cheese, rice",
    "Fix the leaking kitchen tap",
    "Send invoice 2024-117 to the client",
    "Ideas for the garden: tomatoes and herbs",
    "Call mum on Sunday evening",
    "Check the car tyres before the trip",
]


def generate_images(folder: Path, count: int, seed: int = 7) -> list[Path]:
    """``count`` different notes: 5 to 9 lines each, the four handwriting fonts in turn."""
    rng = random.Random(seed)
    fonts = sorted(HANDWRITING_FONTS)
    pool = SAMPLE_LINES + EXTRA_LINES
    paths = []
    for index in range(count):
        lines = rng.sample(pool, rng.randint(5, 9))
        image, _ = render_note(lines, font=fonts[index % len(fonts)], seed=index, ruled=index % 3 == 0)
        path = folder / f"note-{index:03d}.jpg"
        path.write_bytes(encode(image))
        paths.append(path)
    return paths


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def bare_engine(paths: list[Path]) -> tuple[list[float], float, int]:
    """Wall seconds per image for the engine alone (decode + recognize), CPU seconds
    for all of them, and lines read."""
    from PIL import Image

    from ocr_app.pipeline.engine_selection import get_engine

    # In this process: the engine alone, without Inkdex's child-process isolation.
    engine = get_engine("rapidocr", isolated=False)
    with Image.open(paths[0]) as warm:
        engine.recognize(warm.convert("RGB"))
    seconds, lines, cpu = [], 0, cpu_seconds()
    for path in paths:
        started = time.perf_counter()
        with Image.open(path) as image:
            lines += len(engine.recognize(image.convert("RGB")).lines)
        seconds.append(time.perf_counter() - started)
    return seconds, cpu_seconds() - cpu, lines


def import_notes(user, paths: list[Path]) -> list[int]:
    from django.core.files import File

    from ocr_app.services.uploads import create_notes

    ids = []
    for path in paths:
        with path.open("rb") as handle:
            [outcome] = create_notes(owner=user, files=[File(handle, name=path.name)])
        if not outcome.ok:
            raise SystemExit(f"{path}: {outcome.error}")
        ids.append(outcome.note.pk)
    return ids


def peak_rss(pid: int) -> int:
    """The process's peak resident set so far (VmHWM), in bytes; 0 once it is gone.

    Not ``ru_maxrss`` from wait4: Linux carries the pre-exec high-water mark over
    execve, so a child forked from this (model-holding) process would report ours.
    """
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    """The process's children (the worker's engine process)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(p) for p in children.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def become_subreaper() -> None:
    """Orphans of our descendants become our children (PR_SET_CHILD_SUBREAPER), so that
    a worker's engine process, which outlives the worker by a moment (it exits when its
    pipe closes), is reaped here and its CPU time counted."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def drain_queue(env: dict, workers: int) -> tuple[float, float, list[int]]:
    """Start ``workers`` batch workers and wait for all to exit; wall seconds, their CPU
    seconds in all (their engine processes included), and each one's peak RSS (bytes; the
    worker's and its engine process's peaks added)."""
    command = [sys.executable, str(PROJECT_DIR / "manage.py"), "run_worker", "--batch", "--no-startup-delay",
               "--verbosity", "0"]
    if workers > 1 and "INKDEX_OCR_THREADS" not in env:
        # As `manage.py serve --workers N` does: each worker's OCR gets its share of the cores.
        env = {**env, "INKDEX_OCR_THREADS": str(max(1, (os.cpu_count() or 1) // workers))}
    become_subreaper()
    started = time.perf_counter()
    running = {subprocess.Popen(command, env=env, cwd=PROJECT_DIR): {} for _ in range(workers)}
    peaks, cpu, ours = [], 0.0, {proc.pid for proc in running}
    while running:
        for proc, seen in list(running.items()):
            for pid in [proc.pid, *child_pids(proc.pid)]:
                seen[pid] = max(seen.get(pid, 0), peak_rss(pid))
            done, status, usage = os.wait4(proc.pid, os.WNOHANG)  # wait4: this child's own CPU time
            if done:
                proc.returncode = os.waitstatus_to_exitcode(status)
                if proc.returncode:
                    raise SystemExit(f"worker exited with {proc.returncode}")
                peaks.append(sum(running.pop(proc).values()))
                cpu += usage.ru_utime + usage.ru_stime
        time.sleep(0.05)
    # The engine processes the workers left behind (reparented to us): wait for them to exit.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.05)
            continue
        if pid not in ours:
            cpu += usage.ru_utime + usage.ru_stime
    return time.perf_counter() - started, cpu, peaks


def inkdex_round(env: dict, user, paths: list[Path], workers: int) -> dict:
    from ocr_app.models import Line, Note, NoteStatus

    ids = import_notes(user, paths)
    wall, cpu, peaks = drain_queue(env, workers)
    notes = list(Note.objects.filter(pk__in=ids).order_by("finished_at"))
    not_done = [n.pk for n in notes if n.status != NoteStatus.DONE]
    if not_done:
        raise SystemExit(f"notes not recognised: {not_done}")
    seconds = [n.processing_seconds for n in notes]
    # Steady state: from the moment every worker has finished its first note (model
    # loaded) to the last note. With one worker: (N - 1) notes over last - first.
    warm = notes[workers - 1].finished_at
    span = (notes[-1].finished_at - warm).total_seconds()
    return {
        "workers": workers,
        "wall_per_min": 60 * len(paths) / wall,
        "steady_per_min": 60 * (len(paths) - workers) / span if span > 0 else float("nan"),
        "median": median(seconds),
        "p95": percentile(seconds, 95),
        "peak_rss": max(peaks),
        "cpu_per_image": cpu / len(paths),
        "lines": Line.objects.filter(note_id__in=ids).count(),
    }


def _ratio(ratio: float) -> str:
    """Throughput ratio, and what it means in time per image."""
    return f"{ratio:.2f} ({1 / ratio - 1:+.0%} time/img)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=12, help="note images to generate (default 12)")
    parser.add_argument("--workers", type=int, default=1, help="also run with this many worker processes")
    parser.add_argument("--database-url", help="PostgreSQL scratch database (created and dropped); default SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the scratch data dir / database")
    args = parser.parse_args()
    if args.images < args.workers + 1:
        parser.error("--images must exceed --workers")

    with tempfile.TemporaryDirectory(prefix="inkdex-bench-img-") as folder, scratch_site(
        args.database_url, keep=args.keep
    ) as env:
        paths = generate_images(Path(folder), args.images)
        print(f"{machine_summary()}\n{len(paths)} images, database: {vendor()}")

        bare, bare_cpu, bare_lines = bare_engine(paths)
        bare_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        user = create_user()
        rounds = [inkdex_round(env, user, paths, 1)]
        if args.workers > 1:
            rounds.append(inkdex_round(env, user, paths, args.workers))

        bare_per_min = 60 * len(bare) / sum(bare)
        rows = [
            [
                "bare engine (in-process, warm)",
                f"{bare_per_min:.1f}",
                "",
                "1.00",
                f"{median(bare):.2f}",
                f"{percentile(bare, 95):.2f}",
                f"{bare_cpu / len(bare):.2f}",
                f"{bare_rss / 2**20:.0f} (bench process)",
                bare_lines,
            ]
        ]
        for r in rounds:
            rows.append(
                [
                    f"Inkdex, {r['workers']} worker process(es)",
                    f"{r['steady_per_min']:.1f}",
                    f"{r['wall_per_min']:.1f}",
                    _ratio(r["steady_per_min"] / bare_per_min),
                    f"{r['median']:.2f}",
                    f"{r['p95']:.2f}",
                    f"{r['cpu_per_image']:.2f}",
                    f"{r['peak_rss'] / 2**20:.0f}",
                    r["lines"],
                ]
            )
        print_table(
            [
                "pipeline",
                "img/min (steady)",
                "img/min (wall, incl. start-up)",
                "ratio vs bare",
                "median s/img",
                "p95 s/img",
                "CPU s/img",
                "peak RSS MB (per worker + its engine process)",
                "lines",
            ],
            rows,
            title="OCR throughput",
        )
        if len(rounds) > 1:
            one, many = rounds
            print(
                f"Scaling 1 -> {many['workers']} workers: steady {many['steady_per_min'] / one['steady_per_min']:.2f}x, "
                f"wall {many['wall_per_min'] / one['wall_per_min']:.2f}x (ideal {many['workers']}x; "
                f"{os.cpu_count()} CPUs)"
            )
        print(
            "steady = notes after each worker's first (model loaded) over the time since; wall = all notes over "
            "process start to exit. Inkdex per-image seconds are Note.processing_seconds (open, EXIF, downscale, "
            "engine, preview + thumbnail; the first note per worker includes loading the models). CPU s/img: "
            "user + system time of the timed loop (bare) or of the whole worker processes and their engine processes, "
            "start-up included (Inkdex) over the images; it is far less sensitive than wall time to other load on the machine."
        )
        print(f"at the end: {load_average()}")


if __name__ == "__main__":
    main()
