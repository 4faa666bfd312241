"""Importing an export (``services.export``) as notes of any user of any Inkdex.

Importing recreates the notes as recognised, with their corrections and review
history, without running OCR again; notes the user already has (same image
content) are skipped. Tags come by name and are given to the importing user
(made where they have no tag of that name); the learned words are merged into
their list. A PDF that was not split yet is split by the worker after the import
(its pages in the zip are kept, not made again).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone

from django.core.files.base import ContentFile
from django.utils import timezone

from ..conf import inkdex
from ..images import InvalidImage, inspect_image, is_pdf
from ..models import PDF_CONTENT_TYPE, DeletedLine, Line, Note, NoteStatus, ReviewEvent
from ..review_rule import stored_confidence
from ..search.query import composed
from ..search.vocabulary import line_texts, record_words
from ..tag_names import InvalidTag, parse_tag_names
from .export import FORMAT, MANIFEST
from .learned_words import WordRecord, clean_word, merge_words
from .notes import delete_note
from ..pipeline.tasks import request_split
from .tags import get_or_create_tags, link_tags
from .titles import imported_title
from .uploads import store_note

# An export's images are held to MAX_UPLOAD_BYTES each, like uploads; this bounds the manifest.
MAX_MANIFEST_BYTES = 200 * 1024 * 1024


class ExportError(Exception):
    """The file cannot be imported; the message says why."""


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0
    # Learned words new to the user, and those they had already (merged).
    words_added: int = 0
    words_known: int = 0


def _parse_time(value: str | None):
    return datetime.fromisoformat(value) if value else None


def _read_entry(archive: zipfile.ZipFile, name: str, limit: int, what: str) -> bytes:
    """One entry's bytes, refused before reading when its header says it is over
    ``limit``, and after ``limit`` bytes when the header lied."""
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise ExportError(f"The export lacks {what}.") from exc
    too_large = ExportError(f"{what[0].upper()}{what[1:]} is larger than the {limit / 1024 / 1024:g} MB limit.")
    if info.file_size > limit:
        raise too_large
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise ExportError(f"{what[0].upper()}{what[1:]} is damaged in the zip file.") from exc
    if len(data) > limit:
        raise too_large
    return data


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    not_an_export = "This zip file is not an Inkdex export (no readable inkdex-export.json)."
    if MANIFEST not in archive.namelist():
        raise ExportError(not_an_export)
    try:
        manifest = json.loads(_read_entry(archive, MANIFEST, MAX_MANIFEST_BYTES, "the description inkdex-export.json"))
    except ValueError as exc:
        raise ExportError(not_an_export) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ExportError(f"Unknown export format {manifest.get('format') if isinstance(manifest, dict) else None!r}.")
    if not isinstance(manifest.get("notes"), list) or not all(isinstance(r, dict) for r in manifest["notes"]):
        raise ExportError("The export's description is damaged (its list of notes).")
    return manifest


def _image_of(archive: zipfile.ZipFile, record: dict) -> ContentFile:
    name = record.get("image")
    if not isinstance(name, str):
        raise ExportError("The export's description is damaged (a note without an image).")
    data = _read_entry(archive, name, inkdex().max_upload_bytes, f"the image {name}")
    return ContentFile(data, name=name)


def import_export_archive(*, user, source) -> ImportReport:
    """Recreate the notes of an export (a path or binary file) as notes of ``user``.

    Every image is checked (present, within the size limit, a usable image)
    before the first note is stored, and a failure later on removes the notes
    this import stored: an import happens whole or not at all.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError("This file is not an Inkdex export (not a zip file).") from exc
    with archive:
        manifest = _read_manifest(archive)
        words = _learned_words_of(manifest)
        report = ImportReport()
        wanted, digests = [], set()
        for record in manifest["notes"]:
            image = _image_of(archive, record)
            # The content's own digest, not the one the file claims.
            digest = hashlib.sha256(image.read()).hexdigest()
            if digest in digests or Note.objects.owned_by(user).filter(sha256=digest).exists():
                report.skipped += 1
                continue
            _checked_file(record, image)
            _tags_of(record)
            digests.add(digest)
            wanted.append((record, digest))
        # Review actions of the exporting owner become the importing owner's; names of
        # other people are never matched to accounts here (they may be anyone's).
        exporter = manifest.get("owner")
        imported: list[Note] = []
        try:
            for record, digest in wanted:
                imported.append(_import_note(user, record, _image_of(archive, record), digest, exporter))
            report.words_added, report.words_known = merge_words(user, words)
        except BaseException as exc:
            for note in imported:
                delete_note(note)
            if isinstance(exc, (KeyError, TypeError, ValueError, AttributeError)):
                raise ExportError(
                    f"The export's description of {record.get('original_name')!r} is damaged; nothing was imported."
                ) from exc
            raise
        report.imported = len(imported)
        for note, (record, _) in zip(imported, wanted):
            link_tags(user, [note], get_or_create_tags(user, _tags_of(record)))
    # Only now, with the pages the zip has: PDFs the export had not finished splitting.
    # (Should the import stop before, recovery releases them: see ``_import_pdf``.)
    for note in imported:
        if note.is_pdf and note.status == NoteStatus.SPLITTING:
            request_split(note)
    return report


