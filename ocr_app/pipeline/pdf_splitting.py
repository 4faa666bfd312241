"""Splitting uploaded PDFs into one note per page, in the worker.

An upload stores a PDF as it came, as a note *splitting into pages* (see
``uploads.create_pdf_note``). The task here claims it like recognition claims a
note (a ``run_token`` and a heartbeat), copies it to a local file, and has the
engine's child process (``IsolatedEngine.render_pdf``) count its pages and
render them one at a time, each within ``PDF_PAGE_TIMEOUT_SECONDS`` and all of
them within ``PDF_TIMEOUT_SECONDS``. Each page is stored at once as a note of
its own, queued for recognition as any upload, and linked to the PDF.

Splitting resumes: a page already made (unique source and page number) is not
made again, whether the previous run crashed, its worker died (``recovery``),
or the owner asked to split again (``tasks.request_split``). A PDF that cannot
be split fails with a message for its owner; the pages made so far stay.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.db import IntegrityError, close_old_connections
from django.db.models import F
from django.utils import timezone

from ..conf import inkdex
from ..engines import EngineError
from ..engines.isolated import EngineCrashed, EngineTimedOut
from ..images import InvalidImage
from ..models import Note, NoteStatus
from ..services.database import with_retries
from ..services.uploads import create_note
from .engine_selection import get_engine
from .runs import Heartbeat, Run, retry_or_fail

logger = logging.getLogger(__name__)

COULD_NOT_SPLIT = "Inkdex could not split this PDF into pages."
# The time limit for the whole PDF is measured on this clock (tests replace it).
_clock = time.monotonic


class SplitFailed(Exception):
    """The PDF cannot be split; ``str(exc)`` says why, for its owner."""


class _LostClaim(Exception):
    """The PDF was deleted, or another run took it over."""


def _claim(note_id: int) -> str | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = Note.objects.filter(pk=note_id, status=NoteStatus.SPLITTING, run_token="").update(
        run_token=token, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now, finished_at=None, retry_at=None
    )
    return token if claimed else None


@contextmanager
def _local_copy(note: Note):
    """The stored PDF as a file on local disk (storage may be S3), for the child to open."""
    with tempfile.NamedTemporaryFile(prefix="inkdex-", suffix=".pdf") as local:
        with note.image.open("rb") as stored:
            shutil.copyfileobj(stored, local, 1024 * 1024)
        local.flush()
        yield local.name


class _Renderer:
    """The engine's child process, asked for one thing at a time, within the
    time left for this page and for the whole PDF."""

    def __init__(self) -> None:
        self.path = inkdex().pdf_renderer
        self.page_limit = inkdex().pdf_page_timeout_seconds
        self.pdf_limit = inkdex().pdf_timeout_seconds
        # Always in a child process: PDFium reads an untrusted file.
        self.process = get_engine(isolated=True)
        self.process.start()  # loading the models is not part of the PDF's time
        self.deadline = _clock() + self.pdf_limit

    def ask(self, method: str, *args, page: str):
        left = self.deadline - _clock()
        if left <= 0:
            raise self._too_long(page)
        try:
            return self.process.render_pdf(self.path, method, *args, timeout=min(self.page_limit, left))
        except EngineTimedOut as exc:
            if self.page_limit < left:
                raise SplitFailed(
                    f"Turning {page} into an image took longer than {self.page_limit:g} seconds and was stopped. "
                    "The pages made before it are kept."
                ) from exc
            raise self._too_long(page) from exc
        except EngineCrashed:
            raise
        except EngineError as exc:  # the renderer's message for the owner
            raise SplitFailed(str(exc)) from exc

    def _too_long(self, page: str) -> SplitFailed:
        return SplitFailed(
            f"Splitting this PDF took longer than {self.pdf_limit:g} seconds and was stopped at {page}. "
            "The pages made before it are kept."
        )


def _still_ours(note_id: int, token: str) -> bool:
    return Note.objects.filter(pk=note_id, run_token=token, status=NoteStatus.SPLITTING).exists()


def _split(note: Note, token: str) -> None:
    renderer = _Renderer()
    with _local_copy(note) as path:
        count = renderer.ask("page_count", path, page="opening it")
        limit = inkdex().max_pdf_pages
        if count == 0:
            raise SplitFailed("This PDF has no pages.")
        if count > limit:
            raise SplitFailed(f"This PDF has {count} pages; upload at most {limit} at a time.")
        if not Note.objects.filter(pk=note.pk, run_token=token).update(page_count=count):
            raise _LostClaim
        made = set(note.pages.values_list("page_number", flat=True))
        for number in range(1, count + 1):
            if number in made:
                continue
            if not _still_ours(note.pk, token):
                raise _LostClaim
            png = renderer.ask("render_page", path, number, inkdex().ocr_max_pixels, page=f"page {number}")
            _store_page(note, token, png, number, count)


def _store_page(note: Note, token: str, png: bytes, number: int, count: int) -> None:
    try:
        create_note(
            owner=note.owner,
            uploaded_file=ContentFile(png, name=f"page-{number}.png"),
            language=note.language,
            page=(number, count),
            source=note,
        )
    except InvalidImage as exc:
        logger.error("Page %s of PDF note %s rendered to an unusable image: %s", number, note.pk, exc)
        raise SplitFailed(f"Page {number} of this PDF could not be turned into an image.") from exc
    except IntegrityError:
        # Made meanwhile by another run (then it is there), or the PDF was deleted.
        if not _still_ours(note.pk, token):
            raise _LostClaim from None
        if not Note.objects.filter(source=note, page_number=number).exists():
            raise


def _finish(note_id: int, token: str, **changes) -> None:
    Note.objects.filter(pk=note_id, run_token=token).update(finished_at=timezone.now(), heartbeat_at=None, **changes)


def _retry_or_fail(note_id: int, token: str, message: str) -> Run:
    return retry_or_fail(note_id, token, lambda attempts, most: (
        f"Splitting failed after {attempts} attempts: {message}",
        f"Attempt {attempts} of {most} failed ({message}); trying again shortly.",
    ))


def split_pdf(note_id: int) -> Run:
    """Split one PDF note into page notes; safe to call any number of times.

    Returns what happened: ``split``, ``failed``, ``retrying`` (and when: the
    caller queues the retry), ``skipped`` (not waiting to be split, or someone
    else holds it) or ``discarded`` (lost it meanwhile).
    """
    token = with_retries(lambda: _claim(note_id), what=f"Claiming PDF note {note_id}")
    if token is None:
        return Run(note_id, "skipped")
    note = Note.objects.select_related("owner").get(pk=note_id)
    try:
        with Heartbeat(note_id, token):
            _split(note, token)
    except SplitFailed as exc:
        logger.warning("PDF note %s cannot be split: %s", note_id, exc)
        _finish(note_id, token, status=NoteStatus.FAILED, error=str(exc))
        return Run(note_id, "failed")
    except EngineCrashed:
        # A crash may be the machine's (out of memory): tried again, from the page it stopped at.
        logger.error("The process rendering PDF note %s crashed", note_id)
        return _retry_or_fail(note_id, token, "the program reading the PDF stopped unexpectedly")
    except _LostClaim:
        logger.info("PDF note %s was deleted or taken over meanwhile; stopping", note_id)
        return Run(note_id, "discarded")
    except FileNotFoundError:
        logger.error("The stored file of PDF note %s is missing", note_id)
        _finish(note_id, token, status=NoteStatus.FAILED, error="The stored PDF is missing; please upload it again.")
        return Run(note_id, "failed")
    except Exception:
        logger.exception("Splitting PDF note %s failed", note_id)
        close_old_connections()
        return _retry_or_fail(note_id, token, COULD_NOT_SPLIT)
    _finish(note_id, token, status=NoteStatus.SPLIT, error="")
    return Run(note_id, "split")

