"""Reading and removing notes."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from ..models import Note
from ..search.vocabulary import forget_words, line_texts


def note_status_payload(note: Note) -> dict:
    """What pages (and scripts) need to follow a note's recognition live."""
    return {
        "id": note.pk,
        "name": note.title,
        "status": note.status,
        "status_display": note.get_status_display(),
        "pending": note.is_pending,
        "error": note.error,
        "attempts": note.attempts,
        "line_count": getattr(note, "line_count", None),
        "flagged_count": getattr(note, "flagged_count", None),
        "url": reverse("ocr_app:note_detail", args=[note.pk]),
        "thumbnail_url": reverse("ocr_app:note_image", args=[note.pk, "thumb"]),
    }


def delete_note(note: Note) -> None:
    """Delete a note, its lines, and (once that has committed) its files."""
    names = [f.name for f in (note.image, note.preview, note.thumbnail) if f.name]
    storage = note.image.storage
    with transaction.atomic():
        forget_words(note.owner_id, line_texts(note.lines.all()))
        note.delete()
        transaction.on_commit(lambda: delete_stored_files(storage, names))


def delete_stored_files(storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)
