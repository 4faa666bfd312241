"""An uploaded PDF is stored as it came and split by the worker, in the engine's
child process, into one note per page; each page's text is found on its own note."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from ocr_app.models import Note, NoteStatus
from ocr_app.pipeline import pdf_splitting
from ocr_app.pipeline.engine_selection import get_engine
from ocr_app.search import search_notes
from ocr_app.services.uploads import create_note, create_pdf_note
from tests.conftest import image_upload, run_worker_until_idle, wait_for
from tests.notegen import render_note
from tests.test_uploads import good_jpeg, post_files

PAGES = [["Call the plumber on Monday"], ["Renew passport before June"], ["Book train tickets to Lyon"]]


def pdf_of_images(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return buffer.getvalue()


def pdf_of(pages: list[list[str]]) -> bytes:
    return pdf_of_images([render_note(lines, size=56)[0].convert("RGB") for lines in pages])


def coloured_pdf(*colours: str) -> bytes:
    """Small plain pages: a fake renderer hangs on a blue one and crashes on a red one."""
    return pdf_of_images([Image.new("RGB", (300, 200), colour) for colour in colours])


def pdf_upload(name: str, data: bytes):
    return image_upload(name, data, "application/pdf")


@pytest.fixture
def fake_renderer(settings):
    """The misbehaving PDF renderer, and an engine that reads at once (the pages' text does not matter here)."""
    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "fixed": "tests.fake_engines.FixedReadingEngine"},
        "OCR_ENGINE": "fixed",
        "PDF_RENDERER": "tests.fake_pdf_renderers.MisbehavingRenderer",
    }
    yield settings
    get_engine("fixed", isolated=True).stop()


def pages_of(pdf: Note) -> list[tuple[int, int, str]]:
    return [(p.page_number, p.page_count, p.original_name) for p in pdf.pages.order_by("page_number")]


@pytest.mark.django_db(transaction=True)
def test_the_upload_stores_the_pdf_and_the_worker_makes_a_note_per_page(alice_client, user, monkeypatch):
    # PDFium is unusable in this process (web request and worker alike): only the engine's child may open PDFs.
    import pypdfium2

    def no_pdfium_here(*args, **kwargs):
        raise AssertionError("a PDF was opened outside the engine's child process")

    monkeypatch.setattr(pypdfium2, "PdfDocument", no_pdfium_here)
    data = pdf_of(PAGES)
    response = post_files(alice_client, [("errands.pdf", data)])

    # The request answered with the PDF as one item, nothing rendered yet.
    assert response.status_code == 201
    [result] = response.json()["results"]
    assert result["name"] == "errands.pdf" and result["ok"]
    assert (result["note"]["status"], result["note"]["status_display"]) == ("splitting", "Splitting into pages")
    pdf = Note.objects.get()
    assert (pdf.status, pdf.image_format, pdf.content_type, pdf.size_bytes) == ("splitting", "PDF", "application/pdf", len(data))
    assert pdf.sha256 == hashlib.sha256(data).hexdigest()
    with pdf.image.open("rb") as stored:
        assert stored.read() == data  # as uploaded
    # The owner sees it as one item, in the list, its page and the API.
    listing = alice_client.get(reverse("ocr_app:note_list")).content.decode()
    assert "errands.pdf" in listing and "Splitting into pages" in listing
    assert "Splitting into pages" in alice_client.get(pdf.get_absolute_url()).content.decode()
    [item] = alice_client.get("/api/v1/notes/").json()["results"]
    assert (item["id"], item["kind"], item["status"], item["pending"]) == (pdf.pk, "pdf", "splitting", True)

    run_worker_until_idle()

    pdf.refresh_from_db()
    assert (pdf.status, pdf.page_count, pdf.error) == (NoteStatus.SPLIT, 3, "")
    assert pages_of(pdf) == [(n, 3, "errands.pdf") for n in (1, 2, 3)]
    pages = list(pdf.pages.order_by("page_number"))
    assert {p.status for p in pages} == {NoteStatus.DONE} and {p.image_format for p in pages} == {"PNG"}
    assert {p.uploaded_at for p in pages} == {pdf.uploaded_at}
    assert pdf.sha256 not in {p.sha256 for p in pages}
    [hit] = search_notes(user, "passport").notes
    assert hit.note.pk == pages[1].pk
    page = alice_client.get(pages[1].get_absolute_url()).content.decode()
    assert "errands.pdf (page 2 of 3)" in page and "passport" in page.lower()
    assert pdf.get_absolute_url() in page  # a link to the PDF it came from
    # Now the list shows the pages, not the PDF; the PDF's page links them.
    api = alice_client.get("/api/v1/notes/").json()["results"]
    assert sorted((n["page_number"], n["source_pdf"], n["kind"]) for n in api) == [(n, pdf.pk, "image") for n in (1, 2, 3)]
    assert alice_client.get(f"/api/v1/notes/{pdf.pk}/").json()["pages"] == [p.pk for p in pages]
    listing = alice_client.get(reverse("ocr_app:note_list")).content.decode()
    assert listing.count("errands.pdf (page") == 3 and f'data-note-id="{pdf.pk}"' not in listing
    pdf_page = alice_client.get(pdf.get_absolute_url()).content.decode()
    assert all(p.get_absolute_url() in pdf_page for p in pages)


