"""What the fair choice of the next note costs: Inkdex's claim query against plain oldest-first.

    .venv/bin/python bench/fair_queue.py [--queued 2500] [--users 10] [--done 20000] [--runs 300] [--database-url postgres://...]

Builds a scratch database with ``--users`` users and ``--done`` recognised notes spread
over them (each owner's history of service), then one user with ``--queued`` queued
notes and another with one queued note, and times, ``--runs`` times each, interleaved:

- **oldest first**: the queued note queued first (what a plain FIFO queue takes);
- **fair**: ``ocr_app.pipeline.claims.next_note_query`` (the owner served longest ago,
  then that owner's oldest note), the query every claim runs;

and prints median / p95 milliseconds and the ratio, and which note each picks.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

from _common import create_user, load_average, machine_summary, median, percentile, print_table, scratch_site, vendor


def build(queued: int, users: int, done: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from ocr_app.models import Note, NoteStatus

    rng = random.Random(7)
    owners = [create_user(f"user{i}") for i in range(users)]
    start = timezone.now() - timedelta(days=30)

    def note(owner, status, at, **fields):
        return Note(owner=owner, image=f"notes/{owner.pk}/x.png", original_name="x.png", sha256="0" * 64,
                    size_bytes=1, width=1, height=1, image_format="PNG", content_type="image/png",
                    status=status, uploaded_at=at, queued_at=at, **fields)

    history = []
    for i in range(done):
        at = start + timedelta(seconds=i * 60)
        history.append(note(rng.choice(owners), NoteStatus.DONE, at, started_at=at, finished_at=at))
    Note.objects.bulk_create(history, batch_size=2000)
    now = timezone.now()
    big, small = owners[0], owners[1]
    Note.objects.bulk_create(
        [note(big, NoteStatus.QUEUED, now + timedelta(microseconds=i)) for i in range(queued)], batch_size=2000
    )
    # The big queue's owner is being served right now, as when the small note arrives.
    Note.objects.bulk_create([
        note(big, NoteStatus.PROCESSING, now, started_at=now),
        note(small, NoteStatus.QUEUED, now + timedelta(seconds=1)),
    ])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE ocr_app_note")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queued", type=int, default=2500)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--done", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    print(machine_summary())
    with scratch_site(args.database_url, keep=args.keep):
        from django.utils import timezone

        from ocr_app.models import Note, NoteStatus
        from ocr_app.pipeline.claims import next_note_query

        build(args.queued, args.users, args.done)
        now = timezone.now() + timedelta(seconds=5)

        def oldest_first():
            return list(Note.objects.filter(status=NoteStatus.QUEUED).order_by("queued_at", "pk").values_list("pk", "owner__username")[:1])

        def fair():
            picked = list(next_note_query(now))
            return [(pk, Note.objects.get(pk=pk).owner.username) for pk, _ in picked]

        plain_ms, fair_ms = [], []
        for _ in range(args.runs):
            plain_ms.append(timed(oldest_first))
            fair_ms.append(timed(lambda: list(next_note_query(now))))
        rows = [
            ["oldest first", f"{median(plain_ms):.2f}", f"{percentile(plain_ms, 95):.2f}", "1.00", oldest_first()[0][1]],
            ["fair (next_note_query)", f"{median(fair_ms):.2f}", f"{percentile(fair_ms, 95):.2f}",
             f"{median(fair_ms) / median(plain_ms):.2f}", fair()[0][1]],
        ]
        print_table(
            ["choice of the next note", "median ms", "p95 ms", "ratio (median)", "picks a note of"], rows,
            title=f"{vendor()}: {args.queued} notes of user0 queued, then 1 of user1; "
            f"{args.done} done notes over {args.users} users; {args.runs} runs",
        )
    print(load_average())


if __name__ == "__main__":
    main()
