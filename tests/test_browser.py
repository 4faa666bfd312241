"""The pages in a real browser: Playwright driving Debian's chromium against the live server.

Upload (file chooser and drag and drop) with the status following live, the note
page with its boxes over the image, live updates while a note is recognised, the
search box with suggestions, ranked and approximate results, escaping of
recognised text, and Reprocess. Real worker processes do the OCR.

The browser fixtures are in ``tests/browsing.py``. Every test fails on a JavaScript error or a console error in the page.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from ocr_app.models import Line, Note, NoteStatus
from ocr_app.search import search_notes
from ocr_app.search.vocabulary import record_words
from ocr_app.services.uploads import create_note
from tests.browsing import OCR_TIMEOUT_MS
from tests.conftest import image_upload, wait_for
from tests.factories import make_note
from tests.notegen import SAMPLE_LINES, encode, note_bytes, render_note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Stroke colours of the confidence classes in inkdex.css.
BOX_COLOURS = {"conf-high": "rgb(31, 138, 76)", "conf-mid": "rgb(201, 138, 0)", "conf-low": "rgb(199, 54, 44)"}


# --- helpers ------------------------------------------------------------------------------------


def note_file(tmp_path: Path, name: str, lines: list[str], **render) -> tuple[Path, list]:
    image, drawn = render_note(lines, **render)
    path = tmp_path / name
    path.write_bytes(encode(image, "PNG" if name.endswith(".png") else "JPEG"))
    return path, drawn


def upload_note(user, lines: list[str], name: str = "note.jpg", **render) -> Note:
    """A note through the real upload service (which queues its recognition)."""
    return create_note(owner=user, uploaded_file=image_upload(name, note_bytes(lines, **render)))


def statuses(page) -> list[str]:
    return page.evaluate("window.__statuses")


def wait_status(page, text: str, timeout: float = OCR_TIMEOUT_MS) -> None:
    page.wait_for_function(
        "(text) => { const s = document.getElementById('note-status'); return s && s.textContent.trim() === text; }",
        arg=text,
        timeout=timeout,
    )


def expected_class(line: Line) -> str:
    if line.needs_review:
        return "conf-low"
    return "conf-high" if line.confidence >= 90 else "conf-mid"


def in_viewport(locator) -> bool:
    return locator.evaluate(
        """(el) => { const r = el.getBoundingClientRect();
                     return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight
                            && r.left >= 0 && r.right <= window.innerWidth; }"""
    )


def check_note_page(page, note: Note, drawn=None) -> list[Line]:
    """The note page shows the image with one box per line, aligned on the text and
    coloured by confidence, and the lines with their confidence and review flags."""
    lines = list(note.lines.order_by("order"))
    assert lines, "the note has no lines"
    img = page.locator("#note-img")
    img.wait_for()
    page.wait_for_function("() => { const i = document.getElementById('note-img'); return i.complete && i.naturalWidth > 0; }")

    boxes = page.locator("svg.overlay rect.box")
    items = page.locator("#line-list li.line")
    assert boxes.count() == items.count() == len(lines)

    geometry = page.evaluate(
        """() => {
          const img = document.getElementById("note-img").getBoundingClientRect();
          const boxes = Array.from(document.querySelectorAll("svg.overlay rect.box")).map((r) => {
            const b = r.getBoundingClientRect();
            return { line: r.dataset.line, cls: r.getAttribute("class"), stroke: getComputedStyle(r).stroke,
                     left: b.left, top: b.top, width: b.width, height: b.height };
          });
          return { img: { left: img.left, top: img.top, width: img.width, height: img.height }, boxes };
        }"""
    )
    frame = geometry["img"]
    scale_x, scale_y = frame["width"] / note.width, frame["height"] / note.height
    assert frame["width"] > 300 and abs(scale_x - scale_y) < 0.01, f"image distorted or tiny: {frame}"
    for line, box in zip(lines, geometry["boxes"]):
        assert box["line"] == str(line.order)
        # Where the line's box is on screen, in the image's own pixels.
        expected = (
            frame["left"] + line.x * scale_x, frame["top"] + line.y * scale_y, line.width * scale_x, line.height * scale_y
        )
        actual = (box["left"], box["top"], box["width"], box["height"])
        assert all(abs(a - e) <= 2 for a, e in zip(actual, expected)), f"box {line.order} at {actual}, expected {expected}"
        cls = expected_class(line)
        assert cls in box["cls"].split(), (line.confidence, box["cls"])
        if "hit" not in box["cls"].split():
            assert box["stroke"] == BOX_COLOURS[cls], (cls, box["stroke"])

    if drawn:
        # Each box shown over a line the engine read sits on the ink of that line.
        def words(text):
            return re.sub(r"[^a-z0-9 ]", "", text.lower()).split()

        compared = 0
        for line, box in zip(lines, geometry["boxes"]):
            ink = next((d for d in drawn if words(d.text) == words(line.text)), None)
            if ink is None:
                continue
            ink_screen = (
                frame["left"] + ink.box[0] * scale_x, frame["top"] + ink.box[1] * scale_y,
                ink.box[2] * scale_x, ink.box[3] * scale_y,
            )
            assert overlap(ink_screen, (box["left"], box["top"], box["width"], box["height"])) > 0.5, (
                f"the box of {line.text!r} is not on its ink: {box} vs {ink_screen}"
            )
            compared += 1
        assert compared, "no recognised line matched the drawn text"

    for line, item in zip(lines, items.all()):
        assert item.get_attribute("data-line") == str(line.order)
        shown = item.locator(".conf").inner_text()
        assert re.fullmatch(r"\d+%", shown) and abs(int(shown[:-1]) - line.confidence) <= 0.51, (shown, line.confidence)
        assert expected_class(line) in item.locator(".conf").get_attribute("class").split()
        assert item.locator(".text").inner_text() == line.text
        assert item.locator(".flag").count() == (1 if line.needs_review else 0)
    flagged = sum(line.needs_review for line in lines)
    assert page.locator("#line-list .flag").count() == flagged
    assert flagged == sum(line.confidence < note_threshold() for line in lines)
    return lines


def overlap(a, b) -> float:
    """Intersection over union of two (left, top, width, height) rectangles."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0, width) * max(0, height)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def note_threshold() -> float:
    from ocr_app.review_rule import review_threshold

    return review_threshold()


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_upload_follows_recognition_live_and_note_page_shows_boxes(browsing, user, worker_process, tmp_path, shots):
    worker_process()  # loads its models while the browser signs in
    page = browsing.sign_in()
    page.evaluate("window.__noReload = 1")

    texts = {"todo.jpg": SAMPLE_LINES[0:3], "errands.png": SAMPLE_LINES[3:5], "travel.jpg": SAMPLE_LINES[7:10]}
    files, drawn = [], {}
    for index, (name, lines) in enumerate(texts.items()):
        path, drawn[name] = note_file(tmp_path, name, lines, font=["dkg", "humor", "femke"][index], seed=index)
        files.append(path)
    # Clicking the drop zone opens the file chooser (the input itself is hidden).
    with page.expect_file_chooser() as chooser:
        page.click("#dropzone")
    assert chooser.value.is_multiple()
    chooser.value.set_files(files)

    # A fourth note is dropped on the drop zone; its name is shown as text, never as HTML.
    dropped_name = "<img src=x onerror=window.__xss=1>.jpg"  # (a browser sends " as %22)
    dropped = base64.b64encode(note_bytes(["Water the garden plants"])).decode()
    page.evaluate(
        """([data, name]) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
          const zone = document.getElementById("dropzone");
          for (const type of ["dragenter", "dragover"]) {
            zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
          }
          window.__draggingShown = zone.classList.contains("dragging");
          zone.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer }));
          window.__draggingAfterDrop = zone.classList.contains("dragging");
        }""",
        [dropped, dropped_name],
    )
    assert page.evaluate("[window.__draggingShown, window.__draggingAfterDrop]") == [True, False]

    rows = page.locator("#upload-list .upload-row")
    names = [*texts, dropped_name]
    rows.nth(3).wait_for()
    assert sorted(rows.locator(".name").all_inner_texts()) == sorted(names)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.upload-row')).every((row) => row.dataset.status === 'done')",
        timeout=OCR_TIMEOUT_MS,
    )
    assert page.evaluate("window.__noReload") == 1, "the upload page reloaded"
    assert page.evaluate("window.__xss") is None

    seen = page.evaluate("window.__uploadStatuses")
    notes = {note.original_name: note for note in Note.objects.with_line_counts()}
    assert sorted(notes) == sorted(names)
    for name in names:
        note = notes[name]
        assert note.status == NoteStatus.DONE, (name, note.status, note.error)
        history = seen[name]
        # Uploading, then at least one pending state, then done: all without a reload.
        assert history[0] == "uploading", history
        assert set(history[1:-1]) & {"Queued", "Recognizing"}, history
        assert set(history[1:-1]) <= {"Queued", "Recognizing"}, history
        expected_done = f"Done · {note.line_count} line{'s' if note.line_count != 1 else ''}" + (f", {note.flagged_count} to review" if note.flagged_count else "")
        assert history[-1] == expected_done, history
        row = rows.filter(has_text=name)
        assert row.locator("a.name").get_attribute("href") == note.get_absolute_url()
    assert page.locator("#upload-list img").count() == 0
    page.screenshot(path=str(shots / "upload-page.png"), full_page=True)

    # The first note's page, from its link in the list.
    page.locator("#upload-list a.name", has_text="todo.jpg").click()
    page.wait_for_url(re.compile(rf"/notes/{notes['todo.jpg'].pk}/$"))
    assert page.locator("#note-status").inner_text() == "Done"
    lines = check_note_page(page, notes["todo.jpg"], drawn["todo.jpg"])
    texts_shown = " ".join(line.text for line in lines).lower()
    assert "plumber" in texts_shown and "coffee" in texts_shown
    # Hovering a line lights up its box, and the other way round.
    page.locator("#line-list li.line").nth(1).hover()
    assert "active" in page.locator("#box-1").get_attribute("class").split()
    page.screenshot(path=str(shots / "note-page.png"), full_page=True)

    # Its title would be its first confident line (which depends on the confidence
    # weights): made its file name, as a note with nothing read shows it, to be sure
    # the hostile name is on the page, as text.
    Note.objects.filter(pk=notes[dropped_name].pk).update(title=dropped_name)
    page.goto(notes[dropped_name].get_absolute_url())
    title = page.locator("h1.note-title")
    assert title.inner_text() == dropped_name
    assert title.locator("*").count() == 0
    assert page.evaluate("window.__xss") is None


