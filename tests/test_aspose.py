"""The optional Aspose engine: isolated, honest about trial mode, checked by `manage.py check`.

Runs the real engine when the package and Debian 11's libssl 1.1 are there
(`./inkdex test` fetches the library); without them those tests skip.
"""

from __future__ import annotations

import pytest

from ocr_app.checks import aspose_engine_ready
from ocr_app.engines import EngineError
from ocr_app.engines.aspose import AsposeEngine
from ocr_app.engines.confidence import text_confidence
from ocr_app.engines.isolated import IsolatedEngine
from ocr_app.models import NoteStatus
from ocr_app.pipeline.engine_selection import available_engines, engine_options, get_engine
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload, run_worker_until_idle
from tests.notegen import PRINT_FONT, encode, render_note

PRINTED_LINES = ["Meeting notes for Tuesday", "Call the plumber about", "the leak in the kitchen", "Buy milk and eggs"]


def aspose_ready() -> bool:
    return not AsposeEngine(**engine_options(AsposeEngine)).problems()


needs_aspose = pytest.mark.skipif(
    not aspose_ready(),
    reason="Aspose is not set up: run './inkdex aspose' (or './inkdex test', which fetches its libssl 1.1).",
)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Call the plumber on Monday", 100.0),
        ("Dentist at 4pm, 12/03", 100.0),
        ("Pay the bi11s", round(100 * (2 / 3) ** 1.5, 1)),  # one odd word in three: under 75
        ("plUmb3r #@!", 0.0),
        ("", 0.0),
    ],
)
def test_a_confidence_is_estimated_from_how_plausible_the_text_looks(text, expected):
    assert text_confidence(text) == expected


def test_an_unready_aspose_refuses_cleanly_instead_of_crashing(tmp_path):
    engine = IsolatedEngine(AsposeEngine, timeout=60, options={"libssl_dir": str(tmp_path)})
    try:
        with pytest.raises(EngineError, match="not set up: .*libssl 1.1 is not in") as caught:
            engine.recognize(render_note(["x"], font=PRINT_FONT)[0])
        assert not getattr(caught.value, "retryable", False)
    finally:
        engine.stop()


def test_check_says_what_aspose_needs(settings, tmp_path):
    settings.INKDEX = {**settings.INKDEX, "OCR_ENGINE": "aspose", "ASPOSE_LIBSSL_DIR": str(tmp_path / "none"),
                       "ASPOSE_LICENSE_FILE": ""}
    found = {message.id: message.msg for message in aspose_engine_ready()}
    assert "libssl 1.1 is not in" in found["inkdex.E010"]
    assert "trial mode" in found["inkdex.W011"]
    settings.INKDEX = {**settings.INKDEX, "ASPOSE_LICENSE_FILE": str(tmp_path / "missing.lic")}
    assert "cannot be read" in {m.id: m.msg for m in aspose_engine_ready()}["inkdex.E012"]
    # Not chosen and no license given: not in use, nothing to say.
    settings.INKDEX = {**settings.INKDEX, "OCR_ENGINE": "rapidocr", "ASPOSE_LICENSE_FILE": ""}
    assert aspose_engine_ready() == []


def test_aspose_is_offered_only_when_it_can_run():
    # Whether it can run is seen by running it, not by asking the check the offer is made from.
    engine = get_engine("aspose")
    try:
        engine.recognize(render_note(["Buy milk"], font=PRINT_FONT)[0])
        runs = True
    except EngineError:
        runs = False
    finally:
        engine.stop()
    assert ("aspose" in available_engines()) == runs


@needs_aspose
def test_aspose_set_up_but_without_its_libssl_is_not_offered(settings, tmp_path):
    assert "aspose" in available_engines()
    settings.INKDEX = {**settings.INKDEX, "ASPOSE_LIBSSL_DIR": str(tmp_path)}
    assert "aspose" not in available_engines()


@needs_aspose
def test_trial_mode_is_reported_as_a_partial_result():
    image, drawn = render_note(PRINTED_LINES, font=PRINT_FONT)
    recognition = get_engine("aspose").recognize(image)
    assert isinstance(get_engine("aspose"), IsolatedEngine)
    assert recognition.partial is True
    assert recognition.warnings[0].startswith("Aspose ran without a license (trial mode)")
    # Trial mode reads only the first lines; what it reads is right and where it is.
    assert 1 <= len(recognition.lines) < len(PRINTED_LINES)
    first = recognition.lines[0]
    assert first.text == PRINTED_LINES[0]
    x, y, width, height = drawn[0].box
    assert abs(first.box.x - x) < 20 and abs(first.box.y - y) < 20 and abs(first.box.width - width) < 40
    assert 0 < first.confidence <= 100
    assert all("Trial" not in line.text for line in recognition.lines)


@needs_aspose
@pytest.mark.django_db(transaction=True)
def test_a_note_recognised_in_trial_mode_sends_every_line_to_review(user, alice_client):
    picture = encode(render_note(PRINTED_LINES, font=PRINT_FONT)[0])
    note = create_note(owner=user, uploaded_file=image_upload("printed.jpg", picture))
    note.requested_engine = "aspose"
    note.save(update_fields=["requested_engine"])
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == NoteStatus.DONE and note.engine_name == "aspose"
    assert note.partial_result is True and note.engine_version.startswith("aspose-ocr-python-net 26.10.0")
    lines = list(note.lines.all())
    assert lines and all(line.needs_review for line in lines)
    page = alice_client.get(note.get_absolute_url()).content.decode()
    assert "The engine returned only part of the text; every line needs review." in page
