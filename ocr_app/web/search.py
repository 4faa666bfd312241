"""Search pages and their JSON twins. The parameters' rules and the results' data
are the search's own (``search.params``, ``search.payload``); the ``<mark>`` HTML
is added here."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..search import RELEVANCE, suggest
from ..search.payload import note_link, results_payload
from ..services.tags import user_tags
from ..tag_names import tag_key
from ..templatetags.highlight import highlight
from . import answers
from .forms import SearchForm, first_error


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    query, error, results, sort = request.GET.get("q", ""), None, None, RELEVANCE
    if form.is_valid():
        search = form.search_request()
        query, sort = search.query, search.sort
        if query or search.filters.has_tags:
            results = search.run(request.user)
            for result in results.notes:
                result.link = note_link(result.note.pk, query)
    else:
        error = first_error(form)
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
    form = SearchForm(request.GET)
    if not form.is_valid():
        # As the API's search: each message names its parameter.
        fields = {name: list(messages) for name, messages in form.errors.items()}
        return answers.error("bad_query", first_error(form), fields=fields)
    return JsonResponse(with_html(results_payload(form.search_request().run(request.user))))


@login_required
@require_GET
def suggest_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"suggestions": suggest(request.user, request.GET.get("q", "")[:64])})
