"""Upload -> post_save signal -> queue -> worker -> stored lines, for real."""

import pytest
from django.db import transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from ocr_app.engines import EngineError
from ocr_app.models import Line, Note, NoteStatus
from ocr_app.pipeline import recognition, recovery, tasks
from ocr_app.pipeline.engine_selection import get_engine
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload, run_worker_until_idle
from tests.notegen import SAMPLE_LINES, note_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def upload_note(user, lines=None, name="groceries.jpg") -> Note:
    return create_note(owner=user, uploaded_file=image_upload(name, note_bytes(lines or SAMPLE_LINES[:3])))


def test_upload_page_to_done_note_with_lines(alice_client, user):
    response = alice_client.post(
        reverse("ocr_app:upload"),
        {"images": [image_upload("a.jpg"), image_upload("b.png", note_bytes(SAMPLE_LINES[3:5], fmt="PNG"), "image/png")]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True, True]
    notes = Note.objects.order_by("pk")
    assert [n.status for n in notes] == ["queued", "queued"]
    # The signal queued one task per note, and nothing ran in the request.
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    assert not Line.objects.exists()

    run_worker_until_idle()

    first, second = Note.objects.order_by("pk")
    assert first.status == second.status == NoteStatus.DONE
    assert first.engine_name == "rapidocr" and first.engine_version
    assert first.attempts == 1 and first.processing_seconds > 0
    assert first.preview.name and first.thumbnail.name
    texts = " ".join(first.lines.values_list("text", flat=True)).lower()
    assert "plumber" in texts and "coffee" in texts
    assert "library" in " ".join(second.lines.values_list("text", flat=True)).lower()
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2

    page = alice_client.get(reverse("ocr_app:note_detail", args=[first.pk]))
    assert page.status_code == 200
    assert b"plumber" in page.content and b'class="box' in page.content


def test_note_records_what_was_uploaded(user):
    note = upload_note(user, name="../../etc/Shopping list.jpg")
    assert note.original_name == "Shopping list.jpg"
    assert note.image.name.startswith(f"notes/{user.pk}/") and "Shopping" not in note.image.name
    assert len(note.sha256) == 64 and note.size_bytes == note.image.size
    assert (note.width, note.height) == (1100, 120 + 3 * int(44 * 2.3))
    assert note.image_format == "JPEG" and note.language == "en"


def test_signal_schedules_only_after_commit_and_not_on_rollback(user):
    with transaction.atomic():
        upload_note(user)
        assert DBTaskResult.objects.count() == 0, "enqueued before the transaction committed"
    assert DBTaskResult.objects.count() == 1

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            upload_note(user)
            raise RuntimeError("rolled back")
    assert DBTaskResult.objects.count() == 1
    assert Note.objects.count() == 1


def test_task_is_idempotent_and_reprocess_replaces_lines(user):
    note = upload_note(user)
    run_worker_until_idle()
    note.refresh_from_db()
    line_ids = set(note.lines.values_list("pk", flat=True))
    assert note.status == "done" and line_ids

    # A duplicate task for a finished note does nothing.
    assert recognition.recognize_note(note.pk).outcome == "skipped"
    assert set(note.lines.values_list("pk", flat=True)) == line_ids

    tasks.request_recognition(note)
    assert note.status == "queued"
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "done"
    new_ids = set(note.lines.values_list("pk", flat=True))
    assert new_ids and not (new_ids & line_ids), "reprocess must replace the lines, not add to them"
    assert note.lines.count() == len(line_ids)


def test_reprocess_button_requeues(alice_client, user):
    note = upload_note(user)
    run_worker_until_idle()
    response = alice_client.post(reverse("ocr_app:note_reprocess", args=[note.pk]))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.status == "queued"
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "done" and note.lines.exists()


def test_transient_failure_is_retried_then_succeeds(user, monkeypatch):
    engine = get_engine()
    real = engine.recognize
    calls = []

    def flaky(image, language="en"):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("out of memory")
        return real(image, language)

    monkeypatch.setattr(engine, "recognize", flaky)
    note = upload_note(user)
    run_worker_until_idle()
    note.refresh_from_db()
    assert len(calls) == 2
    assert note.status == "done" and note.attempts == 2 and note.error == ""
    assert note.lines.exists()


def test_retry_waits_for_backoff(user, monkeypatch, settings):
    settings.INKDEX = {**settings.INKDEX, "RETRY_BACKOFF_SECONDS": 600.0}
    monkeypatch.setattr(get_engine(), "recognize", lambda image, language="en": 1 / 0)
    note = upload_note(user)
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "queued" and note.attempts == 1
    assert "Attempt 1 of 3 failed" in note.error
    deferred = DBTaskResult.objects.get(pk=note.task_id)
    assert deferred.status == "READY" and deferred.run_after > note.queued_at


def test_failure_after_all_attempts_is_reported(user, monkeypatch):
    monkeypatch.setattr(get_engine(), "recognize", lambda image, language="en": 1 / 0)
    note = upload_note(user)
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "failed" and note.attempts == 3
    assert note.error == "Recognition failed after 3 attempts. " + recognition.UNEXPECTED
    assert not note.lines.exists()


def test_engine_error_fails_without_retry(user, monkeypatch):
    def refuse(image, language="en"):
        raise EngineError("The engine cannot read this image.")

    monkeypatch.setattr(get_engine(), "recognize", refuse)
    note = upload_note(user)
    run_worker_until_idle()
    note.refresh_from_db()
    assert (note.status, note.attempts, note.error) == ("failed", 1, recognition.ENGINE_FAILED)


def test_accents_an_engine_writes_decomposed_are_stored_composed_and_found(user, monkeypatch):
    from ocr_app.engines import Box, Recognition, RecognizedLine
    from ocr_app.search import search_notes

    def decomposed(image, language="en", **kwargs):
        line = RecognizedLine("Cafe\u0301 cre\u0300me", 90.0, Box(0, 0, 10, 10))
        return Recognition([line], engine_name="fake", engine_version="1")

    monkeypatch.setattr(get_engine(), "recognize", decomposed)
    note = upload_note(user)
    run_worker_until_idle()
    line = note.lines.get()
    assert (line.text, line.ocr_text) == ("Café crème", "Café crème")
    assert [r.note.pk for r in search_notes(user, "café").notes] == [note.pk]


def test_texts_stored_decomposed_before_the_upgrade_are_composed_and_found(user):
    """Migration 0026: lines, deleted lines and titles stored before texts were composed."""
    from django.core.management import call_command

    from ocr_app.models import DeletedLine
    from ocr_app.search import search_notes
    from tests.factories import make_note

    note = make_note(user, ["plain line", "other line"], name="menu.jpg")
    call_command("migrate", "ocr_app", "0025", verbosity=0)
    try:
        # As a correction typed decomposed was stored until then.
        Line.objects.filter(note=note, order=0).update(text="Cafe\u0301 menu", ocr_text="Cafe\u0301 menv")
        Note.objects.filter(pk=note.pk).update(title="Cre\u0300me")
        DeletedLine.objects.create(note=note, text="Ga\u0302teau", order=5, x=0, y=0, width=1, height=1)
        assert search_notes(user, "café").notes == []
    finally:
        call_command("migrate", "ocr_app", verbosity=0)
    line = note.lines.get(order=0)
    assert (line.text, line.ocr_text) == ("Café menu", "Café menv")
    assert Note.objects.get(pk=note.pk).title == "Crème"
    assert DeletedLine.objects.get(note=note).text == "Gâteau"
    assert note.lines.get(order=1).text == "other line"
    assert [r.note.pk for r in search_notes(user, "café").notes] == [note.pk]


SECRET_DETAIL = "/srv/inkdex/var/models/ch_PP-OCRv4_rec.onnx: ONNXRuntimeError INVALID_GRAPH"


@pytest.mark.parametrize(
    "failure,expected",
    [
        (EngineError(f"RapidOCR could not read this image: {SECRET_DETAIL}"), "ENGINE_FAILED"),
        (RuntimeError(SECRET_DETAIL), "UNEXPECTED"),
        ("damaged file", "UNREADABLE_IMAGE"),
    ],
    ids=["engine error", "unexpected exception", "damaged stored image"],
)
def test_the_owner_reads_a_sentence_for_them_and_the_details_go_to_the_log(
    user, alice_client, monkeypatch, caplog, settings, failure, expected
):
    from django.core.files.base import ContentFile

    settings.INKDEX = {**settings.INKDEX, "MAX_ATTEMPTS": 1}
    note = upload_note(user)
    if failure == "damaged file":
        storage, name = note.image.storage, note.image.name
        storage.delete(name)
        whole = note_bytes(["x"])
        storage.save(name, ContentFile(whole[: len(whole) // 2]))  # cut short after the upload checks
        detail = name
    else:
        def fail(image, language="en"):
            raise failure

        monkeypatch.setattr(get_engine(), "recognize", fail)
        detail = SECRET_DETAIL
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "failed" and getattr(recognition, expected) in note.error
    shown = [
        alice_client.get(note.get_absolute_url()).content.decode(),
        alice_client.get(reverse("ocr_app:note_status", args=[note.pk])).content.decode(),
        alice_client.get(f"/api/v1/notes/{note.pk}/").content.decode(),
    ]
    for text in [note.error, *shown]:
        for leak in (detail, "onnxruntime", "runtimeerror", "truncated", "bytes not processed", "/srv/"):
            assert leak.lower() not in text.lower()
    assert detail in caplog.text  # for the admin


def test_missing_image_file_fails_clearly(user):
    note = upload_note(user)
    note.image.storage.delete(note.image.name)
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "failed" and "missing" in note.error


def test_low_confidence_lines_need_review_by_threshold(user, settings):
    settings.INKDEX = {**settings.INKDEX, "REVIEW_THRESHOLD": 99.5}
    note = upload_note(user, SAMPLE_LINES[:5])
    run_worker_until_idle()
    lines = list(Note.objects.get(pk=note.pk).lines.all())
    assert lines
    for line in lines:
        assert line.needs_review == (line.confidence < 99.5)
    assert any(line.needs_review for line in lines), "fixture should produce some lines under 99.5%"


def test_stale_processing_note_is_recovered(user):
    note = upload_note(user)
    DBTaskResult.objects.all().delete()
    # As if a worker claimed the note and then died without a trace.
    Note.objects.filter(pk=note.pk).update(status="processing", run_token="dead", attempts=1,
                                           heartbeat_at="2020-01-01T00:00:00Z")
    assert recovery.recover_stale_notes() == [note.pk]
    note.refresh_from_db()
    assert note.status == "queued" and "stopped" in note.error
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "done" and note.attempts == 2


def test_queued_note_whose_task_was_lost_is_requeued(user):
    note = upload_note(user)
    DBTaskResult.objects.all().delete()
    Note.objects.filter(pk=note.pk).update(queued_at="2020-01-01T00:00:00Z")
    assert recovery.recover_stale_notes() == [note.pk]
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == "done"


def test_recovery_leaves_healthy_notes_alone(user):
    upload_note(user)
    assert recovery.recover_stale_notes() == []


def test_stale_note_out_of_attempts_fails(user, settings):
    note = upload_note(user)
    Note.objects.filter(pk=note.pk).update(status="processing", run_token="dead", attempts=3,
                                           heartbeat_at="2020-01-01T00:00:00Z")
    recovery.recover_stale_notes()
    note.refresh_from_db()
    assert note.status == "failed" and "worker stopped" in note.error


def test_a_run_that_lost_its_claim_does_not_write(user, monkeypatch):
    note = upload_note(user)
    engine = get_engine()
    real = engine.recognize

    def reprocess_meanwhile(image, language="en"):
        # The owner presses Reprocess while this run is still recognising.
        tasks.request_recognition(Note.objects.get(pk=note.pk))
        return real(image, language)

    monkeypatch.setattr(engine, "recognize", reprocess_meanwhile)
    assert recognition.recognize_note(note.pk).outcome == "discarded"
    note.refresh_from_db()
    assert note.status == "queued" and not note.lines.exists()


@pytest.mark.slow
def test_worker_killed_mid_ocr_is_recovered_by_the_next_worker(user, worker_process, settings):
    from datetime import timedelta

    from django.utils import timezone

    from tests.conftest import wait_for

    note = upload_note(user, SAMPLE_LINES[:6])
    first = worker_process()
    wait_for(lambda: Note.objects.filter(pk=note.pk, status="processing").exists(), 60, 0.02, "the worker to claim")
    first.kill()
    assert Note.objects.get(pk=note.pk).status == "processing"
    # The heartbeat stopped; an hour passes (on the note's clock, not the test's).
    Note.objects.filter(pk=note.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    second = worker_process()
    wait_for(lambda: Note.objects.filter(pk=note.pk, status="done").exists(), 90, 0.2,
             f"recovery; worker log:\n{second.log()}")
    note.refresh_from_db()
    assert note.attempts == 2
    orders = list(note.lines.values_list("order", flat=True))
    assert orders == list(range(len(orders))) and orders
    assert DBTaskResult.objects.filter(status="RUNNING").count() == 0


@pytest.mark.slow
def test_two_workers_process_twenty_notes_each_exactly_once(user, worker_process):
    from tests.conftest import wait_for

    notes = [
        create_note(owner=user, uploaded_file=image_upload(f"n{i}.png", note_bytes([f"Note number {i}"], fmt="PNG"), "image/png"))
        for i in range(20)
    ]
    workers = [worker_process(), worker_process()]
    ids = [note.pk for note in notes]
    wait_for(lambda: Note.objects.filter(pk__in=ids, status="done").count() == 20, 180, 0.3,
             "20 notes done; logs:\n" + "\n".join(w.log()[-2000:] for w in workers))
    # Each note claimed once (one attempt), each task run once, by one worker. (Whether
    # both workers got some depends on how fast each started; that both take notes side
    # by side is shown with held workers in test_fair_queue.)
    assert set(Note.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    results = DBTaskResult.objects.filter(status="SUCCESSFUL")
    assert results.count() == 20
    assert all(len(result.worker_ids) == 1 for result in results)
    for note in notes:
        assert list(note.lines.values_list("order", flat=True)) == [0]


def test_records_of_long_finished_tasks_are_pruned(user, settings):
    from datetime import timedelta

    from django.utils import timezone

    from ocr_app.pipeline.recovery import prune_finished_tasks

    old, recent = upload_note(user), upload_note(user, name="recent.jpg")
    run_worker_until_idle()  # the worker prunes as it starts: nothing is old yet
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2
    DBTaskResult.objects.filter(args_kwargs__args=[old.pk]).update(finished_at=timezone.now() - timedelta(days=8))
    assert prune_finished_tasks() == 1
    assert list(DBTaskResult.objects.values_list("args_kwargs", flat=True)) == [{"args": [recent.pk], "kwargs": {}}]


def test_tasks_queued_under_their_path_before_the_pipeline_moved_still_run(user, settings):
    """Tasks queued before the upgrade name ``ocr_app.tasks``; migration 0023 renames them."""
    import io

    from django.core.management import call_command
    from PIL import Image

    from ocr_app.services.uploads import create_pdf_note
    from tests.conftest import image_upload

    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "fixed": "tests.fake_engines.FixedReadingEngine"},
        "OCR_ENGINE": "fixed",
    }
    note = upload_note(user)
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(buffer, "PDF")
    pdf = create_pdf_note(owner=user, uploaded_file=image_upload("scan.pdf", buffer.getvalue(), "application/pdf"))
    try:
        # The database as it was before the upgrade: the queued tasks under their old path.
        call_command("migrate", "ocr_app", "0022", verbosity=0)
        assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == [
            "ocr_app.tasks.recognize_note_task",
            "ocr_app.tasks.split_pdf_task",
        ]
    finally:
        call_command("migrate", "ocr_app", verbosity=0)

    run_worker_until_idle()

    note.refresh_from_db()
    pdf.refresh_from_db()
    assert (note.status, pdf.status) == (NoteStatus.DONE, NoteStatus.SPLIT)
    assert pdf.pages.get().status == NoteStatus.DONE
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()
    get_engine("fixed", isolated=True).stop()
