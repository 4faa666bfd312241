"""Every page on a 390 px phone screen and with axe-core, in a real browser.

Signed in as a user with notes (a recognised note with lines, one of them waiting for
review, a PDF split into pages, an API token) who may review: each page is visited at
390×844 and must fit without sideways scrolling, with finger-sized tap targets; and at
a desktop and a phone size each must pass axe-core's WCAG 2.0/2.1 A and AA rules (and
WCAG 2.2's target size). axe-core comes from the ``axe-playwright-python`` package
(the ``test`` extra): nothing is downloaded while the tests run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse

from ocr_app.models import PDF_CONTENT_TYPE, Note, NoteStatus
from ocr_app.services.review import correct_line
from ocr_app.services.tags import add_tags
from ocr_app.services.tokens import create_token
from tests.browsing import PASSWORD
from tests.factories import make_note
from tests.notegen import encode, render_note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# WCAG 2.5.5 (AAA) asks 44×44 CSS px; buttons and menu links on a phone get that much.
FINGER_PX = 44
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_script() -> str:
    axe = pytest.importorskip("axe_playwright_python.base", reason="the axe-playwright-python package is not installed")
    return Path(axe.AXE_FILE_PATH).read_text()


@pytest.fixture
def owner(user):
    """Alice, staff with the review permission, so that every link of the top bar shows."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(content_type__app_label="ocr_app", codename="review_line"))
    return user