@pytest.mark.slow
def test_note_page_updates_by_itself_while_recognised(browsing, user, worker_process, shots):
    # A TIFF: browsers cannot show it until the worker has made the JPEG preview.
    image, _ = render_note(SAMPLE_LINES[4:7], font="humor")
    note = create_note(owner=user, uploaded_file=image_upload("bills.tiff", encode(image, "TIFF"), "image/tiff"))
    page = browsing.sign_in()
    page.goto(note.get_absolute_url())
    assert page.locator("#note-status").inner_text() == "Queued"
    assert page.locator("#pending-hint").is_visible()
    # No broken image while there is nothing the browser can show: a placeholder of the same shape.
    assert page.locator("#note-img").count() == 0
    assert page.locator("#image-wait").inner_text() == "The picture appears once the note has been read."
    ratio = page.locator(".image-placeholder").evaluate("(el) => el.getBoundingClientRect().height / el.getBoundingClientRect().width")
    assert abs(ratio - note.height / note.width) < 0.02
    page.screenshot(path=str(shots / "note-queued.png"))
    assert page.locator("#line-list").count() == 0
    page.evaluate("window.__noReload = 1")
    # The list page, in another tab, follows it as well.
    notes_tab = browsing.new_page()
    notes_tab.goto("/")
    card = notes_tab.locator(f".note-card[data-note-id='{note.pk}']")
    assert card.locator("[data-role=status]").inner_text() == "Queued"

    worker_process()
    wait_status(page, "Done")
    assert page.evaluate("window.__noReload") == 1, "the note page reloaded"
    history = statuses(page)
    assert history[0] == "Queued" and history[-1] == "Done", history
    note.refresh_from_db()
    assert note.status == NoteStatus.DONE
    page.locator("#line-list").wait_for()
    assert page.locator("#pending-hint").count() == page.locator("#image-wait").count() == 0
    check_note_page(page, note)
    assert "electricity" in page.locator("#line-list").inner_text().lower()
    # The refreshed body is wired up again: hovering a box marks its line.
    page.locator("#box-0").hover()
    assert "active" in page.locator("#line-0").get_attribute("class").split()

    notes_tab.wait_for_function(
        "(id) => document.querySelector(`.note-card[data-note-id='${id}'] [data-role=status]`).textContent === 'Done'",
        arg=note.pk,
        timeout=OCR_TIMEOUT_MS,
    )
    assert card.locator("[data-role=counts]").inner_text().startswith(f"{note.lines.count()} line")
    card.locator(".thumb img").wait_for()
    notes_tab.wait_for_function(
        "(id) => { const i = document.querySelector(`.note-card[data-note-id='${id}'] .thumb img`); return i.complete && i.naturalWidth > 0; }",
        arg=note.pk,
    )


