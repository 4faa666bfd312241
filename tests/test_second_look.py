"""The engine's second look: where its first look at the whole photo leaves ink
unread (small, faint or pencil writing), RapidOCR looks again at that part with
the ink stretched, and the lines it finds there join the page's."""

from __future__ import annotations

import pytest

from ocr_app.engines.rapidocr_engine import RapidOcrEngine
from ocr_app.pipeline.engine_selection import engine_options
from tests.notegen import SAMPLE_LINES, faint_photo, render_note

LINES = SAMPLE_LINES[:4]


@pytest.fixture(scope="module")
def first_look_only():
    return RapidOcrEngine(rescan=False)


@pytest.fixture(scope="module")
def second_look():
    return RapidOcrEngine(rescan=True)


@pytest.fixture(scope="module")
def faint():
    return faint_photo(LINES)


def test_faint_pencil_the_first_look_misses_is_read_on_the_second(first_look_only, second_look, faint):
    missed = first_look_only.recognize(faint)
    assert missed.lines == []  # what the second look is for
    assert missed.unread_ink >= 0.5

    found = second_look.recognize(faint)
    assert len(found.lines) >= 3
    assert "library" in " ".join(line.text for line in found.lines).casefold()
    # Boxes are in the photo's pixels, on the sheet (120 px in from the photo's edges),
    # one under the other as written.
    for line in found.lines:
        assert line.box.x >= 100 and line.box.right <= faint.width - 100
        assert line.box.y >= 100 and line.box.bottom <= faint.height - 100
    tops = [line.box.y for line in found.lines]
    assert tops == sorted(tops)
    assert found.unread_ink < 0.15  # so the note is not marked "may be partly unread"


def test_a_page_whose_ink_was_all_read_gets_no_second_look(first_look_only, second_look, monkeypatch):
    image, _ = render_note(LINES)
    looks = []
    read = second_look._read
    monkeypatch.setattr(second_look, "_read", lambda *args: looks.append(args) or read(*args))

    lines = second_look.recognize(image).lines
    assert len(looks) == 1
    assert [line.text for line in lines] == [line.text for line in first_look_only.recognize(image).lines]


def test_the_setting_turns_the_second_look_off(settings, faint):
    settings.INKDEX = {**settings.INKDEX, "OCR_RESCAN": False}
    engine = RapidOcrEngine(**engine_options(RapidOcrEngine))
    assert engine.recognize(faint).lines == []
