"""What the API's search takes and sends: its parameters, each checked by the
function of ``search.params`` the search page's form uses too, and its results,
the HTML marked up by the ``highlight`` filter as on the pages."""

from __future__ import annotations

from rest_framework import serializers

from ..search import MAX_PAGE, SORTS
from ..search.params import REVIEW_VALUES, InvalidSearchParameter, parse_day, parse_page, parse_review, parse_sort
from ..templatetags.highlight import highlight
from .fields import TextField
from .note_serializers import BoxSerializer, NoteSerializer


def _checked(parse, *args):
    """``parse`` (from ``search.params``, as the search page's form checks the same parameter)."""
    try:
        return parse(*args)
    except InvalidSearchParameter as exc:
        raise serializers.ValidationError(str(exc)) from exc


class DayField(serializers.DateField):
    """A day written YYYY-MM-DD, and only so."""

    def to_internal_value(self, value):
        return _checked(parse_day, value, self.field_name)


class PageField(serializers.IntegerField):
    def to_internal_value(self, value):
        return _checked(parse_page, value)


class ReviewField(serializers.ChoiceField):
    def to_internal_value(self, value):
        return _checked(parse_review, value)


class SortField(serializers.ChoiceField):
    def to_internal_value(self, value):
        return _checked(parse_sort, value)


# "from" is a Python keyword, hence the class made by type().
SearchParamsSerializer = type("SearchParamsSerializer", (serializers.Serializer,), {
    "q": TextField(required=False, allow_blank=True, trim_whitespace=False,
                               help_text='Words, "a phrase", prefix*, -excluded, a OR b, tag:work, tag:"to do", -tag:work '
                               "(the first 500 characters count). A query of tag: terms only lists the notes so "
                               "tagged, newest first."),
    "from": DayField(required=False, help_text="Uploaded on or after this day."),
    "to": DayField(required=False, help_text="Uploaded on or before this day."),
    "review": ReviewField(choices=list(REVIEW_VALUES), required=False, help_text="Only notes with lines that need review."),
    "page": PageField(required=False, min_value=1, max_value=MAX_PAGE, help_text="1-based."),
    "tag": TextField(required=False, allow_blank=True, trim_whitespace=False,
                      help_text="Only notes with this tag (any case); the same as tag:NAME in q."),
    "sort": SortField(choices=list(SORTS), required=False,
                      help_text="relevance (the default): best match first; date: newest upload first."),
})


class SearchLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="line.pk")
    order = serializers.IntegerField(source="line.order")
    text = serializers.CharField(source="line.text")
    highlighted_html = serializers.SerializerMethodField(help_text="The text, HTML-escaped, matches in <mark>.")
    confidence = serializers.FloatField(source="line.confidence")
    box = BoxSerializer(source="line.box", read_only=True)

    def get_highlighted_html(self, result) -> str:
        return highlight(result.line.text, result.highlights)


class SearchResultSerializer(serializers.Serializer):
    note = NoteSerializer()
    score = serializers.FloatField()
    approximate = serializers.BooleanField(source="fuzzy", help_text="Found through a close word, not the word itself.")
    matching_lines = serializers.IntegerField(source="match_count", help_text="Lines holding any of the query's words.")
    lines = SearchLineSerializer(
        many=True, help_text="Up to three lines holding the query's words (closest together first), in the note's order."
    )


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    page = serializers.IntegerField()
    has_next = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    sort = serializers.ChoiceField(choices=["relevance", "date"])
    count = serializers.IntegerField(
        help_text="Notes matching exactly, counted up to the ranking window of the newest 500 (see count_capped)."
    )
    count_capped = serializers.BooleanField(
        help_text="The window is full: count notes or more match; the newest count are ranked, older ones follow."
    )
    approximate_count = serializers.IntegerField(
        allow_null=True,
        help_text="Notes found only through close words; null when the exact matches filled the page "
        "and close words were not looked up.",
    )
    fuzzy_words = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="For each query word, the close words also searched.",
    )
    results = SearchResultSerializer(many=True)
