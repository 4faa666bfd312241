"""Tags: labels a user gives to their notes, any number per note.

Every function works on one owner's tags and notes only: a tag or note id of
another user is treated as missing (``TagNotFound`` / ``Note.DoesNotExist``,
a 404 for pages and the API), never as someone else's.

Tags compare by ``tag_key``: case-folded, with runs of spaces as one; the name
keeps the case the owner wrote (the first time, or on renaming).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from ..models import Note, NoteStatus, NoteTag, Tag
from ..row_ids import row_id
from ..tag_names import InvalidTag, clean_tag_name, parse_tag_names, tag_key

__all__ = ["InvalidTag", "TagNotFound", "clean_tag_name", "parse_tag_names", "tag_key", "user_tags", "owned_tag",
           "get_or_create_tags", "add_tags", "remove_tag", "set_note_tags", "rename_tag", "delete_tag",
           "tag_names_of", "link_tags", "copy_tags"]

class TagNotFound(LookupError):
    pass


def user_tags(owner):
    """The owner's tags, by name, each with ``note_count``: the notes lists show
    (a split PDF is shown as its pages, which have its tags)."""
    listed = Count("note_tags", filter=~Q(note_tags__note__status=NoteStatus.SPLIT))
    return Tag.objects.filter(owner=owner).annotate(note_count=listed).order_by("key", "pk")


def owned_tag(owner, tag_id) -> Tag:
    try:
        return Tag.objects.get(owner=owner, pk=row_id(tag_id))
    except (Tag.DoesNotExist, ValueError, TypeError, OverflowError):
        raise TagNotFound("No such tag.") from None


def get_or_create_tags(owner, names: Iterable[str]) -> list[Tag]:
    """The owner's tags with these names, made where missing (names already cleaned)."""
    tags = []
    for name in names:
        key = tag_key(name)
        tag = Tag.objects.filter(owner=owner, key=key).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(owner=owner, name=name, key=key)
            except IntegrityError:  # made meanwhile by another request
                tag = Tag.objects.get(owner=owner, key=key)
        tags.append(tag)
    return tags


def owned_notes(owner, note_ids: Iterable[int]) -> list[Note]:
    """The owner's notes with these ids; Note.DoesNotExist when any is not theirs or missing."""
    try:
        ids = {row_id(pk) for pk in note_ids}
    except ValueError:
        raise Note.DoesNotExist("No such note.") from None
    notes = list(Note.objects.owned_by(owner).filter(pk__in=ids))
    if len(notes) != len(ids):
        raise Note.DoesNotExist("No such note.")
    return notes


def link_tags(owner, notes: list[Note], tags: list[Tag]) -> None:
    """Put the tags on the notes (those already there stay once)."""
    # Both sides are the owner's: the one place a note and a tag are linked.
    if not notes or not tags:
        return
    if any(n.owner_id != owner.pk for n in notes) or any(t.owner_id != owner.pk for t in tags):
        raise ValueError("A note and a tag of different users are never linked.")
    NoteTag.objects.bulk_create(
        [NoteTag(note=note, tag=tag, owner=owner) for note in notes for tag in tags], ignore_conflicts=True
    )


@transaction.atomic
def add_tags(*, owner, note_ids: Iterable[int], names: Iterable[str]) -> list[Tag]:
    """Give the named tags (made where missing) to the owner's notes: one note
    (its page), or several (the notes list's bulk bar). All or nothing."""
    notes = owned_notes(owner, note_ids)
    tags = get_or_create_tags(owner, parse_tag_names(names))
    link_tags(owner, notes, tags)
    return tags


@transaction.atomic
def remove_tag(*, owner, note_id: int, tag_id) -> None:
    """Take a tag off one of the owner's notes (the tag stays, for other notes)."""
    note = owned_notes(owner, [note_id])[0]
    tag = owned_tag(owner, tag_id)
    NoteTag.objects.filter(note=note, tag=tag).delete()


@transaction.atomic
def set_note_tags(*, owner, note: Note, names: Iterable[str]) -> list[Tag]:
    """Make the note's tags exactly these (the API's PATCH)."""
    tags = get_or_create_tags(owner, parse_tag_names(names))
    NoteTag.objects.filter(note=note).exclude(tag__in=tags).delete()
    link_tags(owner, [note], tags)
    return tags


@transaction.atomic
def rename_tag(*, owner, tag_id, new_name: str) -> Tag:
    """Rename a tag everywhere it is used. Renaming onto the name of another of
    the owner's tags merges the two: that tag gets this one's notes and this
    one goes. Returns the tag that remains."""
    tag = owned_tag(owner, tag_id)
    name = clean_tag_name(new_name)
    key = tag_key(name)
    target = Tag.objects.select_for_update().filter(owner=owner, key=key).exclude(pk=tag.pk).first()
    if target is None:
        tag.name, tag.key = name, key
        tag.save(update_fields=["name", "key"])
        return tag
    note_ids = NoteTag.objects.filter(tag=tag).values_list("note_id", flat=True)
    NoteTag.objects.bulk_create(
        [NoteTag(note_id=pk, tag=target, owner=owner) for pk in note_ids], ignore_conflicts=True
    )
    tag.delete()
    target.name = name
    target.save(update_fields=["name"])
    return target


def delete_tag(*, owner, tag_id) -> None:
    """Delete a tag; the notes stay, without it."""
    owned_tag(owner, tag_id).delete()


def copy_tags(source: Note, note: Note) -> None:
    """Give ``note`` the tags of ``source`` (a PDF's page: the PDF's), both one owner's."""
    tags = list(Tag.objects.filter(owner_id=note.owner_id, note_tags__note=source))
    link_tags(note.owner, [note], tags)


def tag_names_of(note_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each note's tag names, sorted (one query, for lists)."""
    names: dict[int, list[str]] = {}
    for note_id, name in (
        NoteTag.objects.filter(note_id__in=list(note_ids)).order_by("tag__key").values_list("note_id", "tag__name")
    ):
        names.setdefault(note_id, []).append(name)
    return names
