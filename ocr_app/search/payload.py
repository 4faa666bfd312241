"""A results page as JSON data, the same for ``/search.json`` (which adds the
HTML the page shows) and ``manage.py search --json``: plain text and where the
query's words are in it (``highlights``: [start, end] character offsets), never
markup."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode

from . import SearchResults


def note_link(note_id: int, query: str) -> str:
    """The note's page, with the query's lines marked on it."""
    return reverse("ocr_app:note_detail", args=[note_id]) + "?" + urlencode({"q": query})


def results_summary(results: SearchResults) -> dict:
    """What every JSON answer of a search says about the page of results as a whole."""
    return {
        "query": results.query,
        "page": results.page,
        "has_next": results.has_next,
        "sort": results.sort,
        "count": results.count,
        "count_capped": results.count_capped,
        "approximate_count": results.approximate_count,
        "fuzzy_words": results.expansions,
    }


def results_payload(results: SearchResults) -> dict:
    return {
        **results_summary(results),
        "notes": [
            {
                "id": r.note.pk,
                "name": r.note.file_title,
                "title": r.note.title,
                "title_highlights": [list(span) for span in r.title_highlights],
                "url": note_link(r.note.pk, results.query),
                "uploaded_at": r.note.uploaded_at.isoformat(),
                "tags": r.note.tag_names,
                "score": round(r.score, 4),
                "approximate": r.fuzzy,
                "matching_lines": r.match_count,
                "lines": [
                    {
                        "id": lr.line.pk,
                        "order": lr.line.order,
                        "text": lr.line.text,
                        "highlights": [list(span) for span in lr.highlights],
                        "confidence": lr.line.confidence,
                        "box": lr.line.box.as_dict(),
                    }
                    for lr in r.lines
                ],
            }
            for r in results.notes
        ],
    }
