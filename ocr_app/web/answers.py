"""The pages' JSON answers (a note's status, an upload, a search's error...): the
API's serializers and its one error body, ``{"error": {"code", "message"}}``, so
that the pages' scripts and API clients read the same shapes."""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, JsonResponse

from ..api.errors import error_body, first_message
from ..api.note_serializers import serialized_notes
from ..models import Note
from ..services.review import ReviewError


@contextmanager
def refusal_shown(request: HttpRequest):
    """What a line's change is refused for (a line taken meanwhile, a text too long...)
    is said on the next page, instead of an error page."""
    try:
        yield
    except ReviewError as exc:
        messages.error(request, str(exc))


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def error(code: str, message: str, *, status: int = 400, **extra) -> JsonResponse:
    return JsonResponse(error_body(code, message, **extra), status=status)


def field_error(name: str, message: str) -> JsonResponse:
    """One wrong value, as the API's ``validation_error``."""
    fields = {name: [message]}
    return error("validation_error", first_message(fields), fields=fields)


def form_error(form: forms.Form) -> JsonResponse:
    """A form's errors as the API's serializer would give them: ``validation_error``
    with the messages per field; a language the engine cannot read is
    ``unsupported_language`` (checked, as by the API, once the rest is valid)."""
    fields = {name: list(messages) for name, messages in form.errors.items() if name != "language"}
    if not fields and "language" in form.errors:
        return error("unsupported_language", form.errors["language"][0])
    return error("validation_error", first_message(fields), fields=fields)


def note(request: HttpRequest, note: Note, *, status: int = 200) -> JsonResponse:
    """One of the user's notes as the API's ``NoteSerializer`` gives it."""
    return JsonResponse(serialized_notes(request.user, [note.pk], request=request)[note.pk], status=status)


def notes(request: HttpRequest, ids: list[int]) -> JsonResponse:
    """Those of the notes with these ids that the user has, as the API gives them."""
    return JsonResponse({"notes": list(serialized_notes(request.user, ids, request=request).values())})


def not_found_as_json(view=None, *, always: bool = False):
    """A missing note (or someone else's) is the API's ``not_found`` body, for a page
    that asked for JSON (``always``: a view that answers only JSON)."""

    def decorate(view):
        @wraps(view)
        def answering(request: HttpRequest, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except Http404 as exc:
                if not (always or wants_json(request)):
                    raise
                return error("not_found", str(exc) or "Not found.", status=404)

        return answering

    return decorate(view) if view else decorate
