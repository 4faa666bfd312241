"""Field types of the API's requests, each checked by the function the pages' forms
call too (``services.uploads``, ``services.titles``, ``tag_names``)."""

from __future__ import annotations

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers

from ..models import TITLE_MAX_LENGTH
from ..services.titles import InvalidTitle, clean_title
from ..services.uploads import InvalidUpload, chosen_engine, chosen_language
from ..tag_names import MAX_TAG_LENGTH, InvalidTag, parse_tag_names
from .errors import UnsupportedLanguage


def allowing_nul(validators: list) -> list:
    """``validators`` without Django's NUL check: a NUL counts as a space (a separator
    in a query, a space in a tag or title), as everywhere else, instead of a refusal."""
    return [v for v in validators if not isinstance(v, ProhibitNullCharactersValidator)]


class TextField(serializers.CharField):
    """A JSON string and only that (CharField would take 5 or true as "5", "True"):
    the schema says string. Control characters (NUL too) are left to the service."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = allowing_nul(self.validators)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TitleField(TextField):
    """A note's title, refused by ``titles.clean_title`` (what the page calls) with its message."""

    def __init__(self, **kwargs):
        super().__init__(max_length=TITLE_MAX_LENGTH, allow_blank=True, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            clean_title(text)
        except InvalidTitle as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return text


class LanguageField(serializers.ChoiceField):
    """A language code the engine reads (blank: the configured default; the choices
    are the schema's enum). Checked in the serializer's ``validate`` (it depends on the
    engine) by ``chosen_language``, as the pages' forms check it."""

    def __init__(self, **kwargs):
        super().__init__(choices=[], required=False, allow_blank=True, **kwargs)

    def to_internal_value(self, data):
        return data


def checked_language(attrs: dict) -> dict:
    """``attrs`` with the language checked against the engine's; ``unsupported_language`` if it is not one."""
    try:
        return {**attrs, "language": chosen_language(attrs.get("language"), attrs.get("engine"))}
    except InvalidUpload as exc:
        raise UnsupportedLanguage(str(exc)) from exc


class EngineField(serializers.ChoiceField):
    """One of the engines installed (the choices), as ``chosen_engine`` takes it; blank: the configured one."""

    def to_internal_value(self, data):
        try:
            return chosen_engine(data)
        except InvalidUpload as exc:
            raise serializers.ValidationError(str(exc)) from exc


TAGS_HELP = (
    f"Tag names; several in one value are separated by commas. Case and repeated spaces do not make "
    f"a tag different (Work and work are one tag); blank names are skipped. Each value at most "
    f"{MAX_TAG_LENGTH} characters; control characters count as spaces."
)


class TagValueField(serializers.CharField):
    """One value of a tags field: a name, or names separated by commas (empty names
    are skipped); control characters (a NUL too) count as spaces, as in a query."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, max_length=MAX_TAG_LENGTH, **kwargs)
        self.validators = allowing_nul(self.validators)


class TagsField(serializers.ListField):
    """Tag names as ``tag_names.parse_tag_names`` takes them, refused with validation_error."""

    def __init__(self, **kwargs):
        super().__init__(child=TagValueField(), help_text=TAGS_HELP, **kwargs)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        try:
            return parse_tag_names(values)
        except InvalidTag as exc:
            raise serializers.ValidationError(str(exc)) from exc