@pytest.mark.slow
def test_search_suggests_ranks_highlights_and_leads_to_the_line(browsing, user, worker_process, shots):
    # The plumber line is the last of ten, so that the note page must scroll to it.
    long_note = upload_note(user, SAMPLE_LINES[1:] + SAMPLE_LINES[:1], "long list.jpg", font="dkg")
    upload_note(user, ["Ask the plumber for a quote", "Fix the kitchen tap"], "quotes.jpg", font="humor")
    upload_note(user, SAMPLE_LINES[3:6], "other.jpg", font="femke")
    worker = worker_process("--batch")
    page = browsing.sign_in()
    page.set_viewport_size({"width": 760, "height": 700})  # one column: the lines are below the image
    wait_for(lambda: worker.proc.poll() is not None, timeout=OCR_TIMEOUT_MS / 1000, message="the batch worker")
    assert set(Note.objects.values_list("status", flat=True)) == {NoteStatus.DONE}, worker.log()

    page.goto("/")
    box = page.locator(".top-search input[name=q]")
    box.click()
    box.press_sequentially("plu", delay=40)
    page.locator("#search-suggestions option[value='plumber']").wait_for(state="attached")
    # Suggestions keep the words typed before the one being completed.
    box.fill("")
    box.press_sequentially("ask plu", delay=40)
    page.locator("#search-suggestions option[value='ask plumber']").wait_for(state="attached")
    box.press_sequentially("mber quo", delay=40)
    page.locator("#search-suggestions option[value='ask plumber quote']").wait_for(state="attached")
    box.fill("plumber")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=plumber$"))

    results = page.locator("#search-results li.result")
    ranked = search_notes(user, "plumber").notes
    assert sorted(r.note.original_name for r in ranked) == ["long list.jpg", "quotes.jpg"]
    # By their titles, in the engine's ranking.
    assert results.locator(".result-title").all_inner_texts() == [r.note.title for r in ranked]
    assert page.locator("#search-results .approximate").count() == 0
    for result in results.all():
        marks = result.locator(".snippet mark")
        assert marks.count() >= 1
        assert {m.lower() for m in marks.all_inner_texts()} == {"plumber"}
    assert "other.jpg" not in page.locator("main").inner_text()
    assert page.locator(".top-search input[name=q]").input_value() == "plumber"
    page.screenshot(path=str(shots / "search-results.png"), full_page=True)

    long_title = Note.objects.get(pk=long_note.pk).title
    page.locator("#search-results li.result", has_text="long list.jpg").locator("a.result-title", has_text=long_title).click()
    page.wait_for_url(re.compile(rf"/notes/{long_note.pk}/\?q=plumber$"))
    hit_line = long_note.lines.get(text__icontains="plumber")
    hit = page.locator("#line-list li.line.hit")
    assert hit.count() == 1
    assert hit.get_attribute("id") == f"line-{hit_line.order}"
    assert hit.locator("mark").inner_text().lower() == "plumber"
    assert page.locator("#search-hits").inner_text().startswith("1 line match")
    box_classes = page.locator(f"#box-{hit_line.order}").get_attribute("class").split()
    assert "hit" in box_classes
    assert page.locator("svg.overlay rect.box.hit").count() == 1
    # The matching line is brought into view (it is below the fold on this small screen).
    assert page.locator(f"#line-{hit_line.order}").evaluate("(el) => el.offsetTop") > 700
    page.wait_for_function(
        "(id) => { const r = document.getElementById(id).getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }",
        arg=f"line-{hit_line.order}",
    )
    assert in_viewport(hit)
    check_note_page(page, long_note)
    page.screenshot(path=str(shots / "note-hit.png"), full_page=False)

    # A misspelt word still finds the note, as an approximate match.
    page.fill(".top-search input[name=q]", "plumbr")
    page.press(".top-search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q=plumbr$"))
    shown = results.all_inner_texts()  # each with its title and file name
    assert any("long list.jpg" in text for text in shown) and not any("other.jpg" in text for text in shown)
    approximate = page.locator("#search-results li.result.approximate", has_text="long list.jpg")
    assert approximate.count() == 1
    assert "approximate match" in approximate.inner_text()
    assert {m.lower() for m in approximate.locator(".snippet mark").all_inner_texts()} == {"plumber"}
    page.screenshot(path=str(shots / "search-fuzzy.png"), full_page=True)

    # The search box is on every page, and the big one on the search page suggests as well.
    for path in ("/", "/upload/", long_note.get_absolute_url(), "/search/"):
        page.goto(path)
        assert page.locator(".top-search input[name=q]").is_visible(), path
    main_box = page.locator(".search-form input[name=q]")
    assert main_box.evaluate("(el) => el === document.activeElement")  # autofocus
    main_box.press_sequentially("kit", delay=40)
    page.locator("#search-suggestions option[value='kitchen']").wait_for(state="attached")


