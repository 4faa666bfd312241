"""Reading and removing notes."""

from __future__ import annotations

from django.db import transaction

from ..models import Note
from ..pipeline.tasks import request_recognition, request_split
from ..search.vocabulary import forget_words, line_texts


def process_again(note: Note, *, engine: str | None = None, language: str | None = None) -> None:
    """Recognise a note again from scratch; a PDF is split again instead (the
    pages it has stay; the missing ones are made, in ``language`` if given)."""
    if note.is_pdf:
        if language:
            Note.objects.filter(pk=note.pk).update(language=language)
        request_split(note)
    else:
        request_recognition(note, engine=engine, language=language)


def delete_note(note: Note) -> None:
    """Delete a note, its lines, and (once that has committed) its files.
    Deleting a PDF deletes the stored PDF; the notes of its pages stay."""
    names = [f.name for f in (note.image, note.preview, note.thumbnail) if f.name]
    storage = note.image.storage
    with transaction.atomic():
        forget_words(note.owner_id, line_texts(note.lines.all()))
        note.delete()
        transaction.on_commit(lambda: delete_stored_files(storage, names))


def delete_notes(notes: list[Note]) -> int:
    """Delete several notes (the notes list's bulk bar), each as ``delete_note``; how many."""
    for note in notes:
        delete_note(note)
    return len(notes)


def delete_stored_files(storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)
