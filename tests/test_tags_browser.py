"""Tags in a real browser: tagging a batch at upload, filtering the notes list and
the search by tag, tagging selected notes with the keyboard, a note's tags on its page.

Every test fails on a JavaScript or console error (``tests/browsing.py``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from ocr_app.models import Note
from ocr_app.services import tags
from tests.factories import make_note
from tests.notegen import encode
from tests.test_browser import note_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = datetime(2026, 11, 1, tzinfo=timezone.utc)


def note_with_image(owner, text: str, name: str, days: int = 0) -> Note:
    """A recognised note with a stored image (lists show its thumbnail)."""
    picture = encode(Image.new("RGB", (300 + 10 * days, 200), "white"))
    return make_note(owner, [text], name=name, uploaded_at=DAY + timedelta(days=days), image=picture)


def names(note: Note) -> list[str]:
    return sorted((t.name for t in note.tags.all()), key=str.casefold)


def test_tagging_a_batch_at_upload(browsing, user, tmp_path):
    tags.add_tags(owner=user, note_ids=[note_with_image(user, "earlier", "earlier").pk], names=["Receipts"])
    page = browsing.sign_in()  # lands on the upload page
    # Completion offers the user's own tags.
    assert page.locator("#user-tags option").evaluate_all("(os) => os.map((o) => o.value)") == ["Receipts"]
    page.fill("#upload-tags", "Trip 2026, receipts")
    files = [note_file(tmp_path, name, [text])[0] for name, text in (("a.jpg", "Taxi 12 euros"), ("b.png", "Hotel"))]
    with page.expect_file_chooser() as chooser:
        page.click("#dropzone")
    chooser.value.set_files(files)
    page.locator("#upload-list .upload-row[data-note-id]").nth(1).wait_for()
    uploaded = Note.objects.owned_by(user).exclude(original_name="earlier")
    assert sorted(n.original_name for n in uploaded) == ["a.jpg", "b.png"]
    assert [names(n) for n in uploaded] == [["Receipts", "Trip 2026"]] * 2
    # The tags stay in the field for the next files.
    assert page.input_value("#upload-tags") == "Trip 2026, receipts"


def test_filtering_by_tag_and_tagging_selected_notes_with_the_keyboard(browsing, user, other_user):
    plan = note_with_image(user, "project plan", "plan.jpg", 0)
    shop = note_with_image(user, "buy milk", "shop.jpg", 1)
    call = note_with_image(user, "call the plumber", "call.jpg", 2)
    tags.add_tags(owner=user, note_ids=[plan.pk, call.pk], names=["Work"])
    tags.add_tags(owner=other_user, note_ids=[note_with_image(other_user, "bob's", "bobs.jpg", 3).pk], names=["work", "secret"])
    page = browsing.sign_in()
    page.goto("/")
    options = page.locator("#tag-filter-select option").all_inner_texts()
    assert options == ["All notes", "Work (2)"]  # never Bob's tags

    page.select_option("#tag-filter-select", "Work")
    page.click("#list-options button[type=submit]")
    page.wait_for_url(re.compile(r"[?&]tag=Work$"))
    cards = page.locator("#note-grid .note-card .name")
    assert cards.all_inner_texts() == ["call the plumber", "project plan"]  # titled by their lines

    # Keyboard only: tick the plan, type a tag, Enter tags the selected notes.
    page.goto("/")
    box = page.get_by_role("checkbox", name="Select project plan")
    box.focus()
    page.keyboard.press("Space")
    page.get_by_role("checkbox", name="Select buy milk").focus()
    page.keyboard.press("Space")
    page.focus("#bulk-tags")
    page.keyboard.type("Q4")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messages >> text=Tagged 2 notes Q4.")
    assert names(plan) == ["Q4", "Work"] and names(shop) == ["Q4"] and names(call) == ["Work"]

    # A tag on a card lists that tag's notes; the search page filters by tag too.
    page.locator(".note-card", has_text="shop.jpg").get_by_role("link", name="Q4").click()
    page.wait_for_url(re.compile(r"\?tag=Q4$"))
    assert cards.all_inner_texts() == ["buy milk", "project plan"]
    page.goto("/search/?q=tag%3Awork+-tag%3AQ4")
    assert page.locator("#search-results .result-title").all_inner_texts() == ["call the plumber"]


def test_a_notes_tags_on_its_page(browsing, user):
    note = note_with_image(user, "call the plumber", "call.jpg", 0)
    tags.add_tags(owner=user, note_ids=[note.pk], names=["Home"])
    tags.add_tags(owner=user, note_ids=[note_with_image(user, "other", "other.jpg", 1).pk], names=["<i>odd</i>"])
    page = browsing.sign_in()
    page.goto(f"/notes/{note.pk}/")
    page.fill("#add-tag-input", "To do, <i>ODD</i>")
    page.keyboard.press("Enter")
    page.wait_for_selector("#note-tag-list >> text=To do")
    assert page.locator("#note-tag-list .tag a").all_inner_texts() == ["<i>odd</i>", "Home", "To do"]
    page.get_by_role("button", name="Remove the tag Home").click()
    page.wait_for_function("() => !document.querySelector('#note-tag-list').textContent.includes('Home')")
    assert names(note) == ["<i>odd</i>", "To do"]