def test_words_from_two_lines_find_the_note_and_both_lines_are_outlined(browsing, user, shots):
    texts = ["Econ 110 - 06/02", "read case study on tariffs", "elasticity = % change Q / % change P"]
    image, drawn = render_note(texts)
    note = make_note(user, texts, name="econ.jpg", image=encode(image), boxes=[line.box for line in drawn])
    make_note(user, ["tariffs on steel"], name="steel.jpg")  # one of the words only: not a match
    page = browsing.sign_in()
    page.fill(".top-search input[name=q]", "tariffs elasticity")
    page.press(".top-search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q=tariffs\+elasticity$"))
    result = page.locator("#search-results li.result")
    assert result.count() == 1 and page.locator("#result-count").inner_text() == "1 note matches"
    assert result.locator(".snippet li").all_inner_texts() == texts[1:]
    assert result.locator(".snippet mark").all_inner_texts() == ["tariffs", "elasticity"]
    page.screenshot(path=str(shots / "search-two-lines.png"), full_page=True)

    result.locator("a.result-title").click()
    page.wait_for_url(re.compile(rf"/notes/{note.pk}/\?q=tariffs\+elasticity$"))
    assert page.locator("#search-hits").inner_text().startswith("2 lines match")
    assert page.locator("#line-list li.line.hit").evaluate_all("(els) => els.map((el) => el.id)") == ["line-1", "line-2"]
    # Both lines outlined on the photo, each where it was written, and the two words themselves.
    photo = page.locator("#note-img").bounding_box()
    scale = photo["width"] / note.width
    for order in (1, 2):
        outline = page.locator(f"svg.overlay rect#box-{order}")
        assert "hit" in outline.get_attribute("class").split()
        shown = outline.bounding_box()  # with the outline's stroke: compare centres
        x, y, width, height = drawn[order].box
        assert abs(shown["y"] + shown["height"] / 2 - (photo["y"] + (y + height / 2) * scale)) < 2
        assert abs(shown["x"] + shown["width"] / 2 - (photo["x"] + (x + width / 2) * scale)) < 2
    assert page.locator("svg.overlay rect.box.hit").count() == 2
    words = page.locator("svg.overlay rect.word-hit")
    assert words.count() == 2
    for word, order in zip(words.all(), (1, 2)):  # each word's box inside its line's
        inner, outer = word.bounding_box(), page.locator(f"svg.overlay rect#box-{order}").bounding_box()
        assert outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    page.screenshot(path=str(shots / "note-two-lines.png"), full_page=True)


