"""What an engine says about a recognition (Aspose: trial mode, a license not
accepted) is kept with the note until the next recognition, and shown, escaped,
on the note's page and in the API's note."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import api_note, recognised_by
from tests.factories import make_note
from tests.fake_engines import WarningEngine


@pytest.fixture
def warning_engines(settings):
    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {
            **settings.INKDEX["OCR_ENGINES"],
            "warns": "tests.fake_engines.WarningEngine",
            "fixed": "tests.fake_engines.FixedReadingEngine",
        },
        "ENGINE_ISOLATION": True,  # the warnings cross the engine's process boundary, as for real
    }


def jpeg(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def red_jpeg() -> bytes:
    return jpeg((255, 0, 0))


@pytest.mark.django_db(transaction=True)  # the worker commits, as it does for real
def test_engine_warnings_are_stored_shown_escaped_and_cleared_by_the_next_recognition(
    warning_engines, user, alice_client
):
    note = recognised_by(make_note(user, ["x"], name="trial.jpg", image=red_jpeg()), "warns")
    assert note.warnings == WarningEngine.WARNINGS

    page = alice_client.get(note.get_absolute_url()).content.decode()
    assert 'id="engine-warnings"' in page
    assert "Ran in &lt;b&gt;trial&lt;/b&gt; mode &amp; read only the first lines." in page
    assert "<b>trial</b>" not in page
    assert "The license was not accepted." in page
    assert api_note(user, note)["warnings"] == WarningEngine.WARNINGS

    # Another recognition that says nothing: the last one's warnings go.
    note = recognised_by(note, "fixed")
    assert note.warnings == []
    page = alice_client.get(note.get_absolute_url()).content.decode()
    assert 'id="engine-warnings"' not in page and "The license was not accepted." not in page
    assert api_note(user, note)["warnings"] == []


@pytest.mark.django_db(transaction=True)
def test_the_same_engine_saying_nothing_the_next_time_clears_its_warnings(warning_engines, user):
    note = recognised_by(make_note(user, ["x"], name="trial.jpg", image=red_jpeg()), "warns")
    assert note.warnings == WarningEngine.WARNINGS
    # The same engine on an image it has nothing to say about (not red).
    with open(note.image.path, "wb") as stored:
        stored.write(jpeg((255, 255, 255)))
    note = recognised_by(note, "warns")
    assert note.warnings == []
