"""A note whose page has writing outside every line found says "Part of this page may
be unread": on its page, its card in the notes list, its live status and in the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ocr_app.conf import inkdex
from ocr_app.models import Note
from ocr_app.pipeline.engine_selection import get_engine
from ocr_app.pipeline.recognition import recognize_image
from ocr_app.pipeline.tasks import request_recognition
from tests.conftest import api_note, recognised_by
from tests.factories import make_note
from tests.fake_engines import unread_ink_image
from tests.notegen import SAMPLE_LINES, render_note

MARK = "Part of this page may be unread"


@pytest.fixture
def unread_ink_engine(settings):
    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "unread-ink": "tests.fake_engines.UnreadInkEngine"},
        "ENGINE_ISOLATION": True,  # the share crosses the engine's process boundary, as for real
        "UNREAD_INK_SHARE": 0.15,
    }


def recognised(owner, share: float) -> Note:
    """A note recognised by the real worker with an engine that finds ``share`` of its ink unread."""
    return recognised_by(make_note(owner, ["x"], name=f"share {share}.jpg", image=unread_ink_image(share)), "unread-ink")


@pytest.mark.django_db(transaction=True)  # the worker commits, as it does for real
def test_a_note_with_much_unread_ink_is_marked_everywhere_and_one_under_the_setting_is_not(
    unread_ink_engine, user, alice_client
):
    partly = recognised(user, 0.40)
    whole = recognised(user, 0.05)
    assert partly.unread_ink == pytest.approx(0.40, abs=0.02)
    assert whole.unread_ink == pytest.approx(0.05, abs=0.02)

    page = alice_client.get(partly.get_absolute_url()).content.decode()
    assert 'id="partly-unread-mark"' in page and MARK in page
    assert MARK not in alice_client.get(whole.get_absolute_url()).content.decode()

    cards = alice_client.get(reverse("ocr_app:note_list")).content.decode().split('<li class="note-card"')[1:]
    marked = {card.split('data-note-id="')[1].split('"')[0]: MARK in card for card in cards}
    assert marked == {str(partly.pk): True, str(whole.pk): False}

    assert api_note(user, partly)["partly_unread"] is True
    assert api_note(user, whole)["partly_unread"] is False
    status = alice_client.get(reverse("ocr_app:note_status", args=[partly.pk])).json()
    assert status["partly_unread"] is True


@pytest.mark.django_db(transaction=True)
def test_the_mark_follows_the_setting_and_waits_for_the_next_reading(unread_ink_engine, user, alice_client, settings):
    note = recognised(user, 0.10)
    assert MARK not in alice_client.get(note.get_absolute_url()).content.decode()
    settings.INKDEX = {**settings.INKDEX, "UNREAD_INK_SHARE": 0.08}
    assert MARK in alice_client.get(note.get_absolute_url()).content.decode()
    # Queued again: what the last reading said no longer holds until the next one.
    request_recognition(note)
    assert MARK not in alice_client.get(note.get_absolute_url()).content.decode()
    assert api_note(user, note)["partly_unread"] is False


@pytest.mark.django_db
def test_notes_of_engines_that_cannot_tell_are_never_marked(user, alice_client):
    note = make_note(user, ["Buy milk"])
    assert note.unread_ink is None
    assert MARK not in alice_client.get(note.get_absolute_url()).content.decode()
    assert api_note(user, note)["partly_unread"] is False


def test_rapidocr_reading_every_line_of_a_note_leaves_little_ink_unread():
    image, _ = render_note(SAMPLE_LINES[:4])
    recognition = get_engine("rapidocr", isolated=False).recognize(image)
    assert recognition.lines
    assert recognition.unread_ink is not None and recognition.unread_ink < 0.05


def test_rapidocr_reports_a_drawing_it_cannot_read_as_unread_ink(settings):
    from PIL import ImageDraw

    image, _ = render_note(SAMPLE_LINES[:3] + [""] * 4)
    draw = ImageDraw.Draw(image)
    for step in range(0, 300, 12):  # a sketch under the lines: ink, but no text
        draw.arc([150 + step, 420, 600 + step, 700], 0, 300, fill="#1b2a5a", width=4)
    recognition = get_engine("rapidocr", isolated=False).recognize(image)
    assert len(recognition.lines) == 3
    assert recognition.unread_ink >= inkdex().unread_ink_share


def test_the_share_survives_scaling_a_large_photo_down_for_the_engine(settings):
    settings.INKDEX = {**settings.INKDEX, "OCR_MAX_PIXELS": 400_000, "ENGINE_ISOLATION": False}
    image, _ = render_note(SAMPLE_LINES[:3])
    recognition = recognize_image(image.resize((image.width * 2, image.height * 2)), engine_name="rapidocr")
    assert recognition.unread_ink is not None and recognition.unread_ink < 0.05
