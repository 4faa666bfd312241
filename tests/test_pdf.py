"""A PDF upload becomes one note per page; each page's text is found on its own note."""

from __future__ import annotations

import io

import pytest
from ocr_app.models import Note
from ocr_app.search import search_notes
from tests.conftest import run_worker_until_idle
from tests.notegen import render_note
from tests.test_uploads import good_jpeg, post_files

PAGES = [["Call the plumber on Monday"], ["Renew passport before June"], ["Book train tickets to Lyon"]]


def pdf_of(pages: list[list[str]]) -> bytes:
    images = [render_note(lines, size=56)[0].convert("RGB") for lines in pages]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_each_page_of_a_pdf_is_a_note_and_search_leads_to_its_page(alice_client, user):
    response = post_files(alice_client, [("errands.pdf", pdf_of(PAGES))])
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["name"] for r in results] == [f"errands.pdf (page {n} of 3)" for n in (1, 2, 3)]
    notes = list(Note.objects.order_by("page_number"))
    assert [(n.original_name, n.page_number, n.page_count, n.image_format) for n in notes] == [
        ("errands.pdf", n, 3, "PNG") for n in (1, 2, 3)
    ]
    run_worker_until_idle()
    [hit] = search_notes(user, "passport").notes
    assert hit.note.pk == notes[1].pk
    page = alice_client.get(notes[1].get_absolute_url()).content.decode()
    assert "errands.pdf (page 2 of 3)" in page and "passport" in page.lower()


@pytest.mark.django_db
def test_bad_pdfs_get_clear_messages_and_cost_nothing_else(alice_client, settings):
    good = pdf_of(PAGES[:1])
    settings.INKDEX = {**settings.INKDEX, "MAX_PDF_PAGES": 2}
    response = post_files(alice_client, [
        ("broken.pdf", good[: len(good) // 2]),
        ("long.pdf", pdf_of(PAGES)),
        ("empty-ish.pdf", b"%PDF-1.4\n%%EOF\n"),
        ("note.jpg", good_jpeg()),
    ])
    assert response.status_code == 201
    errors = {r["name"]: r["error"] for r in response.json()["results"] if not r["ok"]}
    assert errors["broken.pdf"] == "This PDF is damaged or incomplete and cannot be read."
    assert errors["long.pdf"] == "This PDF has 3 pages; upload at most 2 at a time."
    assert "cannot be read" in errors["empty-ish.pdf"] or "no pages" in errors["empty-ish.pdf"]
    assert Note.objects.count() == 1 and Note.objects.get().original_name == "note.jpg"
