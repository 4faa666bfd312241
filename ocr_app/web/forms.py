"""What the pages' requests may hold: search, upload and reprocess. Each value is
checked by the same function the API's serializers call (``search.params``,
``services.uploads``, ``tag_names``), so that the page and the API take and refuse
the same values, with the same messages. A blank field (what an empty form field
sends) counts as left out."""

from __future__ import annotations

from django import forms
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.fields import BooleanField as ApiBoolean

from ..api.fields import allowing_nul
from ..row_ids import row_id
from ..search import RELEVANCE
from ..search.params import (InvalidSearchParameter, SearchRequest, parse_day, parse_page, parse_review, parse_sort,
                             search_request)
from ..services.uploads import NO_FILES, InvalidUpload, chosen_engine, chosen_language
from ..tag_names import InvalidTag, parse_tag_names


def first_error(form: forms.Form) -> str:
    """The message of the form's first wrong field (each message says which value it means)."""
    return next(iter(form.errors.values()))[0]


class TextField(forms.CharField):
    """Any text, as typed (not trimmed): a NUL separates words as any other
    character that is not part of one, instead of making the form invalid."""

    def __init__(self, **kwargs):
        super().__init__(required=False, strip=False, **kwargs)
        self.validators = allowing_nul(self.validators)


class CheckedField(forms.Field):
    """One value, checked by ``check`` (one of the shared functions); blank: left out (None)."""

    def __init__(self, check, *args, errors=(ValueError,), **kwargs):
        super().__init__(required=False, **kwargs)
        self.check, self.args, self.errors = check, args, errors

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.check(value, *self.args)
        except self.errors as exc:
            raise forms.ValidationError(str(exc)) from exc


class FlagField(forms.Field):
    """Yes or no, read by the API's own boolean field (true, True, 1, on, yes...); blank: no."""

    def to_python(self, value):
        if value in self.empty_values:
            return False
        try:
            return ApiBoolean().to_internal_value(value)
        except ApiValidationError as exc:
            raise forms.ValidationError(exc.detail[0]) from exc


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class FilesField(forms.Field):
    """Every file sent under the field's name (their contents are the upload service's to check)."""

    widget = MultipleFileInput

    def to_python(self, value) -> list:
        return list(value or [])


class TagsField(forms.Field):
    """Tag names from every value sent under the field's name, as ``tag_names.parse_tag_names`` takes them."""

    widget = forms.MultipleHiddenInput  # reads every value, not just the last

    def to_python(self, value) -> list[str]:
        try:
            return parse_tag_names(value or [])
        except InvalidTag as exc:
            raise forms.ValidationError(str(exc)) from exc


class NoteIdsField(forms.Field):
    """Note ids separated by commas (at most ``most`` of them are kept)."""

    def __init__(self, *, most: int, **kwargs):
        super().__init__(required=False, **kwargs)
        self.most = most

    def to_python(self, value) -> list[int]:
        try:
            return [row_id(part) for part in (value or "").split(",") if part][: self.most]
        except ValueError as exc:
            raise forms.ValidationError("Must be note numbers separated by commas.") from exc


class NoteStatusForm(forms.Form):
    """Which notes a live list follows (``/notes/status.json?ids=``)."""

    ids = NoteIdsField(most=200)


class SearchForm(forms.Form):
    """The search page's and ``/search.json``'s parameters, as the API's search takes them."""

    q = TextField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: no class attribute can be called so. In the API's order.
        checked = dict(errors=(InvalidSearchParameter,))
        self.fields["from"] = CheckedField(parse_day, "from", **checked)
        self.fields["to"] = CheckedField(parse_day, "to", **checked)
        self.fields["review"] = CheckedField(parse_review, **checked)
        self.fields["tag"] = TextField()
        self.fields["page"] = CheckedField(parse_page, **checked)
        self.fields["sort"] = CheckedField(parse_sort, **checked)

    def search_request(self) -> SearchRequest:
        found = self.cleaned_data
        return search_request(
            query=found["q"], uploaded_from=found["from"], uploaded_to=found["to"], needs_review=bool(found["review"]),
            tags=[found["tag"]], page=found["page"] or 1, sort=found["sort"] or RELEVANCE,
        )


class UploadForm(forms.Form):
    """One or more files, with the language and tags they all get."""

    images = FilesField(error_messages={"required": NO_FILES})
    tags = TagsField(required=False)
    language = CheckedField(chosen_language, errors=(InvalidUpload,))
    allow_duplicates = FlagField(required=False)


class ReprocessForm(forms.Form):
    """Recognise a note again: with which engine (blank: the configured one), in which
    language (blank: the note's), one that engine reads."""

    engine = CheckedField(chosen_engine, errors=(InvalidUpload,))
    language = TextField()

    def clean_language(self) -> str | None:
        if "engine" in self.errors:
            return None  # which languages are right depends on the engine
        try:
            return chosen_language(self.cleaned_data["language"], self.cleaned_data.get("engine"))
        except InvalidUpload as exc:
            raise forms.ValidationError(str(exc)) from exc