@pytest.mark.django_db(transaction=True)
def test_bad_pdfs_are_accepted_then_fail_in_the_worker_with_a_clear_message(alice_client, settings):
    good = pdf_of(PAGES[:1])
    settings.INKDEX = {**settings.INKDEX, "MAX_PDF_PAGES": 2}
    response = post_files(alice_client, [
        ("broken.pdf", good[: len(good) // 2]),
        ("long.pdf", pdf_of(PAGES)),
        ("empty-ish.pdf", b"%PDF-1.4\n%%EOF\n"),
        ("note.jpg", good_jpeg()),
    ])
    assert response.status_code == 201 and all(r["ok"] for r in response.json()["results"])

    run_worker_until_idle()

    notes = {n.original_name: n for n in Note.objects.all()}
    assert len(notes) == 4  # no page was made of any of them
    assert notes["broken.pdf"].status == NoteStatus.FAILED
    assert notes["broken.pdf"].error == "This PDF is damaged or incomplete and cannot be read."
    assert notes["long.pdf"].error == "This PDF has 3 pages; upload at most 2 at a time."
    assert notes["empty-ish.pdf"].error in {"This PDF is damaged or incomplete and cannot be read.", "This PDF has no pages."}
    assert notes["note.jpg"].status == NoteStatus.DONE
    # The failed item stays, in the list and the API, with its message.
    listing = alice_client.get(reverse("ocr_app:note_list")).content.decode()
    assert "This PDF has 3 pages; upload at most 2 at a time." in listing
    api = {n["name"]: n for n in alice_client.get("/api/v1/notes/").json()["results"]}
    assert (api["broken.pdf"]["status"], api["broken.pdf"]["kind"]) == ("failed", "pdf")


@pytest.mark.django_db(transaction=True)
def test_a_page_that_hangs_is_stopped_and_the_pages_before_it_stay(fake_renderer, user, alice_client):
    # Page 2 never finishes; the limit is generous so that page 1 (a few milliseconds
    # of work) is made in time even on a machine busy with something else.
    fake_renderer.INKDEX = {**fake_renderer.INKDEX, "PDF_PAGE_TIMEOUT_SECONDS": 10.0}
    pdf = create_pdf_note(owner=user, uploaded_file=pdf_upload("scan.pdf", coloured_pdf("white", "blue", "white")))
    other = create_note(owner=user, uploaded_file=image_upload("fine.jpg"))

    run_worker_until_idle()  # in this process: the hang must not take it down

    pdf.refresh_from_db()
    assert pdf.status == NoteStatus.FAILED
    assert pdf.error == ("Turning page 2 into an image took longer than 10 seconds and was stopped. "
                         "The pages made before it are kept.")
    assert pages_of(pdf) == [(1, 3, "scan.pdf")] and pdf.pages.get().status == NoteStatus.DONE
    other.refresh_from_db()
    assert other.status == NoteStatus.DONE
    assert pdf.error in alice_client.get(reverse("ocr_app:note_list")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_whole_pdf_has_a_time_limit(fake_renderer, user, monkeypatch):
    # A clock on which each look takes 100 seconds: the limit of 250 is over before page 2.
    ticks = iter(range(0, 10_000, 100))
    monkeypatch.setattr(pdf_splitting, "_clock", lambda: next(ticks))
    fake_renderer.INKDEX = {**fake_renderer.INKDEX, "PDF_TIMEOUT_SECONDS": 250.0}
    pdf = create_pdf_note(owner=user, uploaded_file=pdf_upload("scan.pdf", coloured_pdf("white", "white", "white")))

    run_worker_until_idle()

    pdf.refresh_from_db()
    assert pdf.status == NoteStatus.FAILED
    assert pdf.error == ("Splitting this PDF took longer than 250 seconds and was stopped at page 2. "
                         "The pages made before it are kept.")
    assert pages_of(pdf) == [(1, 3, "scan.pdf")]


@pytest.mark.django_db(transaction=True)
def test_a_crash_is_retried_from_the_page_it_stopped_at_and_split_again_resumes(fake_renderer, user, alice_client):
    fake_renderer.INKDEX = {**fake_renderer.INKDEX, "MAX_ATTEMPTS": 2}
    pdf = create_pdf_note(owner=user, uploaded_file=pdf_upload("scan.pdf", coloured_pdf("white", "red", "white")))

    run_worker_until_idle()  # in this process: the renderer's crash must not take it down

    pdf.refresh_from_db()
    assert (pdf.status, pdf.attempts) == (NoteStatus.FAILED, 2)
    assert pdf.error == "Splitting failed after 2 attempts: the program reading the PDF stopped unexpectedly"
    [first] = pdf.pages.all()  # page 1, made once although split twice
    assert first.page_number == 1

    # With a renderer that copes, "Split again" makes the missing pages only.
    fake_renderer.INKDEX = {**fake_renderer.INKDEX, "PDF_RENDERER": "ocr_app.pdf_render.PdfiumRenderer"}
    page = alice_client.get(pdf.get_absolute_url()).content.decode()
    assert "Split again" in page
    alice_client.post(reverse("ocr_app:note_reprocess", args=[pdf.pk]))
    run_worker_until_idle()

    pdf.refresh_from_db()
    assert (pdf.status, pdf.error) == (NoteStatus.SPLIT, "")
    assert pages_of(pdf) == [(n, 3, "scan.pdf") for n in (1, 2, 3)]
    assert pdf.pages.get(page_number=1).pk == first.pk


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_splitting_is_replaced_and_no_page_is_made_twice(fake_renderer, user, worker_process, monkeypatch):
    # Worker processes take their settings from the environment.
    monkeypatch.setenv("INKDEX_EXTRA_ENGINES", "fixed=tests.fake_engines.FixedReadingEngine")
    monkeypatch.setenv("INKDEX_OCR_ENGINE", "fixed")
    monkeypatch.setenv("INKDEX_PDF_RENDERER", "tests.fake_pdf_renderers.MisbehavingRenderer")
    pdf = create_pdf_note(owner=user, uploaded_file=pdf_upload("scan.pdf", coloured_pdf("white", "white", "white")))

    monkeypatch.setenv("INKDEX_TEST_KILL_WORKER_AT_PAGE", "2")
    first = worker_process()
    first.proc.wait(120)  # killed (SIGKILL) while page 2 was being rendered
    assert first.proc.returncode == -9
    pdf.refresh_from_db()
    assert pdf.status == NoteStatus.SPLITTING and pdf.run_token  # still held by the dead worker
    [page_one] = pdf.pages.all()
    assert page_one.page_number == 1

    # The heartbeat stopped; an hour passes (on the note's clock, not the test's).
    Note.objects.filter(pk=pdf.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    monkeypatch.delenv("INKDEX_TEST_KILL_WORKER_AT_PAGE")
    worker_process()  # notices the stale heartbeat, queues the PDF again, and resumes it
    wait_for(lambda: Note.objects.get(pk=pdf.pk).status == NoteStatus.SPLIT, timeout=120, message="the PDF split")

    assert pages_of(pdf) == [(n, 3, "scan.pdf") for n in (1, 2, 3)]
    assert pdf.pages.get(page_number=1).pk == page_one.pk


@pytest.mark.django_db(transaction=True)
def test_deleting_the_pdf_removes_the_stored_file_and_keeps_its_pages(fake_renderer, user, alice_client, other_user):
    from django.test import Client

    pdf = create_pdf_note(owner=user, uploaded_file=pdf_upload("scan.pdf", coloured_pdf("white", "white")))
    run_worker_until_idle()
    pages = list(Note.objects.filter(source=pdf).order_by("page_number"))
    assert len(pages) == 2

    # Only its owner sees or deletes it.
    bob = Client()
    bob.force_login(other_user)
    assert bob.get(pdf.get_absolute_url()).status_code == 404
    assert bob.post(reverse("ocr_app:note_delete", args=[pdf.pk])).status_code == 404
    download = alice_client.get(reverse("ocr_app:note_image", args=[pdf.pk, "original"]))
    assert download["Content-Type"] == "application/pdf" and download["Content-Disposition"].startswith("attachment;")

    storage, name = pdf.image.storage, pdf.image.name
    alice_client.post(reverse("ocr_app:note_delete", args=[pdf.pk]))

    assert not Note.objects.filter(pk=pdf.pk).exists() and not storage.exists(name)
    for page in pages:
        page.refresh_from_db()
        assert page.source_id is None and page.file_title == f"scan.pdf (page {page.page_number} of 2)"
        assert storage.exists(page.image.name)
