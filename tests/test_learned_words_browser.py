"""The learned words page in a real browser, on a phone, from the keyboard alone.

Fails on any JavaScript or console error (``tests/browsing.py``)."""

from __future__ import annotations

import pytest

from ocr_app.services import owner_edits
from ocr_app.services.learned_words import words_for_engine
from tests.factories import make_note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_the_owner_reaches_the_page_and_removes_a_word_with_the_keyboard(open_browsing, user):
    owner_edits.type_note_text(note_id=make_note(user, [], name="a.jpg").pk, person=user, text="Okonkwo Zephyr Zephyr")
    browsing = open_browsing(PHONE)
    page = browsing.sign_in()
    page.goto("/settings/tokens/")
    with page.expect_navigation():
        page.get_by_role("link", name="Learned words").click()
    assert page.locator("h1").inner_text() == "Learned words"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Tab to the button that removes Okonkwo (its name says which word) and press Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Remove Okonkwo":
            break
    else:
        pytest.fail("the Remove button of Okonkwo is not reachable with Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Removed 'Okonkwo'" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Remove Okonkwo").count() == 0
    assert page.get_by_role("button", name="Remove Zephyr").is_visible()
    assert words_for_engine(user.pk) == ("Zephyr",)
