"""Exporting a user's notes to a zip file, which ``import_export`` imports into any Inkdex.

The zip holds ``inkdex-export.json`` (every note with its lines, their engine
readings, corrections and review history, and the lines people deleted), the original images under
``images/``, and each note's text as plain text under ``text/``. Each note's
tags travel by name.

An uploaded PDF is in the zip as it was uploaded (``kind`` ``pdf``), and each
note made of one of its pages names it by its SHA-256 (``source_sha256``), so
that the link survives the import.

The owner's learned words (``services.learned_words``) travel too, the ones they
removed included.
"""

from __future__ import annotations

import json
import zipfile
from datetime import datetime

from django.utils import timezone

from ..models import Note
from .learned_words import exported_words

FORMAT = "inkdex-export-1"
MANIFEST = "inkdex-export.json"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _note_record(note: Note, number: int) -> dict:
    extension = note.image.name.rsplit(".", 1)[-1]
    lines = list(note.lines.select_related("reviewed_by").order_by("order"))
    deleted = list(note.deleted_lines.select_related("deleted_by").order_by("deleted_at", "pk"))
    # Which line an event belongs to now (a reprocess may have moved a corrected line).
    order_of_line = {line.pk: line.order for line in lines}
    deleted_of_event = {event_id: index for index, record in enumerate(deleted) for event_id in record.event_ids}
    events_by_line: dict[int, list[dict]] = {}
    for event in note.review_events.select_related("reviewer").order_by("created_at", "pk"):
        events_by_line.setdefault(event.line_order, []).append(
            {
                "line": order_of_line.get(event.line_id),
                "deleted_line": deleted_of_event.get(event.pk),
                "action": event.action,
                "old_text": event.old_text,
                "new_text": event.new_text,
                "reviewer": event.reviewer.get_username() if event.reviewer else None,
                "created_at": _when(event.created_at),
                "ocr_text": event.ocr_text,
                "confidence": event.confidence,
                "engine_name": event.engine_name,
            }
        )
    return {
        "original_name": note.original_name,
        "title": note.title,
        "title_set_by_owner": note.title_set_by_owner,
        "image": f"images/{number}.{extension}",
        "text": f"text/{number}.txt",
        "sha256": note.sha256,
        "uploaded_at": _when(note.uploaded_at),
        "language": note.language,
        "status": note.status,
        "engine_name": note.engine_name,
        "engine_version": note.engine_version,
        "partial_result": note.partial_result,
        # What the engine said of its reading, and how much ink it left unread (null: not told).
        "warnings": note.warnings,
        "unread_ink": note.unread_ink,
        "kind": "pdf" if note.is_pdf else "image",
        "error": note.error if note.is_pdf else "",
        "page_number": note.page_number,
        "page_count": note.page_count,
        "source_sha256": note.source.sha256 if note.source_id else None,
        "lines": [
            {
                "order": line.order,
                "text": line.text,
                "ocr_text": line.ocr_text,
                "confidence": line.confidence,
                "box": line.box.as_dict(),
                "needs_review": line.needs_review,
                "words": line.words,
                "alternatives": line.alternatives,
                "reviewed_at": _when(line.reviewed_at),
                "reviewed_by": line.reviewed_by.get_username() if line.reviewed_by else None,
            }
            for line in lines
        ],
        "review_events": events_by_line,
        "tags": [tag.name for tag in note.tags.all()],
        # Lines people deleted: a reprocess after the import must not bring them back either.
        "deleted_lines": [
            {
                "order": record.order,
                "text": record.text,
                "ocr_text": record.ocr_text,
                "confidence": record.confidence,
                "box": record.box.as_dict(),
                "alternatives": record.alternatives,
                "deleted_by": record.deleted_by.get_username() if record.deleted_by else None,
                "deleted_at": _when(record.deleted_at),
            }
            for record in deleted
        ],
        "carried_corrections": note.carried_corrections,
    }


def export_notes(*, user, destination) -> int:
    """Write every note of ``user`` into the zip file ``destination`` (a path or
    a binary file); returns how many notes."""
    # A PDF comes before the notes of its pages (same upload time, made first).
    notes = Note.objects.owned_by(user).select_related("source").order_by("uploaded_at", "pk")
    records = []
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, note in enumerate(notes.iterator(), start=1):
            record = _note_record(note, number)
            with note.image.open("rb") as handle:
                # Images are compressed already.
                archive.writestr(record["image"], handle.read(), compress_type=zipfile.ZIP_STORED)
            archive.writestr(record["text"], "\n".join(line["text"] for line in record["lines"]) + "\n")
            records.append(record)
        manifest = {
            "format": FORMAT, "exported_at": _when(timezone.now()), "owner": user.get_username(), "notes": records,
            "learned_words": [
                {"word": w.word, "count": w.count, "last_confirmed_at": _when(w.last_confirmed_at),
                 "removed_at": _when(w.removed_at)}
                for w in exported_words(user)
            ],
        }
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return len(records)