def test_recognised_text_is_shown_as_text(browsing, user, shots):
    payload = '<img src=x onerror="window.__xss=1">'
    name = '"><svg onload="window.__xss=2">.jpg'
    note = upload_note(user, ["Buy milk"], name)
    # A queued note: the page follows it, and gets the lines through its live refresh.
    page = browsing.sign_in()
    page.goto(note.get_absolute_url())
    assert page.locator("#note-status").inner_text() == "Queued"
    Line.objects.create(
        note=note, owner=user, order=0, text=payload, confidence=55.0, x=60, y=60, width=600, height=50,
        needs_review=True,
    )
    Line.objects.create(note=note, owner=user, order=1, text="<b>bold</b> & co", confidence=97.0, x=60, y=160,
                        width=400, height=50)
    record_words(user.pk, [payload, "<b>bold</b> & co"])
    Note.objects.filter(pk=note.pk).update(status=NoteStatus.DONE)
    wait_status(page, "Done")
    assert page.locator("#line-list li.line .text").all_inner_texts() == [payload, "<b>bold</b> & co"]
    assert page.locator("#line-list img, #line-list b, svg.overlay img").count() == 0
    assert payload in page.locator("svg.overlay rect.box title").first.text_content()

    # The same page rendered by the server in one go.
    page.reload()
    assert page.locator("#line-list li.line .text").all_inner_texts() == [payload, "<b>bold</b> & co"]
    assert page.locator("h1.note-title").inner_text() == name
    assert page.locator("main svg:not(.overlay), main img:not(#note-img)").count() == 0
    page.screenshot(path=str(shots / "note-escaped.png"), full_page=True)

    page.fill(".top-search input[name=q]", "onerror")
    page.press(".top-search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q=onerror$"))
    result = page.locator("#search-results li.result")
    assert result.count() == 1
    assert result.locator(".result-title").inner_text() == name
    assert result.locator(".snippet li").inner_text() == payload
    assert result.locator(".snippet mark").inner_text() == "onerror"
    assert result.locator(".snippet img, svg").count() == 0

    page.screenshot(path=str(shots / "search-escaped.png"), full_page=True)
    page.fill(".top-search input[name=q]", "bold")
    page.press(".top-search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q=bold$"))
    assert page.locator("#search-results .snippet li").inner_text() == "<b>bold</b> & co"
    assert page.evaluate("window.__xss") is None


