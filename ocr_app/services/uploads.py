"""Turning uploaded files into notes."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as format_date

from .. import languages
from ..conf import inkdex
from ..images import InvalidImage, check_size, inspect_image, is_pdf
from ..models import PDF_CONTENT_TYPE, Note, NoteStatus
from ..pipeline.engine_selection import available_engines, engine_languages
from ..upload_limits import RefusedUpload
from .database import with_retries
from .tags import copy_tags, get_or_create_tags, link_tags

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one file of an upload: a note, or the reason it was refused."""

    name: str
    note: Note | None = None
    error: str | None = None
    # Machine-readable kind of ``error``: "invalid_image", "storage_failed" or "duplicate".
    code: str | None = None
    # A duplicate: the owner's note that already holds this content (nothing was stored).
    duplicate_of: Note | None = None

    @property
    def ok(self) -> bool:
        return self.note is not None


# "en", "deu", "pt-BR", "zh_Hans": what fits the note's 16-character column.
_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")


class InvalidUpload(ValueError):
    """The upload request as a whole cannot be used; ``str(exc)`` says why, for users."""


NO_FILES = "Choose at least one image to upload."


def chosen_engine(value) -> str | None:
    """The engine a form (or the API) asked for: one installed, or None (blank) for the configured one."""
    if value in (None, ""):
        return None
    if value not in available_engines():
        raise InvalidUpload(f"Unknown engine {value!r}.")
    return value


def chosen_language(value, engine: str | None = None) -> str | None:
    """The language a form (or the API) asked for: exactly one of the codes the
    engine (default: the configured one) lists, as the page offers them and the
    API's schema enumerates them, or None (blank) for the default."""
    if value in (None, ""):
        return None
    supported = engine_languages(engine)
    if isinstance(value, str) and value in supported:
        return value
    if not isinstance(value, str) or not _LANGUAGE_CODE.fullmatch(value):
        raise InvalidUpload(f"The language must be one of: {', '.join(sorted(supported))}.")
    names = ", ".join(name for _, name in languages.choices(supported))
    raise InvalidUpload(f"Inkdex cannot read {languages.NAMES.get(value, value)} notes; it reads {names}.")


def clean_language(value: str | None, engine: str | None = None) -> str | None:
    """The language ``import_notes`` was given: a code first (so that an over-long
    value is named as such before any file is read), then exactly one the engine
    reads, as the pages and the API take it (``chosen_language``)."""
    if value and not _LANGUAGE_CODE.fullmatch(value):
        raise InvalidUpload("The language must be a code such as 'en' or 'de'.")
    return chosen_language(value, engine)


def display_name(client_name: str | None) -> str:
    """The client's file name made safe to keep and show: no folders, no control
    characters, at most 255 characters. It never becomes a path on disk."""
    # Browsers send a double quote in a file name as %22 (HTML's multipart rules).
    name = (client_name or "").replace("%22", '"').replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = unicodedata.normalize("NFC", name) or "untitled"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) <= 16 else name[:255]
    return name


def find_duplicate(owner, fileobj) -> Note | None:
    """The note of ``owner`` that already holds exactly this file's content (the
    first uploaded), or None. A PDF counts by its own content; the notes made of a
    PDF's pages hold images Inkdex rendered, never a file the owner uploaded, so
    they count for nothing (even once their PDF is deleted)."""
    return (
        Note.objects.owned_by(owner)
        .filter(sha256=_sha256(fileobj), page_number__isnull=True)
        .order_by("uploaded_at", "pk")
        .first()
    )


def duplicate_message(note: Note) -> str:
    uploaded = format_date(timezone.localtime(note.uploaded_at), "j M Y")
    return f"Already uploaded on {uploaded} as {note.title}; not uploaded again."


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def _size(uploaded_file) -> int:
    size = getattr(uploaded_file, "size", None)
    if size is None:
        uploaded_file.seek(0, os.SEEK_END)
        size = uploaded_file.tell()
    return size


def create_note(
    *, owner, uploaded_file, language: str | None = None, page: tuple[int, int] | None = None, source: Note | None = None,
    tags=(),
) -> Note:
    """Check one uploaded file and store it as a new note queued for recognition.

    Raises ``InvalidImage`` with a message for the user when the file is not a
    usable image; nothing is stored then. Saving the note schedules OCR (see
    ``ocr_app.pipeline.signals``) once the transaction commits. For a page of a PDF,
    ``source`` is the PDF's note and ``page`` (page number, page count); the
    page takes the PDF's name and upload time, and its tags. ``tags`` (Tag rows of
    the owner) are linked in the same transaction, before any worker sees the note.
    """
    size = _size(uploaded_file)
    info = inspect_image(uploaded_file, size)
    note = Note(
        owner=owner,
        original_name=source.original_name if source else display_name(getattr(uploaded_file, "name", "")),
        source=source,
        page_number=page[0] if page else None,
        page_count=page[1] if page else None,
        **({"uploaded_at": source.uploaded_at} if source else {}),
        sha256=_sha256(uploaded_file),
        size_bytes=size,
        width=info.width,
        height=info.height,
        image_format=info.format,
        content_type=info.content_type,
        language=language or inkdex().default_language,
        status=NoteStatus.QUEUED,
    )
    def attach_tags(stored: Note) -> None:
        if source is not None:
            copy_tags(source, stored)  # a page keeps the tags its PDF was given
        if tags:
            link_tags(owner, [stored], tags)

    return store_note(note, File(uploaded_file), info.extension, with_note=attach_tags)


