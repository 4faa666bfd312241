"""What the API's upload takes and answers; the upload page's JSON answer is this too."""

from __future__ import annotations

from rest_framework import serializers

from ..conf import inkdex
from ..images import ACCEPTED_FORMATS
from ..pipeline.engine_selection import engine_languages
from ..services.uploads import NO_FILES, UploadOutcome, upload_status
from .errors import error_body
from .fields import LanguageField, TagsField, checked_language
from .note_serializers import ErrorDetailSerializer, NoteSerializer, serialized_notes

# What an upload may hold; the format is detected from the content, whatever the part says.
IMAGE_CONTENT_TYPES = sorted({content_type for _, content_type, _ in ACCEPTED_FORMATS.values()})
UPLOAD_CONTENT_TYPES = [*IMAGE_CONTENT_TYPES, "application/pdf"]
MIN_IMAGE_SIDE = 16  # see images.inspect_image


def upload_description() -> str:
    limit_mb = inkdex().max_upload_bytes / 1024 / 1024
    megapixels = inkdex().max_image_pixels / 1_000_000
    return (
        f"One or more files; repeat the field for several. Accepted: {', '.join(UPLOAD_CONTENT_TYPES)} "
        f"(the format is detected from the content), each at most {limit_mb:g} MB and {megapixels:g} megapixels, "
        f"at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels, complete (not truncated); a PDF gives one note a page "
        f"(at most {inkdex().max_pdf_pages} pages). A file that is not is refused with code invalid_image "
        "in its result."
    )


class UploadRequestSerializer(serializers.Serializer):
    images = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False), allow_empty=False,
        error_messages={"required": NO_FILES, "empty": NO_FILES},
    )
    tags = TagsField(required=False)
    language = LanguageField(help_text="The notes' language (blank or left out: the configured default).")
    allow_duplicates = serializers.BooleanField(
        required=False, default=False,
        help_text="Store files even when you already have a note with the same content (for a PDF, the PDF's "
        "own content). Without it such a file is not stored: its result has code duplicate and the note's id.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when used, not at import: the configured engine's languages.
        self.fields["language"].choices = engine_languages()
        self.fields["images"].help_text = upload_description()

    def validate(self, attrs):
        return checked_language(attrs)


UPLOAD_ERROR_CODES = ["invalid_image", "storage_failed", "duplicate"]


class UploadErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=UPLOAD_ERROR_CODES,
        help_text="invalid_image: not a usable image or PDF; storage_failed: try again; "
        "duplicate: you already have a note with this content (send allow_duplicates to store it anyway).",
    )
    message = serializers.CharField(help_text="For people.")
    note = serializers.IntegerField(required=False, help_text="duplicate only: the id of the note you already have.")


class UploadResultSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The file's name as sent.")
    ok = serializers.BooleanField()
    error = UploadErrorSerializer(allow_null=True, help_text="Why this file was not stored (the others are kept).")
    note = NoteSerializer(allow_null=True)


class UploadResponseSerializer(serializers.Serializer):
    results = UploadResultSerializer(many=True)


class UploadFailedSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
    results = UploadResultSerializer(many=True, required=False, help_text="When files were sent: each one's result.")


def upload_error(outcome: UploadOutcome) -> dict:
    error = {"code": outcome.code or "invalid_image", "message": outcome.error}
    if outcome.duplicate_of is not None:
        error["note"] = outcome.duplicate_of.pk
    return error


def upload_answer(outcomes: list[UploadOutcome], *, request) -> tuple[dict, int]:
    """The body and status answering an upload (the API's, and the upload page's
    when it asks for JSON): ``UploadResponseSerializer`` or ``UploadFailedSerializer``."""
    notes = serialized_notes(request.user, [o.note.pk for o in outcomes if o.ok], request=request)
    results = [
        {"name": o.name, "ok": o.ok, "error": None if o.ok else upload_error(o), "note": notes[o.note.pk] if o.ok else None}
        for o in outcomes
    ]
    answer = upload_status(outcomes)
    if answer != 400:
        return {"results": results}, answer
    codes = {o.code for o in outcomes if o.code != "duplicate"}
    code = codes.pop() if len(codes) == 1 and None not in codes else "invalid_image"
    return {**error_body(code, "None of the files could be stored."), "results": results}, 400
