"""A search as people ask for it, by parameters (``q``, ``from``, ``to``,
``review``, ``tag``, ``page``, ``sort``: the search page, ``/search.json`` and the
API take the same): each value checked by one function here, whichever form or
serializer read it, then made into a query and filters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ..tag_names import tag_key
from . import MAX_PAGE, RELEVANCE, SORTS, Filters, SearchResults, search_notes

QUERY_LENGTH = 500  # the query's first 500 characters count
REVIEW_VALUES = ("1", "true", "on")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PAGE = re.compile(r"[0-9]{1,9}")


class InvalidSearchParameter(ValueError):
    """A parameter that cannot be used; ``str(exc)`` names it and says why, for people."""


def clean_query(text: str) -> str:
    return text.strip()[:QUERY_LENGTH]


def parse_day(value: str, name: str) -> date:
    """A day written YYYY-MM-DD, and only so (``date.fromisoformat`` would also take 20261124)."""
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass  # well-formed but no such day ("2026-13-45")
    raise InvalidSearchParameter(f"'{name}' must be a date like 2026-11-24.")


def parse_page(value: str | int) -> int:
    """A page number from 1 to MAX_PAGE, written in digits."""
    if isinstance(value, int) or (isinstance(value, str) and _PAGE.fullmatch(value)):
        if 1 <= int(value) <= MAX_PAGE:
            return int(value)
    raise InvalidSearchParameter(f"'page' must be a number from 1 to {MAX_PAGE}.")


def parse_review(value: str) -> bool:
    """Only notes with lines waiting for review: what a ticked box sends."""
    if value in REVIEW_VALUES:
        return True
    raise InvalidSearchParameter(f"'review' must be one of: {', '.join(REVIEW_VALUES)} (or left out).")


def parse_sort(value: str) -> str:
    if value in SORTS:
        return value
    raise InvalidSearchParameter(f"'sort' must be one of: {', '.join(SORTS)}.")


@dataclass(frozen=True)
class SearchRequest:
    """What to search for, among which notes, which page, in which order."""

    query: str
    filters: Filters
    page: int = 1
    sort: str = RELEVANCE

    def run(self, user, **options) -> SearchResults:
        return search_notes(user, self.query, filters=self.filters, page=self.page, sort=self.sort, **options)


def search_request(*, query: str = "", uploaded_from: date | None = None, uploaded_to: date | None = None,
                   needs_review: bool = False, tags: Iterable[str] = (), page: int = 1,
                   sort: str = RELEVANCE) -> SearchRequest:
    """The search that checked parameters ask for. ``tags``: names, any case;
    the notes have each of them (as ``tag:NAME`` in the query)."""
    filters = Filters.for_days(
        needs_review=True if needs_review else None,
        uploaded_from=uploaded_from,
        # Up to the calendar's last day is up to any day.
        uploaded_to=None if uploaded_to == date.max else uploaded_to,
    )
    keys = [key for key in map(tag_key, tags) if key]
    return SearchRequest(clean_query(query), filters.with_tags(keys) if keys else filters, page, sort)
