"""One user's long queue never starves another's single note: workers take notes
fairly across owners, with the real queue and real workers, on SQLite and PostgreSQL.

Notes here are queued in bulk (no upload checks, no real OCR) and recognised by
``RecordingEngine``, which logs the order in which notes reach it and can hold a worker
on a note until the test lets it go.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ocr_app.models import Note, NoteStatus
from ocr_app.pipeline import recovery, tasks
from ocr_app.pipeline.claims import claim_next_note
from ocr_app.pipeline.engine_selection import get_engine
from tests.conftest import run_worker_until_idle, wait_for
from tests.fake_engines import RecordingEngine, numbered_image
from tests.notegen import encode

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def engine_dir(settings, monkeypatch, tmp_path):
    """The recording engine, in this process and in worker processes; its folder."""
    folder = tmp_path / "engine"
    folder.mkdir()
    monkeypatch.setenv(RecordingEngine.DIR_VARIABLE, str(folder))
    monkeypatch.setenv("INKDEX_EXTRA_ENGINES", "recording=tests.fake_engines.RecordingEngine")
    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "recording": "tests.fake_engines.RecordingEngine"},
    }
    yield folder
    get_engine("recording").stop()  # its process knows this test's folder only


def open_gate(folder, name="all") -> None:
    (folder / f"go-{name}").touch()


def recognised(folder) -> list[tuple[int, int]]:
    """(note number, worker pid) in the order the engine was given the notes."""
    log = folder / "log"
    if not log.exists():
        return []
    return [tuple(int(part) for part in row.split()) for row in log.read_text().splitlines()]


def queue_notes(owner, numbers) -> dict[int, Note]:
    """Queue one note per number at once (bulk insert, one task each), as a big
    import would; each image carries its number for the engine."""
    notes = []
    for number in numbers:
        name = default_storage.save(f"notes/{owner.pk}/{number}.png", ContentFile(encode(numbered_image(number), "PNG")))
        notes.append(Note(
            owner=owner, image=name, original_name=f"{number}.png", sha256=f"{number:064d}", size_bytes=100,
            width=32, height=32, image_format="PNG", content_type="image/png", requested_engine="recording",
        ))
    created = Note.objects.bulk_create(notes)
    for note in created:
        tasks.schedule_recognition(note.pk)
    return {number: Note.objects.get(pk=note.pk) for number, note in zip(numbers, created)}


def numbers_recognised(folder) -> list[int]:
    return [number for number, _ in recognised(folder)]


A_NOTES = range(1, 31)
B_NOTE = 100


def test_a_single_note_queued_behind_thirty_of_another_user_goes_next(engine_dir, user, other_user):
    open_gate(engine_dir)
    a_notes = queue_notes(user, A_NOTES)
    call_command("run_worker", batch=True, max_tasks=5, startup_delay=False, verbosity=0)
    assert numbers_recognised(engine_dir) == [1, 2, 3, 4, 5]

    b_notes = queue_notes(other_user, [B_NOTE])
    run_worker_until_idle()

    order = numbers_recognised(engine_dir)
    assert order[5] == B_NOTE, f"bob's note waited behind alice's: {order}"
    # Each user's own notes keep their order, and every note was recognised once.
    assert order == [1, 2, 3, 4, 5, B_NOTE, *range(6, 31)]
    notes = {**a_notes, **b_notes}
    assert set(Note.objects.values_list("status", "attempts")) == {(NoteStatus.DONE, 1)}
    # 31 tasks ran, each recognised one note, though not always the one it was queued for.
    results = DBTaskResult.objects.filter(status="SUCCESSFUL")
    assert sorted(r.return_value["note"] for r in results) == sorted(n.pk for n in notes.values())
    assert {r.return_value["outcome"] for r in results} == {"done"}
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


def test_owners_with_queued_notes_take_turns(engine_dir, user, other_user, django_user_model):
    open_gate(engine_dir)
    carol = django_user_model.objects.create_user("carol", "carol@example.com", "carol-password-1")
    queue_notes(user, [1, 2, 3, 4])
    queue_notes(carol, [11, 12, 13, 14])
    queue_notes(other_user, [21])
    run_worker_until_idle()
    # Nobody was served yet: the note queued first goes first, then owners take turns.
    assert numbers_recognised(engine_dir) == [1, 11, 21, 2, 12, 3, 13, 4, 14]


def test_a_note_waiting_for_its_retry_is_left_alone_until_then(engine_dir, user, other_user, settings, monkeypatch):
    settings.INKDEX = {**settings.INKDEX, "RETRY_BACKOFF_SECONDS": 600.0}
    open_gate(engine_dir)
    engine = get_engine("recording")
    real = engine.recognize
    failed = []

    def fails_once(image, language="en"):
        if not failed:
            failed.append(1)
            raise MemoryError("out of memory")
        return real(image, language)

    monkeypatch.setattr(engine, "recognize", fails_once)
    flaky = queue_notes(user, [1])[1]
    call_command("run_worker", batch=True, max_tasks=1, startup_delay=False, verbosity=0)
    flaky.refresh_from_db()
    assert (flaky.status, flaky.attempts) == (NoteStatus.QUEUED, 1)
    assert flaky.retry_at > timezone.now() + timedelta(seconds=590)

    # Others' tasks run meanwhile; none of them takes the note before its time.
    queue_notes(other_user, [21, 22])
    run_worker_until_idle()
    assert numbers_recognised(engine_dir) == [21, 22]
    assert Note.objects.get(pk=flaky.pk).status == NoteStatus.QUEUED

    later = timezone.now() + timedelta(seconds=601)
    monkeypatch.setattr(timezone, "now", lambda: later)
    run_worker_until_idle()
    flaky.refresh_from_db()
    assert (flaky.status, flaky.attempts, flaky.retry_at) == (NoteStatus.DONE, 2, None)
    assert numbers_recognised(engine_dir) == [21, 22, 1]


def test_every_queued_note_keeps_a_task_when_tasks_take_other_notes(engine_dir, user, other_user, monkeypatch):
    open_gate(engine_dir)
    a_notes = queue_notes(user, [1, 2, 3])
    queue_notes(other_user, [21])
    call_command("run_worker", batch=True, max_tasks=2, startup_delay=False, verbosity=0)
    assert numbers_recognised(engine_dir) == [1, 21]  # the second task, queued for note 2, took bob's

    # Note 2 now names bob's task, which is still waiting to run: nothing is lost, so
    # recovery (long after, when it would look for lost tasks) has nothing to add.
    waiting = Note.objects.filter(status=NoteStatus.QUEUED)
    assert {n.pk for n in waiting} == {a_notes[2].pk, a_notes[3].pk}
    ready = set(DBTaskResult.objects.filter(status="READY").values_list("pk", flat=True))
    assert {n.task_id for n in waiting} == {str(pk) for pk in ready}
    later = timezone.now() + timedelta(hours=1)
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: later)
        assert recovery.recover_stale_notes() == []

    run_worker_until_idle()
    assert numbers_recognised(engine_dir) == [1, 21, 2, 3]


def test_a_task_with_no_note_left_to_take_does_nothing(engine_dir, user):
    open_gate(engine_dir)
    note = queue_notes(user, [1])[1]
    tasks.request_recognition(note, engine="recording")  # queued again while queued: a second task
    run_worker_until_idle()
    note.refresh_from_db()
    assert (note.status, note.attempts) == (NoteStatus.DONE, 1)
    outcomes = sorted(r.return_value["outcome"] for r in DBTaskResult.objects.filter(status="SUCCESSFUL"))
    assert outcomes == ["done", "idle"]
    assert numbers_recognised(engine_dir) == [1]


def test_workers_claiming_at_once_never_take_the_same_note(user, other_user):
    queued = queue_notes(user, range(1, 41)) | queue_notes(other_user, range(101, 121))
    claimed: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claim_until_empty():
        try:
            start.wait()
            while (taken := claim_next_note()) is not None:
                claimed.append(taken[0])
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim_until_empty) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(claimed) == sorted(note.pk for note in queued.values())
    assert set(Note.objects.values_list("status", "attempts")) == {(NoteStatus.PROCESSING, 1)}


@pytest.mark.slow
def test_with_two_worker_processes_the_next_free_worker_takes_the_single_note(
    engine_dir, user, other_user, worker_process
):
    a_notes = queue_notes(user, A_NOTES)
    workers = [worker_process(), worker_process()]
    # Both workers hold one of alice's notes (their gates are shut)...
    wait_for(lambda: len(recognised(engine_dir)) >= 2, 90, 0.05, "both workers to start a note")
    (first, first_worker), (second, second_worker) = recognised(engine_dir)
    assert {first, second} == {1, 2} and first_worker != second_worker
    # ...when bob queues one note. The first worker let go takes it, not alice's third.
    b_note = queue_notes(other_user, [B_NOTE])[B_NOTE]
    open_gate(engine_dir, str(first_worker))
    # (It goes on through alice's notes at once; the other worker is still held.)
    wait_for(lambda: len(recognised(engine_dir)) >= 3, 90, 0.05, "the next note")
    assert recognised(engine_dir)[2] == (B_NOTE, first_worker)

    open_gate(engine_dir)
    ids = [note.pk for note in a_notes.values()] + [b_note.pk]
    wait_for(lambda: Note.objects.filter(pk__in=ids, status="done").count() == 31, 120, 0.2,
             f"all notes done (worker logs in {workers[0].log_path.parent})")
    assert set(Note.objects.values_list("attempts", flat=True)) == {1}
    assert sorted(numbers_recognised(engine_dir)) == sorted([*A_NOTES, B_NOTE])
    done = [r.return_value["note"] for r in DBTaskResult.objects.filter(status="SUCCESSFUL")
            if r.return_value["outcome"] == "done"]
    assert sorted(done) == sorted(ids)
