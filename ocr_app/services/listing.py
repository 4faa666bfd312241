"""The notes list's sort orders and filters: what the page offers, read and
checked from its query string, and applied to the owner's notes.

Fast for one owner's 50,000 notes (``bench/notes_list.py``): every sort and
filter is served by an index (migration 0016), the page is found without
counting every matching note, and line counts are made for the page's notes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.db.models.functions import Lower

from ..models import Line, Note, NoteStatus
from ..search import Filters, filtered_notes
from ..tag_names import tag_key
from .tags import tag_names_of


@dataclass(frozen=True)
class SortOption:
    key: str
    label: str
    order_by: tuple  # field names and expressions, as QuerySet.order_by takes them


# The first is the default. Every order ends with the primary key, so pages never
# overlap or skip a note with the same upload time.
SORTS = [
    SortOption("-uploaded", "Newest first", ("-uploaded_at", "-pk")),
    SortOption("uploaded", "Oldest first", ("uploaded_at", "pk")),
    # Grouped by status, newest first within each.
    SortOption("status", "Status", ("status", "-uploaded_at", "-pk")),
    # A to Z whatever the case, the same on every database (an index on the lowered title).
    SortOption("title", "Title", (Lower("title"), "-uploaded_at", "-pk")),
]
SORTS_BY_KEY = {option.key: option for option in SORTS}

# Every status a listed note can have (a split PDF is listed as its pages).
STATUSES = [(value, label) for value, label in NoteStatus.choices if value != NoteStatus.SPLIT]
_STATUS_VALUES = {value for value, _ in STATUSES}
_YES = {"1", "true", "on"}
_NO = {"", "0", "false", "off"}


@dataclass(frozen=True)
class NoteListOptions:
    """What the owner chose: one sort and any of the filters."""

    sort: str = SORTS[0].key
    status: str = ""
    review: bool = False
    nothing_read: bool = False
    tag: str = ""  # a tag's name, as the owner wrote it (compared by its key)
    errors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, params) -> "NoteListOptions":
        """Read from a query string; a value that is not offered is left at its
        default and named in ``errors`` (the page says so instead of failing)."""
        errors = []
        sort = params.get("sort", "") or SORTS[0].key
        if sort not in SORTS_BY_KEY:
            errors.append(f"Unknown sort order {sort[:40]!r}; showing newest first.")
            sort = SORTS[0].key
        status = params.get("status", "")
        if status and status not in _STATUS_VALUES:
            errors.append(f"Unknown status {status[:40]!r}; showing every status.")
            status = ""
        flags = {}
        for name, label in (("review", "needs review"), ("nothing_read", "nothing read")):
            value = params.get(name, "").lower()
            if value not in _YES | _NO:
                errors.append(f"The “{label}” filter is on (1) or off (0), not {value[:40]!r}.")
            flags[name] = value in _YES
        tag = " ".join(params.get("tag", "").split())[:64]
        return cls(sort=sort, status=status, tag=tag, errors=tuple(errors), **flags)

    @property
    def is_filtered(self) -> bool:
        return bool(self.status or self.review or self.nothing_read or self.tag)

    def apply(self, notes):
        """``notes`` (a queryset of one owner's listed notes) filtered and sorted."""
        if self.status:
            notes = notes.filter(status=self.status)
        if self.review:
            notes = notes.needing_review()
        if self.nothing_read:
            notes = notes.nothing_read()
        if self.tag:
            notes = filtered_notes(notes, Filters(tags=(tag_key(self.tag),)))
        return notes.order_by(*SORTS_BY_KEY[self.sort].order_by)

    def query_string(self, **changes) -> str:
        """These options (with ``changes``) as a query string, defaults left out:
        for the pager's links and the sort links."""
        options = replace(self, **changes) if changes else self
        params = {
            "sort": options.sort if options.sort != SORTS[0].key else "",
            "status": options.status,
            "review": "1" if options.review else "",
            "nothing_read": "1" if options.nothing_read else "",
            "tag": options.tag,
        }
        return urlencode({key: value for key, value in params.items() if value})


PER_PAGE = 24
MAX_PAGE = 100_000  # far past any list; keeps the offset a number every database takes


@dataclass(frozen=True)
class ListPage:
    """One page of the list, found without counting every matching note: a count
    would have to test each of an owner's 50,000 notes against the filters (e.g. a
    look for lines in each, for *nothing read*) on every request."""

    notes: list[Note]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next


def page_of(notes, page: str | None, per_page: int = PER_PAGE) -> ListPage:
    """Page ``page`` (1-based; anything else is the first) of the sorted queryset
    ``notes``, its notes with their line counts and tag names."""
    try:
        number = min(max(int(page or 1), 1), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    found = list(notes[start : start + per_page + 1])  # one more: is there a next page?
    shown = add_line_counts(found[:per_page])
    names = tag_names_of(note.pk for note in shown)  # one query for the page's tags too
    for note in shown:
        note.tag_names = names.get(note.pk, [])
    return ListPage(shown, number, len(found) > per_page)


def add_line_counts(notes: list[Note]) -> list[Note]:
    """Give each note ``line_count`` and ``flagged_count``, counted for these notes
    only (one query), not for every note the list's query could reach."""
    counts = {
        row["note_id"]: row
        for row in Line.objects.filter(note_id__in=[note.pk for note in notes])
        .order_by()
        .values("note_id")
        .annotate(line_count=Count("pk"), flagged_count=Count("pk", filter=Q(needs_review=True)))
    }
    for note in notes:
        row = counts.get(note.pk, {})
        note.line_count = row.get("line_count", 0)
        note.flagged_count = row.get("flagged_count", 0)
    return notes

