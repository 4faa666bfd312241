"""Every API error has the same body: ``{"error": {"code": "...", "message": "..."}}``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

# DRF's own codes, renamed where the API promises a different word.
CODES = {
    "not_found": "not_found",
    "not_authenticated": "not_authenticated",
    "authentication_failed": "not_authenticated",
    "permission_denied": "permission_denied",
    "throttled": "throttled",
    "method_not_allowed": "method_not_allowed",
    "parse_error": "parse_error",
    "unsupported_media_type": "unsupported_media_type",
    "not_acceptable": "not_acceptable",
}


class ApiError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"

    def __init__(self, message: str, code: str | None = None, status_code: int | None = None, fields: dict | None = None):
        super().__init__(message, code or self.default_code)
        self.code = code or self.default_code
        self.fields = fields  # the messages per parameter, when several can be wrong
        if status_code:
            self.status_code = status_code


class UnsupportedLanguage(ApiError):
    default_code = "unsupported_language"


class BadSearch(ApiError):
    default_code = "bad_query"

    @classmethod
    def from_validation(cls, exc: exceptions.ValidationError) -> "BadSearch":
        # Each parameter's message names it (``search.params``), as on the search page.
        return cls(first_message(next(iter(exc.detail.values()), exc.detail)), fields=exc.detail)


def first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            message = first_message(value)
            return message if field == "non_field_errors" else f"{field}: {message}"
        return "Invalid request."
    if isinstance(detail, list):
        return first_message(detail[0]) if detail else "Invalid request."
    return str(detail)


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling and logging take over
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("validation_error", first_message(exc.detail), fields=exc.detail)
    elif isinstance(exc, ApiError):
        body = error_body(exc.code, str(exc.detail), **({"fields": exc.fields} if exc.fields else {}))
    elif isinstance(exc, exceptions.APIException):
        code = CODES.get(exc.default_code, exc.default_code)
        body = error_body(code, str(exc.detail))
    else:
        body = error_body("error", str(getattr(exc, "detail", exc)))
    response.data = body
    return response
