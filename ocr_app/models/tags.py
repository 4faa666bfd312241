"""Tags: one user's labels on their notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .notes import Note


class Tag(models.Model):
    """A label one user gives to any number of their notes (``services.tags``).

    ``key`` is the name as tags are compared: case-folded, runs of spaces as one,
    so "To Do" and "to  do" are one tag; ``name`` is how the owner last wrote it.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    # Text: at most 64 characters as typed (tag_names.MAX_TAG_LENGTH), which
    # Unicode normalisation and case folding may lengthen.
    name = models.TextField()
    key = models.TextField()
    notes = models.ManyToManyField(Note, through="NoteTag", related_name="tags")

    class Meta:
        ordering = ["key", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="tag_unique_key_per_owner"),
            models.CheckConstraint(condition=~Q(key=""), name="tag_key_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class NoteTag(models.Model):
    """A tag on a note. ``owner`` repeats the owner of both: the services only
    link a note and a tag of the same user, and the index serves owner-wide lists."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="note_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="note_tags")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "tag"], name="notetag_unique_pair")]
        indexes = [models.Index(fields=["tag", "note"], name="notetag_tag_note_idx")]

    def __str__(self) -> str:
        return f"{self.tag_id} on note {self.note_id}"
