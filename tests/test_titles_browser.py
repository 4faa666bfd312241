"""Renaming a note inline on its page, by keyboard, in a real browser (Playwright and
Debian's chromium; fixtures in ``tests/browsing.py``)."""

from __future__ import annotations

import pytest

from ocr_app.models import Note
from tests.factories import make_note
from tests.notegen import encode, render_note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def status_text(page) -> str:
    return page.locator("#title-status").inner_text()


def test_rename_inline_with_the_keyboard(browsing, user):
    texts = ["Call the plumber", "buy milk"]
    image, drawn = render_note(texts)
    # Only the second line is sure enough to be the title.
    note = make_note(user, texts, name="IMG_0042.jpg", image=encode(image), boxes=[line.box for line in drawn],
                     confidences=[60.0, 95.0])
    page = browsing.sign_in()
    page.goto(note.get_absolute_url())
    heading = page.locator("#note-title")
    assert page.get_by_role("button", name="Rename", exact=True).is_visible()
    button = page.locator("#rename-button")
    field = page.get_by_label("Title", exact=True)
    assert heading.inner_text() == "buy milk" and not field.is_visible()
    assert button.get_attribute("aria-expanded") == "false"

    # Esc cancels: nothing is saved, the focus goes back to the button, and that is announced.
    button.focus()
    page.keyboard.press("Enter")
    assert field.is_visible() and field.evaluate("el => el === document.activeElement")
    assert not button.is_visible()  # the field takes the heading's place
    page.keyboard.type("Not this")
    page.keyboard.press("Escape")
    assert heading.inner_text() == "buy milk" and not field.is_visible()
    assert button.evaluate("el => el === document.activeElement")
    page.wait_for_function("() => document.getElementById('title-status').textContent === 'Renaming cancelled.'")
    assert Note.objects.get(pk=note.pk).title == "buy milk"

    # Enter saves: the heading, the window title and the database change, without a reload.
    page.evaluate("window.__sameDocument = true")
    page.keyboard.press("Enter")
    assert field.input_value() == "buy milk"  # the current title, selected
    page.keyboard.type("Plumber <b>& co</b>")  # replaces the selection
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('title-status').textContent.startsWith('Renamed')")
    assert status_text(page) == "Renamed to Plumber <b>& co</b>."
    assert heading.inner_text() == "Plumber <b>& co</b>"  # shown as text, not markup
    assert page.locator("#note-title b").count() == 0
    assert page.title() == "Plumber <b>& co</b> · Inkdex"
    assert page.evaluate("window.__sameDocument") is True
    assert button.evaluate("el => el === document.activeElement")
    saved = Note.objects.get(pk=note.pk)
    assert (saved.title, saved.title_set_by_owner) == ("Plumber <b>& co</b>", True)

    # Emptied: the title is chosen from what was read again.
    page.keyboard.press("Enter")
    page.keyboard.press("Delete")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('title-status').textContent.startsWith('Title chosen')")
    assert heading.inner_text() == "buy milk"
    assert Note.objects.get(pk=note.pk).title_set_by_owner is False

    # Reloaded, the page shows the stored title; the list shows it too.
    page.reload()
    assert page.locator("#note-title").inner_text() == "buy milk"
    page.goto("/")
    card = page.locator(f".note-card[data-note-id='{note.pk}']")
    assert card.locator(".name").inner_text() == "buy milk" and card.locator(".file-name").inner_text() == "IMG_0042.jpg"
