"""The owner fixes their own note in a real browser: edit a line in place with the
keyboard (Enter saves, Esc cancels), delete one and put it back, add a line with a box
dragged on the photo, type the text of a note with nothing read; then reprocess with
the real engine and worker and see the correction kept and the deleted line stay gone.

The browser fixtures are in ``tests/browsing.py``; every test fails on a JavaScript
error or a console error in the page.
"""

from __future__ import annotations

import re

import pytest
from PIL import Image

from ocr_app.models import DeletedLine, Line, ReviewAction
from tests.browsing import OCR_TIMEOUT_MS
from tests.factories import make_note
from tests.notegen import SAMPLE_LINES, encode, render_note
from tests.test_browser import upload_note, wait_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def line_texts(page) -> list[str]:
    return page.locator("#line-list li.line > .text").all_inner_texts()


def edit_line(page, order: int, text: str) -> None:
    """Open line ``order`` for editing from the keyboard, type ``text`` and press Enter."""
    page.locator(f"#line-{order} .edit-line").focus()
    page.keyboard.press("Enter")
    field = page.locator(f"#line-{order} .line-edit input[name=text]")
    assert field.evaluate("(el) => el === document.activeElement")
    field.fill(text)
    field.press("Enter")
    page.wait_for_load_state()


@pytest.mark.slow
def test_a_correction_and_a_deletion_survive_reprocessing_with_the_real_engine(browsing, user, worker_process, shots):
    texts = SAMPLE_LINES[:3]
    note = upload_note(user, texts, "errands.jpg")
    worker_process()
    page = browsing.sign_in()
    page.goto(note.get_absolute_url())
    wait_status(page, "Done")
    page.wait_for_selector("#line-2")
    read = line_texts(page)
    assert len(read) == 3, read

    # Esc leaves the line as it was.
    page.locator("#line-0 .edit-line").click()
    field = page.locator("#line-0 .line-edit input[name=text]")
    field.fill("something else")
    field.press("Escape")
    assert page.locator("#line-0 .line-edit").is_hidden()
    assert page.locator("#line-0 .edit-line").evaluate("(el) => el === document.activeElement")
    assert line_texts(page)[0] == read[0]

    edit_line(page, 0, "Call the plumber on Tuesday")
    assert page.locator(".messages").inner_text() == "Line saved."
    assert line_texts(page)[0] == "Call the plumber on Tuesday"
    assert page.locator("#line-0 .flag.corrected").inner_text() == "corrected"

    page.locator("#line-2 .delete-line").click()
    page.wait_for_selector("#deleted-lines")
    assert line_texts(page) == ["Call the plumber on Tuesday", read[1]]
    assert page.locator("#deleted-lines li .text").all_inner_texts() == [read[2]]
    page.screenshot(path=str(shots / "owner-edits.png"), full_page=True)

    page.click("#reprocess")
    page.wait_for_url(re.compile(rf"/notes/{note.pk}/"))
    wait_status(page, "Done", OCR_TIMEOUT_MS)
    page.wait_for_selector("#carried-corrections")
    assert page.locator("#carried-corrections").inner_text().startswith("1 correction carried over")
    assert line_texts(page) == ["Call the plumber on Tuesday", read[1]]
    kept = Line.objects.get(note=note, order=0)
    assert kept.text == "Call the plumber on Tuesday" and kept.reviewed_by == user
    assert [e.action for e in kept.events.all()] == [ReviewAction.CORRECT]
    assert DeletedLine.objects.filter(note=note).count() == 1
    page.screenshot(path=str(shots / "owner-edits-after-reprocess.png"), full_page=True)


def test_add_a_line_with_a_box_drawn_on_the_photo_and_put_a_deleted_line_back(browsing, user):
    texts = ["Econ 110 - 06/02", "elasticity = % change Q / % change P"]
    image, drawn = render_note(texts)
    note = make_note(user, texts, name="econ.jpg", image=encode(image), boxes=[line.box for line in drawn])
    page = browsing.sign_in()
    page.goto(note.get_absolute_url())

    # Drag a box between the two lines on the photo.
    photo = page.locator("#note-img").bounding_box()
    scale = photo["width"] / note.width
    top = drawn[0].box[1] + drawn[0].box[3] + 10
    start = (photo["x"] + 100 * scale, photo["y"] + top * scale)
    end = (photo["x"] + 700 * scale, photo["y"] + (top + 50) * scale)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 20, start[1] + 10, steps=3)
    page.mouse.move(*end, steps=5)
    page.mouse.up()
    assert page.locator("#add-line-box").inner_text().startswith("Box drawn")
    field = page.locator("#add-line-text")
    assert field.evaluate("(el) => el === document.activeElement")
    field.fill("read case study on tariffs")
    field.press("Enter")
    page.wait_for_selector(".messages")
    assert line_texts(page) == [texts[0], "read case study on tariffs", texts[1]]
    added = Line.objects.get(note=note, text="read case study on tariffs")
    assert abs(added.x - 100) <= 3 and abs(added.y - top) <= 3 and abs(added.height - 50) <= 3
    assert page.locator("#line-1 .flag").inner_text() == "added"

    # Deleting is undone from the list below the lines.
    page.locator("#line-0 .delete-line").click()
    page.wait_for_selector("#deleted-lines")
    page.locator("#deleted-lines button").click()
    page.wait_for_selector(".messages")
    assert page.locator(".messages").inner_text() == "Line put back."
    assert line_texts(page)[0] == texts[0]


def test_a_note_with_nothing_read_says_so_and_takes_typed_text(browsing, user):
    note = make_note(user, [], name="pencil list.jpg", image=encode(Image.new("RGB", (600, 400), "white")))
    page = browsing.sign_in()
    page.goto("/")
    assert page.locator(f".note-card[data-note-id='{note.pk}'] .nothing-read").inner_text() == "Nothing read"
    page.goto(note.get_absolute_url())
    assert page.locator("#nothing-read-mark").inner_text() == "Nothing read"
    assert "Reprocess" in page.locator("#nothing-read").inner_text()
    page.fill("#type-text", "COSTCO\n3 bananas\nbread")
    page.click("#type-text-form button[type=submit]")
    page.wait_for_selector("#line-2")
    assert line_texts(page) == ["COSTCO", "3 bananas", "bread"]
    assert page.locator("#nothing-read").count() == 0