@pytest.fixture
def pages(owner):
    """Alice's notes, a reviewed line, a waiting one and a token; the pages to visit, by name."""
    note = drawn_note(
        owner, ["Call the plumber on Monday", "Buy fresh eggs and milk", "Pay the electricity bill"],
        name="a-rather-long-file-name-from-a-phone-IMG_20261130_183512.jpg", confidences=[96.0, 82.0, 41.0],
        alternatives={2: ["Pay the electricity bills", "Pay the e1ectricity bill"]},
    )
    # Its page and card show "Part of this page may be unread" too.
    Note.objects.filter(pk=note.pk).update(unread_ink=0.4)
    reviewed = drawn_note(owner, ["Meet Priya at noon", "Bring the keys"], name="meeting.jpg", confidences=[52.0, 60.0])
    line = reviewed.lines.get(order=0)
    correct_line(line_id=line.pk, reviewer=owner, text="Meet Priya at noon!")

    pdf = Note(
        owner=owner, original_name="scanned-receipts-november.pdf", sha256="1" * 64, size_bytes=2048, width=0, height=0,
        image_format="PDF", content_type=PDF_CONTENT_TYPE, status=NoteStatus.SPLIT, page_count=2,
    )
    pdf.image.save("scan.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    pdf.save()
    for number in (1, 2):
        page = drawn_note(owner, [f"Receipt {number}"], name=pdf.original_name)
        Note.objects.filter(pk=page.pk).update(source=pdf, page_number=number, page_count=2)
    create_token(user=owner, name="scanner script on the office computer")
    add_tags(owner=owner, note_ids=[note.pk, reviewed.pk], names=["work", "to do at home this weekend"])

    return {
        "notes": reverse("ocr_app:note_list"),
        "notes with a tag": reverse("ocr_app:note_list") + "?tag=work",
        "tags": reverse("ocr_app:tags"),
        "upload": reverse("ocr_app:upload"),
        "note": reverse("ocr_app:note_detail", args=[note.pk]),
        "note with a search": reverse("ocr_app:note_detail", args=[note.pk]) + "?q=plumber",
        "PDF": reverse("ocr_app:note_detail", args=[pdf.pk]),
        "search": reverse("ocr_app:search") + "?q=plumber+OR+eggs",
        "review": reverse("ocr_app:review_queue"),
        "review history": reverse("ocr_app:review_history", args=[line.pk]),
        "review accuracy": reverse("ocr_app:review_accuracy"),
        "API tokens": reverse("ocr_app:api_tokens"),
        "learned words": reverse("ocr_app:learned_words"),  # "Priya", from the correction above
    }


def drawn_note(owner, texts, **kwargs) -> Note:
    """A recognised note whose image shows its lines where its boxes say."""
    image, drawn = render_note(texts)
    return make_note(owner, texts, image=encode(image), boxes=[line.box for line in drawn], **kwargs)


def visit(page, path: str) -> None:
    page.goto(path)
    # Pictures take their room once loaded; measure the page as it ends up.
    page.wait_for_function("() => Array.from(document.images).every((i) => i.complete)")


def widths(page) -> dict:
    return page.evaluate(
        """() => ({ document: document.documentElement.scrollWidth, body: document.body.scrollWidth,
                   widest: Array.from(document.querySelectorAll("body *"))
                     .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                     .slice(0, 5).map((e) => e.outerHTML.slice(0, 120)) })"""
    )


def axe_violations(page, script: str) -> list[str]:
    page.evaluate(script)
    violations = page.evaluate(
        "(tags) => axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })"
        "  .then((r) => r.violations.map((v) => ({ id: v.id, help: v.help,"
        "     nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary.replace(/\\s+/g, ' ')) })))",
        AXE_TAGS,
    )
    return [f"{v['id']} ({v['help']}): {node}" for v in violations for node in v["nodes"]]


def small_targets(page) -> list[str]:
    """Visible buttons, button-like links, menu links, fields and pager links under 44×44 px."""
    return page.evaluate(
        """(min) => Array.from(document.querySelectorAll(
              "button, .button, .topbar a, .pager a, select, input:not([type=hidden]):not([type=file]):not([type=checkbox])"))
            .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== "hidden"
                           && !e.closest("dialog:not([open])"))
            .map((e) => [e, e.getBoundingClientRect()])
            .filter(([e, r]) => r.width < min - 0.5 || r.height < min - 0.5)
            .map(([e, r]) => `${e.outerHTML.slice(0, 80)} is ${Math.round(r.width)}×${Math.round(r.height)}`)""",
        FINGER_PX,
    )


def test_every_page_fits_a_phone_screen_with_finger_sized_targets(open_browsing, owner, pages, shots):
    session = open_browsing(PHONE)
    page = session.page
    too_wide, too_small = {}, {}
    for name, path in [("sign-in", reverse("login")), *pages.items()]:
        if name == "notes":
            session.sign_in()
        visit(page, path)
        page.screenshot(path=shots / f"phone-{name.replace(' ', '-')}.png", full_page=True)
        measured = widths(page)
        if measured["document"] > PHONE["width"] or measured["body"] > PHONE["width"]:
            too_wide[name] = measured
        small = small_targets(page)
        if page.locator(".menu-toggle").is_visible():
            page.click(".menu-toggle")
            small += small_targets(page)
        if small:
            too_small[name] = small
    assert not too_wide and not too_small, (
        f"pages wider than {PHONE['width']} px: {too_wide}; tap targets under {FINGER_PX}×{FINGER_PX} px: {too_small}"
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_axe_core_wcag_a_and_aa(open_browsing, owner, pages, viewport, shots):
    script = axe_script()
    session = open_browsing(viewport)
    page = session.page
    visit(page, reverse("login"))
    found = {"sign-in": axe_violations(page, script)}
    session.sign_in()
    for name, path in pages.items():
        visit(page, path)
        page.screenshot(path=shots / f"{viewport['width']}-{name.replace(' ', '-')}.png")
        found[name] = axe_violations(page, script)
        if page.locator(".menu-toggle").is_visible():
            page.click(".menu-toggle")
            found[f"{name}, menu open"] = axe_violations(page, script)
    found = {name: violations for name, violations in found.items() if violations}
    assert not found, "axe-core violations:\n" + "\n".join(f"{name}: {v}" for name, vs in found.items() for v in vs)


def test_the_top_bar_collapses_into_a_menu_that_works_with_the_keyboard(open_browsing, owner, pages):
    session = open_browsing(PHONE)
    page = session.sign_in()
    visit(page, pages["notes"])
    toggle = page.locator(".menu-toggle")
    menu_links = page.locator(".topbar-menu a")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not menu_links.first.is_visible()
    # The search box stays in the bar.
    assert page.locator(".top-search input").is_visible()

    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert [menu_links.nth(i).inner_text() for i in range(menu_links.count())] == [
        "Notes", "Upload", "API tokens", "Review", "Admin"
    ]
    assert all(menu_links.nth(i).is_visible() for i in range(menu_links.count()))
    assert page.locator(".signout button").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Notes"
    # Esc closes it and gives the focus back to its button.
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false" and not menu_links.first.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-expanded") == "true"
    with page.expect_navigation():
        page.locator(".topbar-menu a", has_text="Upload").click()
    assert page.url.endswith(pages["upload"])
    assert page.locator(".menu-toggle").get_attribute("aria-expanded") == "false"

    # On a desktop there is no menu button: the links are in the bar.
    page.set_viewport_size(DESKTOP)
    assert not page.locator(".menu-toggle").is_visible() and page.locator(".topbar-menu a").first.is_visible()


def test_without_javascript_every_link_of_the_top_bar_is_reachable_on_a_phone(browser, live_server, owner, pages):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(reverse("login"))
        page.fill("input[name=username]", owner.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url(re.compile(r"/$"))
        assert not page.locator(".menu-toggle").is_visible()
        links = page.locator(".topbar-menu a")
        assert links.count() == 5 and all(links.nth(i).is_visible() for i in range(5))
        assert page.locator(".signout button").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_the_note_page_puts_the_photo_above_the_lines_on_a_phone(open_browsing, owner, pages):
    session = open_browsing(PHONE)
    page = session.sign_in()
    visit(page, pages["note"])
    photo = page.locator("#note-img").bounding_box()
    lines = page.locator("#line-list").bounding_box()
    assert photo["y"] + photo["height"] <= lines["y"], (photo, lines)
    # The photo takes the screen's width (less the page's margins), not a sliver of it.
    assert photo["width"] >= PHONE["width"] - 60, photo
    # The actions wrap under the title instead of pushing the page wider.
    assert page.locator("#reprocess").bounding_box()["x"] + page.locator("#reprocess").bounding_box()["width"] <= PHONE["width"]