def create_pdf_note(*, owner, uploaded_file, language: str | None = None, tags=()) -> Note:
    """Store an uploaded PDF as it came, as a note *splitting into pages*.

    Only its size is checked here: the PDF is opened (by native code, with time
    limits) only in the worker, which makes a note of each page (see
    ``pipeline.pdf_splitting``); saving the note schedules that once the
    transaction commits. The note keeps the PDF's own SHA-256.
    """
    size = _size(uploaded_file)
    check_size(size)
    note = Note(
        owner=owner,
        original_name=display_name(getattr(uploaded_file, "name", "")),
        sha256=_sha256(uploaded_file),
        size_bytes=size,
        width=0,
        height=0,
        image_format="PDF",
        content_type=PDF_CONTENT_TYPE,
        language=language or inkdex().default_language,
        status=NoteStatus.SPLITTING,
    )
    # Tagged in the same transaction: its pages, made by the worker, copy the PDF's tags.
    return store_note(note, File(uploaded_file), "pdf", with_note=lambda stored: link_tags(owner, [stored], tags))


def store_note(note: Note, image, extension: str, *, with_note=None) -> Note:
    """Store ``image`` under a generated name (never the client's) and save
    ``note`` with it, in one transaction with ``with_note(note)`` if given; a
    briefly unavailable database is retried, and a failure leaves no file behind."""
    note.image.save(f"notes/{note.owner_id}/{uuid.uuid4().hex}.{extension}", image, save=False)

    def save() -> None:
        note.pk = None  # a failed attempt must not leave the instance looking saved
        with transaction.atomic():
            note.save()
            if with_note is not None:
                with_note(note)

    try:
        with_retries(save, what=f"Storing {note.original_name!r}")
    except BaseException:
        # The row never made it: do not leave its file behind.
        note.image.storage.delete(note.image.name)
        raise
    return note


def create_notes(
    *, owner, files, language: str | None = None, tags: list[str] = (), allow_duplicates: bool = False
) -> list[UploadOutcome]:
    """Store each file as its own note (a PDF as one, that the worker splits
    into a note per page); one bad file never costs the others. Each stored
    note gets the ``tags`` (names, cleaned: ``tag_names.parse_tag_names``).

    A file whose content the owner already has (uploaded before, or earlier in
    ``files``) is not stored again unless ``allow_duplicates``: its outcome
    names the note that has it."""
    batch_tags = get_or_create_tags(owner, tags) if tags else []
    outcomes = []
    for uploaded_file in files:
        name = display_name(getattr(uploaded_file, "name", ""))
        try:
            if isinstance(uploaded_file, RefusedUpload):  # over a size limit: not kept while reading
                raise InvalidImage(uploaded_file.reason)
            # Files are stored one by one, so an earlier file of this batch is found here too.
            existing = None if allow_duplicates else find_duplicate(owner, uploaded_file)
            if existing is not None:
                outcomes.append(
                    UploadOutcome(name, error=duplicate_message(existing), code="duplicate", duplicate_of=existing)
                )
                continue
            store = create_pdf_note if is_pdf(uploaded_file) else create_note
            note = store(owner=owner, uploaded_file=uploaded_file, language=language, tags=batch_tags)
            outcomes.append(UploadOutcome(name, note=note))
        except InvalidImage as exc:
            outcomes.append(UploadOutcome(name, error=str(exc), code="invalid_image"))
        except Exception:
            logger.exception("Storing upload %r failed", name)
            outcomes.append(
                UploadOutcome(name, error="Inkdex could not store this file. Please try again.", code="storage_failed")
            )
    return outcomes


def upload_status(outcomes: list[UploadOutcome]) -> int:
    """The HTTP status of an upload's answer: 201 when a note was made, 200 when
    every file was one the owner already has (nothing to do, nothing wrong), 400
    when nothing was stored and some file was refused."""
    if any(o.ok for o in outcomes):
        return 201
    if all(o.code == "duplicate" for o in outcomes):
        return 200
    return 400
