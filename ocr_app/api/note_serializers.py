"""What the API sends about notes and lines, and accepts to change them; the error
body's shape. The pages' JSON answers are these too (``web.answers``)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..conf import inkdex
from ..models import Line, Note
from ..pipeline.engine_selection import available_engines, engine_languages
from ..review_rule import review_threshold
from .fields import TAGS_HELP, EngineField, LanguageField, TagsField, TitleField, checked_language


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. not_found, validation_error, invalid_image.")
    message = serializers.CharField(help_text="For people.")
    fields = serializers.DictField(required=False, help_text="validation_error only: the messages per field.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class BoxSerializer(serializers.Serializer):
    x = serializers.IntegerField()
    y = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


REVIEW_STATES = ["confident", "needs_review", "accepted", "corrected", "added"]


class LineSerializer(serializers.ModelSerializer):
    box = BoxSerializer(read_only=True, help_text="In pixels of the upright image (see the note's width and height).")
    review_state = serializers.SerializerMethodField(
        help_text="confident: not flagged when read; needs_review: waiting for a reviewer; "
        "accepted: a reviewer (or the owner) kept the text; corrected: they changed it; "
        "added: typed by a person, a line the engine did not read (ocr_text is empty)."
    )

    class Meta:
        model = Line
        fields = ["id", "order", "text", "confidence", "box", "needs_review", "review_state", "reviewed_at",
                  "ocr_text", "alternatives"]

    @extend_schema_field(serializers.ChoiceField(choices=REVIEW_STATES))
    def get_review_state(self, line: Line) -> str:
        if line.is_added:
            return "added"
        if line.reviewed_at is not None:
            return "corrected" if line.is_corrected else "accepted"
        return "needs_review" if line.needs_review else "confident"


class NoteSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    title = serializers.CharField(
        read_only=True, help_text="What the note is called: the owner's title, else its first line read with a "
        "confidence at or above the review threshold, else its file name (and page)."
    )
    title_set_by_owner = serializers.BooleanField(
        read_only=True, help_text="The owner gave the title; recognising the note again keeps it."
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    pending = serializers.BooleanField(
        source="is_pending", read_only=True, help_text="Queued, being recognised, or (a PDF) being split into pages."
    )
    kind = serializers.SerializerMethodField(
        help_text="image: a note; pdf: an uploaded PDF, split by the worker into one note per page "
        "(status splitting, then split; a split PDF is left out of the list, its pages are in it)."
    )
    page_number = serializers.IntegerField(read_only=True, allow_null=True, help_text="A page of a PDF: which one.")
    page_count = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="A page of a PDF, or a PDF once opened: how many pages it has."
    )
    source_pdf = serializers.PrimaryKeyRelatedField(
        source="source", read_only=True, allow_null=True, help_text="A page of a PDF: the PDF's id (null once the PDF is deleted)."
    )
    line_count = serializers.IntegerField(read_only=True, allow_null=True)
    flagged_count = serializers.IntegerField(read_only=True, allow_null=True, help_text="Lines that need review.")
    nothing_read = serializers.SerializerMethodField(
        help_text="Recognised, but without a single line: the engine found no text. Reprocess with another "
        "language or engine, or type the text on the note's page (it is in the review queue too)."
    )
    partly_unread = serializers.BooleanField(
        read_only=True,
        help_text="Recognised, but part of the page's writing lies outside every line found (at least "
        "INKDEX_UNREAD_INK_SHARE of its ink): the engine may have missed some. Always false for engines "
        "that cannot tell.",
    )
    carried_corrections = serializers.IntegerField(
        read_only=True, help_text="Lines people corrected, accepted or added that the last recognition kept."
    )
    url = serializers.SerializerMethodField(help_text="The API address of the note.")
    page_url = serializers.SerializerMethodField(help_text="The note's page in the web app.")
    image_url = serializers.SerializerMethodField(
        help_text="The original image, from the API: send the same Authorization header (or session)."
    )
    tags = serializers.SerializerMethodField(help_text="The note's tags (yours only), by name.")

    class Meta:
        model = Note
        fields = ["id", "name", "title", "title_set_by_owner", "kind", "status", "status_display", "pending", "error", "attempts", "language",
                  "width", "height", "uploaded_at", "finished_at", "engine_name", "line_count", "flagged_count",
                  "page_number", "page_count", "source_pdf", "url", "page_url", "image_url", "tags",
                  "nothing_read", "partly_unread", "carried_corrections"]
        read_only_fields = fields

    def get_tags(self, note: Note) -> list[str]:
        names = getattr(note, "tag_names", None)  # search results bring them along
        return names if names is not None else [tag.name for tag in note.tags.all()]

    def get_nothing_read(self, note: Note) -> bool:
        return note.has_nothing_read()

    @extend_schema_field(serializers.ChoiceField(choices=["image", "pdf"]))
    def get_kind(self, note: Note) -> str:
        return "pdf" if note.is_pdf else "image"

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, note: Note) -> str:
        return self._absolute(reverse("api:note_detail", args=[note.pk]))

    def get_page_url(self, note: Note) -> str:
        return self._absolute(note.get_absolute_url())

    def get_image_url(self, note: Note) -> str:
        return self._absolute(reverse("api:note_image", args=[note.pk, "original"]))


class NoteDetailSerializer(NoteSerializer):
    lines = LineSerializer(many=True, read_only=True)
    review_threshold = serializers.SerializerMethodField(
        help_text="Lines read under this confidence are flagged for review (lines read before a change keep their flag)."
    )
    pages = serializers.SerializerMethodField(help_text="A PDF: the ids of the notes made of its pages so far, in order.")
    warnings = serializers.SerializerMethodField(
        help_text="What the engine said about the note's last recognition, for people (e.g. it ran in trial mode); "
        "empty when it said nothing. The next recognition replaces them.",
    )

    class Meta(NoteSerializer.Meta):
        fields = [*NoteSerializer.Meta.fields, "partial_result", "warnings", "review_threshold", "pages", "lines"]
        read_only_fields = fields

    def get_warnings(self, note: Note) -> list[str]:
        return note.warnings or []  # null: not recognised since warnings were kept

    def get_pages(self, note: Note) -> list[int]:
        return list(note.pages.order_by("page_number").values_list("pk", flat=True)) if note.is_pdf else []

    def get_review_threshold(self, note: Note) -> float:
        return review_threshold()


def serialized_notes(user, note_ids, *, request) -> dict[int, dict]:
    """The user's notes with these ids as ``NoteSerializer`` gives them (line counts
    and tags read in one query each), by id."""
    notes = Note.objects.owned_by(user).with_line_counts().prefetch_related("tags").filter(pk__in=list(note_ids))
    return {note.pk: NoteSerializer(note, context={"request": request}).data for note in notes}


class NoteUpdateSerializer(serializers.Serializer):
    title = TitleField(
        required=False,
        help_text="The new title, at most 200 characters as sent: line breaks and runs of spaces become one space and "
        "it is trimmed. Blank (or only spaces): the title is chosen automatically again. Left out: unchanged.",
    )
    tags = TagsField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].help_text = TAGS_HELP + " Given: the note's tags become exactly these."


class ReprocessRequestSerializer(serializers.Serializer):
    engine = EngineField(choices=[], required=False, allow_blank=True, help_text="Blank or left out: the configured engine.")
    language = LanguageField(help_text="Blank or left out: the note's language.")

    # The fields' choices stay empty: the values are checked by chosen_engine and
    # chosen_language, and the schema's enums come from ReprocessRequestScheme.
    def validate(self, attrs):
        return checked_language(attrs)


class ReprocessRequestScheme(OpenApiSerializerExtension):
    """Which languages are valid depends on the engine: one alternative per engine,
    so that the schema allows exactly the pairs the server accepts."""

    target_class = ReprocessRequestSerializer

    def map_serializer(self, auto_schema, direction):
        default = inkdex().ocr_engine
        alternatives = []
        for engine in available_engines():
            names = [engine, ""] if engine == default else [engine]
            alternatives.append({
                "type": "object",
                **({} if engine == default else {"required": ["engine"]}),
                "properties": {
                    "engine": {"type": "string", "enum": names, "description": "Blank or left out: the configured engine."},
                    "language": {"type": "string", "enum": ["", *engine_languages(engine)],
                                 "description": "Blank or left out: the note's language."},
                },
            })
        return {"anyOf": alternatives}


# Some character that is not white space (a line of only spaces is refused), and no NUL.
LINE_TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


class LineCorrectionSerializer(serializers.Serializer):
    text = serializers.RegexField(
        LINE_TEXT_PATTERN, max_length=2000, trim_whitespace=False,
        help_text="The line's text as it should read (runs of white space become one space). "
        "Not blank, at most 2000 characters, no NUL.",
    )


class LineCorrectionScheme(OpenApiSerializerExtension):
    """``text`` is required, although the call is a PATCH (which would make every field optional)."""

    target_class = LineCorrectionSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["required"] = ["text"]
        return schema