def _learned_words_of(manifest: dict) -> list[WordRecord]:
    """The export's learned words, every one checked (exports made before them have none)."""
    entries = manifest.get("learned_words") or []
    if not isinstance(entries, list):
        raise ExportError("The export's learned words are damaged (not a list).")
    words = []
    for number, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, dict):
                raise ValueError("not a word with its count")
            count = entry.get("count")
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 2**31 - 1:
                raise ValueError(f"count {count!r} is not a whole number from 0")
            last_confirmed_at = _aware_time(entry.get("last_confirmed_at")) or timezone.now()
            words.append(WordRecord(clean_word(entry.get("word")), count, last_confirmed_at,
                                    _aware_time(entry.get("removed_at"))))
        except (TypeError, ValueError) as exc:
            raise ExportError(f"The export's learned word {number} is damaged: {exc}. Nothing was imported.") from exc
    return words


def _aware_time(value) -> datetime | None:
    """An export's time (ISO 8601; one without a zone is UTC); ValueError when it is none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt_timezone.utc)


def _tags_of(record: dict) -> list[str]:
    """The note's tag names (exports made before tags have none)."""
    names = record.get("tags") or []
    try:
        if not isinstance(names, list):
            raise InvalidTag("not a list")
        return parse_tag_names(names)
    except InvalidTag as exc:
        raise ExportError(f"The export's tags of {record.get('original_name')!r} are damaged: {exc}") from exc


def _warnings_of(record: dict) -> list[str] | None:
    """The engine's warnings (exports made before them have none: null, as for notes not read since)."""
    warnings = record.get("warnings")
    if warnings is None:
        return None
    if not isinstance(warnings, list) or not all(isinstance(text, str) for text in warnings):
        raise ValueError("warnings must be a list of texts")
    return warnings


def _unread_ink_of(record: dict) -> float | None:
    """The share (0 to 1) of the page's ink outside every line; null when the engine could not tell."""
    share = record.get("unread_ink")
    if share is None:
        return None
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise ValueError(f"unread_ink {share!r} is not a share from 0 to 1")
    return float(share)


def _checked_file(record: dict, data: ContentFile):
    """The image's details; a PDF is only checked to be one (the worker splits it)."""
    if record.get("kind") == "pdf":
        if not is_pdf(data):
            raise ExportError(f"{record.get('original_name')}: this is not a PDF.")
        return None
    try:
        return inspect_image(data, data.size)
    except InvalidImage as exc:
        raise ExportError(f"{record.get('original_name')}: {exc}") from exc


def _import_pdf(user, record: dict, data: ContentFile, digest: str) -> Note:
    _checked_file(record, data)
    status = record.get("status")
    finished = status in {NoteStatus.SPLIT, NoteStatus.FAILED}
    now = timezone.now()
    note = Note(
        owner=user,
        original_name=record["original_name"][:255],
        sha256=digest,
        size_bytes=data.size,
        width=0,
        height=0,
        image_format="PDF",
        content_type=PDF_CONTENT_TYPE,
        language=record.get("language") or "en",
        uploaded_at=_parse_time(record["uploaded_at"]) or timezone.now(),
        page_count=record.get("page_count"),
        status=status if finished else NoteStatus.SPLITTING,
        error=(record.get("error") or "") if status == NoteStatus.FAILED else "",
        finished_at=now if finished else None,
        # Not split yet: held (as if claimed, so no worker takes it) until the
        # import has added the pages the zip has; if the import stops first,
        # the held claim goes stale and recovery queues the PDF.
        **({} if finished else {"run_token": "held-by-import", "started_at": now, "heartbeat_at": now}),
    )
    note.title, note.title_set_by_owner = imported_title(record, note.file_title)
    return store_note(note, data, "pdf")


