"""The review queue in a real browser: a reviewer works with the keyboard only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from ocr_app.models import ReviewAction, ReviewEvent
from tests.factories import make_note
from tests.notegen import encode, render_note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def press_and_load(page, key: str) -> None:
    """Press a key that submits the review form, and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)


@pytest.fixture
def reviewer(staff_user):
    """Sam, staff with the review permission."""
    staff_user.user_permissions.add(Permission.objects.get(content_type__app_label="ocr_app", codename="review_line"))
    return staff_user


@pytest.fixture
def unsure_note(user):
    """Alice's note whose three lines the engine misread, one with a better alternative."""
    truth = ["Buy fresh eggs", "Meet Priya at noon", "Pay the bills"]
    image, drawn = render_note(truth)
    return make_note(
        user, ["Buy zqxv eggs", "Meet Prlya at noon", "Pay the bi11s"], confidences=[41.0, 52.0, 63.0], name="eggs.jpg",
        alternatives={2: ["Pay the bills", "Pay the bi1ls"]}, image=encode(image),
        boxes=[line.box for line in drawn],
    )


def test_a_reviewer_corrects_three_lines_with_the_keyboard_and_search_follows(open_browsing, reviewer, user, unsure_note, shots):
    page = open_browsing().sign_in("sam", "sam-password-1")
    page.goto("/review/")
    field = page.locator("#review-text")
    assert field.input_value() == "Buy zqxv eggs"
    assert page.evaluate("document.activeElement.id") == "review-text"
    page.wait_for_function("() => { const i = document.getElementById('review-crop'); return i.complete && i.naturalWidth > 40; }")
    assert page.locator("#count-waiting").inner_text() == "3"
    page.screenshot(path=shots / "review-queue.png")

    # The help, from the keyboard: leave the field, "?", close with Esc.
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    assert page.locator("#review-help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#review-help").is_visible()
    page.keyboard.press("e")

    # 1: retype the misread word, Enter.
    page.keyboard.press("Control+a")
    page.keyboard.type("Buy fresh eggs")
    press_and_load(page, "Enter")
    assert field.input_value() == "Meet Prlya at noon"

    # 2: skip it for now (Alt+S); the next line offers alternatives: take the first (Alt+1), Enter.
    press_and_load(page, "Alt+s")
    assert field.input_value() == "Pay the bi11s"
    assert page.locator("#alternatives .pick").all_inner_texts() == ["Pay the bills", "Pay the bi1ls"]
    page.screenshot(path=shots / "review-alternatives.png")
    page.keyboard.press("Alt+1")
    assert field.input_value() == "Pay the bills"
    press_and_load(page, "Enter")

    # 3: only the skipped line is left; come back to it and fix one letter with the caret at the end.
    assert page.locator("#queue-empty").is_visible()
    press_and_load(page, "Enter")  # "review the skipped lines" has the focus
    assert field.input_value() == "Meet Prlya at noon"
    for _ in range(len("ya at noon")):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("Backspace")
    page.keyboard.type("i")
    press_and_load(page, "Enter")
    assert page.locator("#queue-empty").is_visible()
    assert page.locator("#count-today").inner_text() == "3"
    assert page.locator("#count-waiting").inner_text() == "0"

    events = list(ReviewEvent.objects.order_by("created_at", "pk").values_list("action", "old_text", "new_text"))
    assert events == [
        (ReviewAction.CORRECT, "Buy zqxv eggs", "Buy fresh eggs"),
        (ReviewAction.CORRECT, "Pay the bi11s", "Pay the bills"),
        (ReviewAction.CORRECT, "Meet Prlya at noon", "Meet Priya at noon"),
    ]

    # The owner's search finds the corrected words and no longer the misread ones.
    owner_page = open_browsing().sign_in("alice", "alice-password-1")
    for query, marked in (("fresh", ["fresh"]), ("Priya", ["Priya"]), ("the bills", ["the", "bills"])):
        owner_page.goto(f"/search/?q={query}")
        assert owner_page.locator(".result").count() == 1, query
        assert "approximate" not in owner_page.locator(".result").get_attribute("class")
        assert owner_page.locator(".result .snippet mark").all_inner_texts() == marked, query
    # The note's automatic title followed the correction of its first line.
    owner_page.goto("/search/?q=fresh")
    assert owner_page.locator(".result-title").inner_text() == "Buy fresh eggs"
    owner_page.goto("/search/?q=zqxv")
    assert owner_page.locator(".result").count() == 0
    owner_page.goto(unsure_note.get_absolute_url())
    assert owner_page.locator("#line-list .flag.corrected").count() == 3
