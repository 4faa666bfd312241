"""An engine that crashes or hangs costs one image, never the worker or the upload."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse
from PIL import Image

from ocr_app.engines import EngineError
from ocr_app.engines.isolated import EngineCrashed, EngineTimedOut, IsolatedEngine
from ocr_app.models import Note, NoteStatus
from ocr_app.pipeline import recognition
from ocr_app.pipeline.engine_selection import get_engine
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload, run_worker_until_idle
from tests.fake_engines import CrashOnRedEngine, HangOnRedEngine, RaiseOnRedEngine, SlowToStartEngine
from tests.notegen import encode

RED = Image.new("RGB", (64, 64), (255, 0, 0))
WHITE = Image.new("RGB", (64, 64), "white")


@pytest.fixture
def isolated():
    """Builds isolated engines; stops their processes afterwards."""
    engines = []

    def build(engine_class, **kwargs):
        engines.append(IsolatedEngine(engine_class, **kwargs))
        return engines[-1]

    yield build
    for engine in engines:
        engine.stop()


@pytest.mark.parametrize(
    "engine_class,timeout,error,message",
    [
        (CrashOnRedEngine, 60, EngineCrashed, r"crashed while reading this image \(exit code -6\)"),
        (HangOnRedEngine, 1.5, EngineTimedOut, "still reading this image after 1.5 seconds"),
        (RaiseOnRedEngine, 60, EngineError, "MemoryError: out of memory in the model"),
    ],
    ids=["native crash", "hang", "exception"],
)
def test_a_failing_image_is_an_error_and_the_next_image_works(isolated, engine_class, timeout, error, message):
    engine = isolated(engine_class, timeout=timeout)
    with pytest.raises(error, match=message):
        engine.recognize(RED)
    engine.timeout = 600  # the next image's answer may take what a stalled machine needs
    assert engine.recognize(WHITE).lines[0].text == "engine is alive"


def test_loading_the_models_does_not_count_against_the_time_per_image(isolated, monkeypatch):
    # A clock that moves only while the engine starts, by far more than the limit for
    # one image: the image's answer, however long the machine takes to send it, is
    # late only if starting counted against it.
    from ocr_app.engines import isolated as isolated_module

    clock = {"now": 0.0}
    monkeypatch.setattr(isolated_module, "time", SimpleNamespace(monotonic=lambda: clock["now"]))
    real_ensure_child = IsolatedEngine._ensure_child

    def slow_start(self):
        child = real_ensure_child(self)
        clock["now"] += 1000 * self.timeout
        return child

    monkeypatch.setattr(IsolatedEngine, "_ensure_child", slow_start)
    engine = isolated(SlowToStartEngine, timeout=SlowToStartEngine.START_SECONDS / 2)
    assert engine.recognize(WHITE).lines[0].text == "engine is alive"


def test_an_engine_that_cannot_start_says_why(isolated):
    from ocr_app.engines.aspose import AsposeEngine

    engine = isolated(AsposeEngine, timeout=60, options={"libssl_dir": "/nonexistent"})
    with pytest.raises(EngineError, match="not set up"):
        engine.recognize(WHITE)
    assert engine._child is None  # nothing left running


@pytest.fixture
def misbehaving_engines(settings):
    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {
            **settings.INKDEX["OCR_ENGINES"],
            "crashes": "tests.fake_engines.CrashOnRedEngine",
            "hangs": "tests.fake_engines.HangOnRedEngine",
        },
        "ENGINE_TIMEOUT_SECONDS": 1.5,
        "MAX_ATTEMPTS": 2,
    }
    get_engine("hangs")  # made now, it keeps the short time limit; the real engine below does not get it
    settings.INKDEX = {**settings.INKDEX, "ENGINE_TIMEOUT_SECONDS": 300.0}
    yield
    for name in ("crashes", "hangs"):
        get_engine(name).stop()


@pytest.mark.django_db(transaction=True)
def test_the_worker_fails_the_note_explains_why_and_goes_on(misbehaving_engines, user, alice_client):
    red = encode(Image.new("RGB", (200, 200), (255, 0, 0)), "PNG")
    crashing = create_note(owner=user, uploaded_file=image_upload("red.png", red, "image/png"))
    Note.objects.filter(pk=crashing.pk).update(requested_engine="crashes")
    hanging = create_note(owner=user, uploaded_file=image_upload("red2.png", red, "image/png"))
    Note.objects.filter(pk=hanging.pk).update(requested_engine="hangs")
    fine = create_note(owner=user, uploaded_file=image_upload("fine.jpg"))

    run_worker_until_idle()  # in this process: the engines' crashes must not take it down

    crashing.refresh_from_db()
    hanging.refresh_from_db()
    fine.refresh_from_db()
    assert crashing.status == NoteStatus.FAILED and crashing.attempts == 2
    assert crashing.error == "Recognition failed after 2 attempts. " + recognition.ENGINE_CRASHED
    # A hang is not retried: the same image would hang again.
    assert hanging.status == NoteStatus.FAILED and hanging.attempts == 1
    assert hanging.error == recognition.TOOK_TOO_LONG
    assert fine.status == NoteStatus.DONE and fine.lines.exists()
    # The upload is kept, and the note page offers to try again.
    assert crashing.image.storage.exists(crashing.image.name)
    page = alice_client.get(crashing.get_absolute_url()).content.decode()
    assert recognition.ENGINE_CRASHED in page and "exit code" not in page
    assert reverse("ocr_app:note_reprocess", args=[crashing.pk]) in page


@pytest.mark.django_db(transaction=True)
def test_a_database_locked_for_a_moment_costs_neither_the_upload_nor_the_recognition(user, monkeypatch):
    from django.db import OperationalError
    from django.db.models import QuerySet

    from ocr_app.services import database

    monkeypatch.setattr(database, "FIRST_PAUSE_SECONDS", 0.01)
    failures = {"insert": 2, "store": 2}
    real_save, real_bulk_create = Note.save, QuerySet.bulk_create

    def flaky_save(self, *args, **kwargs):
        if self.pk is None and failures["insert"]:
            failures["insert"] -= 1
            raise OperationalError("database is locked")
        return real_save(self, *args, **kwargs)

    def flaky_bulk_create(self, objs, *args, **kwargs):
        if self.model.__name__ == "Line" and failures["store"]:
            failures["store"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return real_bulk_create(self, objs, *args, **kwargs)

    monkeypatch.setattr(Note, "save", flaky_save)
    monkeypatch.setattr(QuerySet, "bulk_create", flaky_bulk_create)

    note = create_note(owner=user, uploaded_file=image_upload("locked.jpg"))
    assert Note.objects.filter(pk=note.pk).exists()
    run_worker_until_idle()
    note.refresh_from_db()
    assert failures == {"insert": 0, "store": 0}
    assert note.status == NoteStatus.DONE and note.attempts == 1 and note.lines.exists()
    assert Note.objects.count() == 1