def _source_pdf(user, record: dict) -> Note | None:
    """The PDF the page of ``record`` was made of, if the user has it and its page is free."""
    if not record.get("source_sha256") or not record.get("page_number"):
        return None
    source = Note.objects.owned_by(user).filter(sha256=record["source_sha256"], content_type=PDF_CONTENT_TYPE).first()
    if source is None or source.pages.filter(page_number=record["page_number"]).exists():
        return None
    return source


def _import_note(user, record: dict, image: ContentFile, digest: str, exporter: str | None) -> Note:
    if record.get("kind") == "pdf":
        return _import_pdf(user, record, image, digest)
    info = _checked_file(record, image)

    def reviewer(name: str | None):
        return user if name is not None and name == exporter else None

    recognised = bool(record["lines"]) or record.get("status") == NoteStatus.DONE

    note = Note(
        owner=user,
        original_name=record["original_name"][:255],
        sha256=digest,
        size_bytes=image.size,
        width=info.width,
        height=info.height,
        image_format=info.format,
        content_type=info.content_type,
        language=record.get("language") or "en",
        uploaded_at=_parse_time(record["uploaded_at"]) or timezone.now(),
        engine_name=record.get("engine_name", ""),
        engine_version=record.get("engine_version", ""),
        partial_result=bool(record.get("partial_result")),
        warnings=_warnings_of(record),
        unread_ink=_unread_ink_of(record),
        page_number=record.get("page_number"),
        page_count=record.get("page_count"),
        source=_source_pdf(user, record),
        # Recognised already (also when nothing was read on it): no OCR is scheduled
        # for a note that is not queued.
        status=NoteStatus.DONE if recognised else NoteStatus.QUEUED,
        finished_at=timezone.now() if recognised else None,
        carried_corrections=int(record.get("carried_corrections") or 0),
    )
    note.title, note.title_set_by_owner = imported_title(record, note.file_title)

    def add_lines(note: Note) -> None:
        lines = Line.objects.bulk_create(
            Line(
                note=note, owner=user, order=line["order"], text=composed(line["text"]),
                ocr_text=composed(line.get("ocr_text", line["text"])),
                confidence=stored_confidence(line["confidence"]), x=line["box"]["x"], y=line["box"]["y"],
                width=line["box"]["width"], height=line["box"]["height"], needs_review=bool(line["needs_review"]),
                words=line.get("words") or [], alternatives=line.get("alternatives") or [],
                reviewed_at=_parse_time(line.get("reviewed_at")), reviewed_by=reviewer(line.get("reviewed_by")),
            )
            for line in record["lines"]
        )
        by_order = {line.order: line for line in lines}

        def line_of(order, event: dict):
            # Exports before deleted lines name no line: then the event's own order.
            if "line" in event:
                return by_order.get(event["line"]) if event["line"] is not None else None
            return by_order.get(int(order))

        pairs = [(order, event) for order, events in record["review_events"].items() for event in events]
        events = ReviewEvent.objects.bulk_create(
            ReviewEvent(
                line=line_of(order, event), note=note, line_order=int(order),
                reviewer=reviewer(event["reviewer"]), action=event["action"], old_text=event["old_text"],
                new_text=event["new_text"], ocr_text=event.get("ocr_text", ""), confidence=event.get("confidence", 0.0),
                engine_name=event.get("engine_name", ""), created_at=_parse_time(event["created_at"]) or timezone.now(),
            )
            for order, event in pairs
        )
        deleted_events: dict[int, list[int]] = {}
        for (_, event), stored in zip(pairs, events):
            if event.get("deleted_line") is not None:
                deleted_events.setdefault(int(event["deleted_line"]), []).append(stored.pk)
        DeletedLine.objects.bulk_create(
            DeletedLine(
                note=note, order=int(item["order"]), text=composed(item["text"]), ocr_text=composed(item.get("ocr_text", "")),
                confidence=float(item.get("confidence", 0.0)), x=item["box"]["x"], y=item["box"]["y"],
                width=item["box"]["width"], height=item["box"]["height"], alternatives=item.get("alternatives") or [],
                deleted_by=reviewer(item.get("deleted_by")), deleted_at=_parse_time(item.get("deleted_at")) or timezone.now(),
                event_ids=deleted_events.get(index, []),
            )
            for index, item in enumerate(record.get("deleted_lines") or [])
        )
        record_words(user.pk, line_texts(lines))

    return store_note(note, image, info.extension, with_note=add_lines)