@pytest.mark.slow
def test_reprocess_runs_recognition_again(browsing, user, worker_process, settings):
    # Every line under 101 % needs review: the flags and their colour show on all lines.
    settings.INKDEX = {**settings.INKDEX, "REVIEW_THRESHOLD": 101.0}
    note = upload_note(user, SAMPLE_LINES[5:8], "weekly.jpg", font="breip", size=48)
    worker_process()
    page = browsing.sign_in()
    page.goto(note.get_absolute_url())
    wait_status(page, "Done")
    note.refresh_from_db()
    first_run = (note.started_at, set(note.lines.values_list("pk", flat=True)))
    lines = check_note_page(page, note)
    assert all(line.needs_review for line in lines)
    assert page.locator("#line-list .flag").count() == len(lines)

    page.click("#reprocess")
    page.wait_for_url(re.compile(rf"/notes/{note.pk}/$"))
    assert page.locator(".messages").inner_text() == "Recognition queued again."
    wait_status(page, "Done")
    history = statuses(page)
    assert history[0] in {"Queued", "Recognizing"} and history[-1] == "Done", history
    note.refresh_from_db()
    assert note.status == NoteStatus.DONE and note.attempts == 1
    assert note.started_at > first_run[0]
    fresh = set(note.lines.values_list("pk", flat=True))
    assert fresh and not fresh & first_run[1], "the lines were not replaced"
    check_note_page(page, note)
    assert "sarah" in page.locator("#line-list").inner_text().lower()
