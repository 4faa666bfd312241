"""Search pages and their JSON twins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from ..services.tags import user_tags
from ..tag_names import tag_key
from ..search import MAX_PAGE, RELEVANCE, SORTS, Filters, SearchResults, search_notes, suggest


class BadSearch(ValueError):
    pass


def _day(request: HttpRequest, field: str) -> date | None:
    value = request.GET.get(field, "")
    if not value:
        return None
    try:
        day = parse_date(value) if len(value) == 10 else None
    except ValueError:
        day = None  # well-formed but no such day ("2026-13-45")
    if day is None:
        raise BadSearch(f"'{field}' must be a date like 2026-11-24.")
    return day


@dataclass(frozen=True)
class SearchRequest:
    query: str
    filters: Filters
    page: int
    sort: str

    def run(self, user, **options) -> SearchResults:
        return search_notes(user, self.query, filters=self.filters, page=self.page, sort=self.sort, **options)


def search_from_request(request: HttpRequest) -> SearchRequest:
    query = request.GET.get("q", "").strip()[:500]
    review = request.GET.get("review", "")
    try:
        filters = Filters.for_days(
            needs_review=True if review in {"1", "true", "on"} else None,
            uploaded_from=_day(request, "from"),
            uploaded_to=_day(request, "to"),
        )
    except ValueError as exc:
        raise BadSearch("'to' must be a date like 2026-11-24.") from exc  # the calendar's last day
    tag = tag_key(request.GET.get("tag", ""))
    if tag:
        filters = filters.with_tags([tag])
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError as exc:
        raise BadSearch("'page' must be a number.") from exc
    if page > MAX_PAGE:
        raise BadSearch(f"'page' must be at most {MAX_PAGE}.")
    sort = request.GET.get("sort") or RELEVANCE
    if sort not in SORTS:
        raise BadSearch(f"'sort' must be one of: {', '.join(SORTS)}.")
    return SearchRequest(query, filters, page, sort)


def _note_link(note_id: int, query: str) -> str:
    return reverse("ocr_app:note_detail", args=[note_id]) + "?" + urlencode({"q": query})


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    error, results, sort = None, None, RELEVANCE
    try:
        search = search_from_request(request)
        query, sort = search.query, search.sort
        if query or search.filters.has_tags:
            results = search.run(request.user)
            for result in results.notes:
                result.link = _note_link(result.note.pk, query)
    except BadSearch as exc:
        query, error = request.GET.get("q", ""), str(exc)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "ocr_app/search.html",
        {
            "query": query,
            "results": results,
            "error": error,
            "sort": sort,
            "base_params": params.urlencode(),
            "tags": user_tags(request.user),
            "tag": request.GET.get("tag", ""),
            "tag_key": tag_key(request.GET.get("tag", "")),
        },
    )


def results_payload(results: SearchResults) -> dict:
    return {
        "query": results.query,
        "page": results.page,
        "has_next": results.has_next,
        "sort": results.sort,
        "count": results.count,
        "count_capped": results.count_capped,
        "approximate_count": results.approximate_count,
        "fuzzy_words": results.expansions,
        "notes": [
            {
                "id": r.note.pk,
                "name": r.note.file_title,
                "title": r.note.title,
                "title_highlighted_html": str(r.title_html),
                "url": _note_link(r.note.pk, results.query),
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
                        "highlighted_html": str(lr.html),
                        "confidence": lr.line.confidence,
                        "box": {"x": lr.line.x, "y": lr.line.y, "width": lr.line.width, "height": lr.line.height},
                    }
                    for lr in r.lines
                ],
            }
            for r in results.notes
        ],
    }


@login_required
@require_GET
def search_json(request: HttpRequest) -> JsonResponse:
    try:
        search = search_from_request(request)
    except BadSearch as exc:
        return JsonResponse({"error": "bad_query", "message": str(exc)}, status=400)
    return JsonResponse(results_payload(search.run(request.user)))


@login_required
@require_GET
def suggest_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"suggestions": suggest(request.user, request.GET.get("q", "")[:64])})
