"""Search pages and their JSON twins. The parameters' rules and the results' data
are the search's own (``search.params``, ``search.payload``); the ``<mark>`` HTML
is added here."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..search import RELEVANCE, suggest
from ..search.params import InvalidSearchParameter, SearchRequest
from ..search.payload import note_link, results_payload
from ..services.tags import user_tags
from ..tag_names import tag_key
from ..templatetags.highlight import highlight
from .forms import SearchForm, first_error


def search_from_request(request: HttpRequest) -> SearchRequest:
    form = SearchForm(request.GET)
    if not form.is_valid():
        raise InvalidSearchParameter(first_error(form))
    return form.search_request()


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
                result.link = note_link(result.note.pk, query)
    except InvalidSearchParameter as exc:
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


def with_html(payload: dict) -> dict:
    """``results_payload`` with the HTML the page shows: the text escaped, the words in <mark>."""
    for note in payload["notes"]:
        note["title_highlighted_html"] = highlight(note["title"], note["title_highlights"])
        for line in note["lines"]:
            line["highlighted_html"] = highlight(line["text"], line["highlights"])
    return payload


@login_required
@require_GET
def search_json(request: HttpRequest) -> JsonResponse:
    try:
        search = search_from_request(request)
    except InvalidSearchParameter as exc:
        return JsonResponse({"error": "bad_query", "message": str(exc)}, status=400)
    return JsonResponse(with_html(results_payload(search.run(request.user))))


@login_required
@require_GET
def suggest_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"suggestions": suggest(request.user, request.GET.get("q", "")[:64])})
