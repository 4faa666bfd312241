"""Recognising notes: claiming, running the engine, storing lines, retrying.

A note's own row is the source of truth for its state. A worker *claims* a
queued note by writing a fresh ``run_token``; only the holder of the current
token may store results, so a duplicate task, a reprocess request made
mid-run, or a worker presumed dead and later revived can never write stale
lines. A worker that dies stops its heartbeat (``runs``), and ``recovery``
queues the note again. Which queued note a worker takes next, fairly across
owners, is decided in ``claims``; putting notes on the queue, in ``tasks``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from django.core.files.base import ContentFile
from django.db import close_old_connections, transaction
from django.utils import timezone

from ..conf import inkdex
from ..engines import EngineError, Recognition
from ..engines.isolated import EngineCrashed, EngineTimedOut
from ..images import InvalidImage, downscale_for_ocr, make_preview, open_upright_rgb
from ..models import Line, Note, NoteStatus
from ..review_rule import needs_review, review_threshold, stored_confidence
from ..search.query import composed
from ..services.carry_over import store_lines_keeping_corrections
from ..services.confidence_weights import active_calibration
from ..services.database import with_retries
from ..services.learned_words import words_for_engine
from ..services.titles import update_automatic_title
from .claims import claim_next_note, claim_note
from .engine_selection import get_engine
from .runs import Heartbeat, Run, retry_or_fail

logger = logging.getLogger(__name__)

PREVIEW_SIDE = 2400


def _save_renditions(note: Note, image, token: str) -> None:
    """Store the upright preview and the thumbnail the pages show."""
    storage = note.image.storage
    stem = note.image.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    folder = f"previews/{note.owner_id}"
    preview = storage.save(f"{folder}/{stem}-preview.jpg", ContentFile(make_preview(image, PREVIEW_SIDE)))
    thumb = storage.save(
        f"{folder}/{stem}-thumb.jpg", ContentFile(make_preview(image, inkdex().thumbnail_size, quality=80))
    )
    old = [name for name in (note.preview.name, note.thumbnail.name) if name]
    if Note.objects.filter(pk=note.pk, run_token=token).update(preview=preview, thumbnail=thumb):
        note.preview.name, note.thumbnail.name = preview, thumb
        for name in old:
            if name not in (preview, thumb):
                storage.delete(name)
    else:
        storage.delete(preview)
        storage.delete(thumb)


def run_engine_on_note(note: Note):
    """The stored image, upright, and what the engine read on it (boxes in the
    upright image's pixels)."""
    with note.image.open("rb") as handle:  # through the storage API: works on S3 too
        image = open_upright_rgb(handle)
    engine_name = note.requested_engine or inkdex().ocr_engine
    # Read for every note: a refit (or a restore) reaches every worker at its next note.
    calibration = active_calibration(engine_name)
    # The owner's own words (never anyone else's), which the engine's lexicon prefers.
    user_words = words_for_engine(note.owner_id)
    return image, recognize_image(
        image, engine_name=engine_name, language=note.language, calibration=calibration, user_words=user_words
    )


def recognize_image(
    image, *, engine_name: str | None = None, language: str = "en", calibration=None, user_words: tuple[str, ...] = ()
) -> Recognition:
    """Run the engine on an upright RGB image; boxes come back in its pixels.
    ``calibration``: the confidence weights to use (None: the built-in ones)."""
    small, factor = downscale_for_ocr(image, inkdex().ocr_max_pixels)
    engine = get_engine(engine_name)
    engine.use_calibration(calibration)
    # Passed only when there are some, as in the engine's child process.
    extra = {"user_words": tuple(user_words)} if user_words else {}
    recognition = engine.recognize(small, language=language, **extra)
    if factor != 1.0:
        recognition = replace(recognition, lines=[line.scaled(factor) for line in recognition.lines])
    return recognition


def _line_rows(note: Note, recognition: Recognition) -> list[Line]:
    threshold = review_threshold()
    rows = []
    for order, line in enumerate(recognition.lines):
        confidence = stored_confidence(line.confidence)
        text = composed(line.text)  # whatever form the engine writes accents in
        rows.append(
            Line(
                note=note,
                owner_id=note.owner_id,
                order=order,
                text=text,
                ocr_text=text,
                confidence=confidence,
                x=line.box.x,
                y=line.box.y,
                width=line.box.width,
                height=line.box.height,
                needs_review=needs_review(confidence, partial=recognition.partial, threshold=threshold),
                words=[
                    {"text": w.text, "confidence": w.confidence, "box": w.box.as_dict()} for w in line.words
                ],
                alternatives=list(line.alternatives),
                features=dict(line.features),
            )
        )
    return rows


def _store(note: Note, token: str, recognition: Recognition, seconds: float) -> bool:
    """Replace the note's lines with the new ones, atomically, if still ours."""
    with transaction.atomic():
        current = Note.objects.select_for_update().filter(pk=note.pk, run_token=token, status=NoteStatus.PROCESSING)
        if not current.exists():
            logger.info("Note %s was re-queued or recovered meanwhile; discarding this run", note.pk)
            return False
        carried = store_lines_keeping_corrections(note, _line_rows(note, recognition))
        update_automatic_title(note, Line.objects.filter(note=note).order_by("order"))
        current.update(
            carried_corrections=carried,
            status=NoteStatus.DONE,
            finished_at=timezone.now(),
            heartbeat_at=None,
            error="",
            engine_name=recognition.engine_name,
            engine_version=recognition.engine_version[:128],
            partial_result=recognition.partial,
            warnings=list(recognition.warnings),  # this recognition's only: the last one's go
            unread_ink=recognition.unread_ink,
            processing_seconds=round(seconds, 3),
        )
    return True


# What a note's owner reads when recognition fails: one fixed sentence per kind of
# failure. Exception texts (paths, library internals) go to the log only.
UNREADABLE_IMAGE = "The image could not be read: the file is damaged or not an image."
TOOK_TOO_LONG = (
    "Recognition took too long and was stopped. The image may be unusually complex; try a smaller or clearer photo."
)
ENGINE_CRASHED = "The recognition engine stopped unexpectedly on this image; try again or pick another engine."
ENGINE_FAILED = "The recognition engine failed; try again or pick another engine."
IMAGE_MISSING = "The stored image is missing; please upload the note again."
UNEXPECTED = "Something went wrong while recognizing this note; try again."


def owner_message(exc: BaseException) -> str:
    """The sentence the note's owner sees for this failure."""
    if isinstance(exc, InvalidImage):
        return UNREADABLE_IMAGE
    if isinstance(exc, EngineTimedOut):
        return TOOK_TOO_LONG
    if isinstance(exc, EngineCrashed):
        return ENGINE_CRASHED
    if isinstance(exc, EngineError):
        return ENGINE_FAILED
    if isinstance(exc, FileNotFoundError):
        return IMAGE_MISSING
    return UNEXPECTED


def _fail(note_id: int, token: str, message: str) -> None:
    Note.objects.filter(pk=note_id, run_token=token).update(
        status=NoteStatus.FAILED, error=message, finished_at=timezone.now(), heartbeat_at=None
    )


def _retry_or_fail(note_id: int, token: str, message: str) -> Run:
    return retry_or_fail(note_id, token, lambda attempts, most: (
        f"Recognition failed after {attempts} attempts. {message}",
        f"Attempt {attempts} of {most} failed. {message} Trying again shortly.",
    ), status=NoteStatus.QUEUED)


def recognize_next_note(task_id: str | None = None) -> Run:
    """Recognise the fairest queued note (what a worker's task does); ``task_id`` is
    the running task's, which the claimed note then names as its own.

    Returns what happened to the note it took (as ``recognize_note``), or
    ``Run(None, "idle")`` when no note was waiting.
    """
    claimed = with_retries(lambda: claim_next_note(task_id), what="Claiming the next note")
    if claimed is None:
        return Run(None, "idle")
    note_id, token = claimed
    return _recognize_claimed(note_id, token)


def recognize_note(note_id: int) -> Run:
    """Recognise this note now, if it is queued; safe to call any number of times.

    Returns what happened: ``done``, ``failed``, ``retrying`` (and when: the
    caller queues the retry), ``skipped`` (someone else holds the note, it is not
    queued, or it waits for its retry) or ``discarded``.
    """
    token = with_retries(lambda: claim_note(note_id), what=f"Claiming note {note_id}")
    if token is None:
        return Run(note_id, "skipped")
    return _recognize_claimed(note_id, token)


def _recognize_claimed(note_id: int, token: str) -> Run:
    note = Note.objects.get(pk=note_id)
    started = time.monotonic()
    try:
        with Heartbeat(note_id, token):
            image, recognition = run_engine_on_note(note)
            _save_renditions(note, image, token)
    except (InvalidImage, EngineError, FileNotFoundError) as exc:
        logger.warning("Recognising note %s (%s) failed: %s: %s", note_id, note.image.name, type(exc).__name__, exc)
        if getattr(exc, "retryable", False):
            return _retry_or_fail(note_id, token, owner_message(exc))
        _fail(note_id, token, owner_message(exc))
        return Run(note_id, "failed")
    except Exception as exc:
        logger.exception("Recognising note %s (%s) failed", note_id, note.image.name)
        close_old_connections()
        return _retry_or_fail(note_id, token, owner_message(exc))
    seconds = time.monotonic() - started
    # A database that is locked or gone for a moment must not cost the recognition.
    if not with_retries(lambda: _store(note, token, recognition, seconds), what=f"Storing note {note_id}"):
        return Run(note_id, "discarded")
    return Run(note_id, "done")

