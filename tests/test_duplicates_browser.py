"""A duplicate upload on the upload page, in a real browser (Playwright, Debian's
chromium): the row says when the file was uploaded (the message of the API's
answer, which the page's JSON is), links to that note, and
"Upload anyway" stores this one file after all. No worker runs: uploads just queue."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ocr_app.models import Note
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload
from tests.notegen import note_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row_settled(page, name: str) -> None:
    page.wait_for_function(
        """(name) => Array.from(document.querySelectorAll('.upload-row')).some((row) =>
             row.querySelector('.name').textContent === name && row.dataset.status && row.dataset.status !== 'uploading')""",
        arg=name,
    )


def test_a_duplicate_row_links_to_the_note_and_upload_anyway_stores_it(browsing, user, tmp_path):
    board = note_bytes(["Call the plumber on Monday"])
    existing = create_note(owner=user, uploaded_file=image_upload("board.jpg", board))
    Note.objects.filter(pk=existing.pk).update(uploaded_at=datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc))
    (tmp_path / "board again.jpg").write_bytes(board)
    (tmp_path / "list.jpg").write_bytes(note_bytes(["Buy milk and eggs"]))
    (tmp_path / "list copy.jpg").write_bytes(note_bytes(["Buy milk and eggs"]))

    page = browsing.sign_in()
    # The old file, a new one, and the new one again in the same batch.
    page.set_input_files("#images", [str(tmp_path / name) for name in ("board again.jpg", "list.jpg", "list copy.jpg")])
    for name in ("board again.jpg", "list.jpg", "list copy.jpg"):
        row_settled(page, name)

    rows = page.locator("#upload-list .upload-row")
    duplicate = rows.filter(has_text="board again.jpg")
    assert duplicate.locator(".status").inner_text() == (
        "Already uploaded on 1 Nov 2026 as board.jpg; not uploaded again. Open that note")
    assert duplicate.locator("a.duplicate-link").get_attribute("href") == existing.get_absolute_url()
    assert rows.filter(has_text="list.jpg").first.get_attribute("data-status") == "queued"
    listed = Note.objects.get(original_name="list.jpg")
    copy = rows.filter(has_text="list copy.jpg")
    assert copy.locator(".status").inner_text() == "Already uploaded on " + (
        f"{listed.uploaded_at.day} {listed.uploaded_at:%b %Y} as list.jpg; not uploaded again. Open that note")
    assert copy.locator("a.duplicate-link").get_attribute("href") == listed.get_absolute_url()
    assert Note.objects.count() == 2

    # The button is reachable from the keyboard and names its file for screen readers.
    anyway = duplicate.get_by_role("button", name="Upload board again.jpg anyway")
    anyway.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.upload-row a.name') && Array.from(document.querySelectorAll('.upload-row a.name'))"
        ".some((link) => link.textContent === 'board again.jpg')"
    )
    again = Note.objects.get(original_name="board again.jpg")
    assert again.sha256 == existing.sha256 and again.pk != existing.pk
    assert duplicate.locator("a.name").get_attribute("href") == again.get_absolute_url()
    assert duplicate.get_attribute("data-status") == "queued"
    assert duplicate.locator("button").count() == 0
    # The other duplicate row is untouched: nothing else was stored.
    assert Note.objects.count() == 3
    page.goto(existing.get_absolute_url())
    assert "board.jpg" in page.locator("h1").inner_text()
