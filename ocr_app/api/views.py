"""Thin views: read the request, call ``ocr_app.services``, serialise the answer."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ..models import Note
from ..search import RELEVANCE
from ..search import params as search_params
from ..search.payload import results_summary
from ..services.listing import add_line_counts
from ..services.note_images import IMAGE_VARIANTS, ImageUnavailable, image_response, open_note_image
from ..services.notes import delete_note, process_again
from ..services.owner_edits import correct_own_line
from ..services.review import ReviewError
from ..services.tags import set_note_tags
from ..services.titles import rename_note
from ..services.uploads import create_notes
from . import note_serializers as s
from . import search_serializers as search_s
from . import upload_serializers as upload_s
from .errors import ApiError, BadSearch
from .pagination import NotePagination

ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description="validation_error and other request errors"),
    401: OpenApiResponse(s.ErrorSerializer, description="not_authenticated"),
    403: OpenApiResponse(s.ErrorSerializer, description="permission_denied (e.g. CSRF with a session)"),
    404: OpenApiResponse(s.ErrorSerializer, description="not_found (also for other users' notes)"),
    415: OpenApiResponse(s.ErrorSerializer, description="unsupported_media_type"),
    429: OpenApiResponse(s.ErrorSerializer, description="throttled"),
}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in (401, 403, 429, *codes)}


def owned_notes(request):
    return Note.objects.owned_by(request.user).with_line_counts().prefetch_related("tags")


def request_body(serializer_class, request) -> dict:
    """The request's body, checked by ``serializer_class``; refused as validation_error."""
    form = serializer_class(data=request.data)
    form.is_valid(raise_exception=True)
    return form.validated_data


def owned_note(request, pk: int) -> Note:
    # Someone else's note is indistinguishable from a missing one.
    try:
        return get_object_or_404(owned_notes(request), pk=pk)
    except OverflowError as exc:  # an id the column cannot hold
        raise NotFound("No such note.") from exc


class NoteCollectionView(generics.GenericAPIView):
    pagination_class = NotePagination
    serializer_class = s.NoteSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        # A PDF once split shows as its pages (it stays reachable by its id). Line counts
        # are added to the page's notes only: counting every note's lines would cost a scan.
        return Note.objects.owned_by(self.request.user).listed()

    @extend_schema(operation_id="notes_list", summary="Your notes, newest first",
                   responses={200: s.NoteSerializer(many=True), **errors(400, 404)})
    def get(self, request):
        page = add_line_counts(list(self.paginate_queryset(self.get_queryset())))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="notes_upload",
        summary="Upload images; each becomes a note queued for recognition",
        description="multipart/form-data with one or more `images` fields, and optional `tags` fields for every "
        "note of the batch. Each file gets its own result: "
        "a PDF is one note with status splitting until the worker has made a note of each page; "
        "a bad file is refused with a reason and never costs the others. A file you already have a note of "
        "(same content) is not stored again unless allow_duplicates is true: its result has code duplicate and "
        "the existing note's id. 201 when at least one file was stored; 200 when every file was a duplicate "
        "(nothing was stored); 400 with code invalid_image when none was stored and some file was refused.",
        request={"multipart/form-data": OpenApiRequest(
            upload_s.UploadRequestSerializer,
            # Each file part says its type; clients (and schema-driven tools) know what to send.
            encoding={"images": {"contentType": ", ".join(upload_s.UPLOAD_CONTENT_TYPES)}},
        )},
        responses={
            201: upload_s.UploadResponseSerializer,
            200: OpenApiResponse(upload_s.UploadResponseSerializer, description="Every file was a duplicate: nothing stored."),
            400: upload_s.UploadFailedSerializer,
            **errors(),
        },
    )
    def post(self, request):
        body = request_body(upload_s.UploadRequestSerializer, request)
        outcomes = create_notes(
            owner=request.user, files=body["images"], language=body["language"],
            tags=body.get("tags", []), allow_duplicates=body["allow_duplicates"],
        )
        body, answer = upload_s.upload_answer(outcomes, request=request)
        return Response(body, status=answer)


class NoteDetailView(generics.GenericAPIView):
    serializer_class = s.NoteDetailSerializer
    # PATCH takes JSON only, as reprocess does.
    parser_classes = [JSONParser]

    @extend_schema(operation_id="notes_retrieve", summary="A note: its status and recognised lines",
                   responses={200: s.NoteDetailSerializer, **errors(404)})
    def get(self, request, pk: int):
        note = owned_note(request, pk)
        return Response(self.get_serializer(note).data)

    @extend_schema(
        operation_id="notes_partial_update",
        summary="Change a note: rename it (a blank title: chosen automatically again), set its tags",
        request={"application/json": s.NoteUpdateSerializer},
        responses={200: s.NoteDetailSerializer, **errors(400, 404, 415)},
    )
    def patch(self, request, pk: int):
        note = owned_note(request, pk)
        change = request_body(s.NoteUpdateSerializer, request)
        if "title" in change:  # checked by the serializer with the rule rename_note applies
            rename_note(note=note, text=change["title"])
        if "tags" in change:
            set_note_tags(owner=request.user, note=note, names=change["tags"])
        return Response(self.get_serializer(owned_note(request, pk)).data)

    @extend_schema(operation_id="notes_destroy",
                   summary="Delete a note, its lines and its images (a PDF: the PDF; its pages stay)",
                   responses={204: None, **errors(404)})
    def delete(self, request, pk: int):
        delete_note(owned_note(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class NoteReprocessView(generics.GenericAPIView):
    serializer_class = s.NoteSerializer
    # JSON only: a form body cannot be told apart from an empty one when it is not a form at all.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="notes_reprocess", summary="Recognise a note again from scratch (a PDF: split it again, keeping the pages it has)",
        request={"application/json": s.ReprocessRequestSerializer},
        responses={202: s.NoteSerializer, **errors(400, 404, 415)},
    )
    def post(self, request, pk: int):
        note = owned_note(request, pk)
        choice = request_body(s.ReprocessRequestSerializer, request)
        process_again(note, engine=choice.get("engine"), language=choice["language"])
        return Response(self.get_serializer(owned_notes(request).get(pk=note.pk)).data, status=status.HTTP_202_ACCEPTED)


class SearchView(generics.GenericAPIView):
    serializer_class = search_s.SearchResponseSerializer
    per_page = 20

    @extend_schema(
        operation_id="search",
        summary="Search your notes, as the search page does",
        parameters=[search_s.SearchParamsSerializer],
        responses={200: search_s.SearchResponseSerializer, **errors(400)},
    )
    def get(self, request):
        search = search_request(request)
        results = search.run(request.user, per_page=self.per_page)
        add_line_counts([result.note for result in results.notes])  # one query, not one per note
        page = search.page
        url = request.build_absolute_uri()
        previous = None
        if page > 1:
            previous = replace_query_param(url, "page", page - 1) if page > 2 else remove_query_param(url, "page")
        data = {
            **results_summary(results),
            "next": replace_query_param(url, "page", page + 1) if results.has_next else None,
            "previous": previous,
            "results": search_s.SearchResultSerializer(results.notes, many=True, context={"request": request}).data,
        }
        return Response(data)


def search_request(request) -> search_params.SearchRequest:
    # A plain dict: DRF reads a blank form value as "not given", but from= is no day.
    params = search_s.SearchParamsSerializer(data=request.query_params.dict())
    try:
        params.is_valid(raise_exception=True)
    except ValidationError as exc:
        raise BadSearch.from_validation(exc) from exc
    found = params.validated_data
    return search_params.search_request(
        query=found.get("q", ""), uploaded_from=found.get("from"), uploaded_to=found.get("to"),
        needs_review=found.get("review", False), tags=[found.get("tag", "")], page=found.get("page", 1),
        sort=found.get("sort", RELEVANCE),
    )


class FirstRendererNegotiation(BaseContentNegotiation):
    """Whatever the client accepts: files are files, and errors are the API's JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class NoteImageView(generics.GenericAPIView):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="notes_image",
        summary="The note's image: the original as uploaded, or a JPEG preview or thumbnail",
        description="preview and thumb are made by the worker; until then they are the original where browsers "
        "show its format, or 404. Send the same Authorization header as for the other calls.",
        parameters=[OpenApiParameter("variant", str, OpenApiParameter.PATH, enum=list(IMAGE_VARIANTS))],
        responses={
            **{(200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description="The image file.")
               for content_type in upload_s.IMAGE_CONTENT_TYPES},
            **errors(404),
        },
    )
    def get(self, request, pk: int, variant: str):
        note = owned_note(request, pk)
        try:
            return image_response(open_note_image(note, variant))
        except ImageUnavailable as exc:
            raise NotFound(str(exc)) from exc


class LineView(generics.GenericAPIView):
    """The owner's correction of one of their lines, recorded as on the note page."""

    serializer_class = s.LineSerializer
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="notes_lines_partial_update",
        summary="Correct one of your note's lines (recorded like a reviewer's correction; kept through reprocessing)",
        request={"application/json": s.LineCorrectionSerializer},
        responses={200: s.LineSerializer, 409: OpenApiResponse(s.ErrorSerializer, description="note_busy: the note is "
                   "being recognised (its lines will be replaced); try again once it is done"), **errors(400, 404, 415)},
    )
    def patch(self, request, pk: int, line_id: int):
        note = owned_note(request, pk)
        try:
            line = get_object_or_404(note.lines, pk=line_id)
        except OverflowError as exc:
            raise NotFound("No such line.") from exc
        text = request_body(s.LineCorrectionSerializer, request)["text"]
        try:
            correct_own_line(line_id=line.pk, owner=request.user, text=text)
        except ReviewError as exc:
            raise ApiError(str(exc), code="note_busy", status_code=status.HTTP_409_CONFLICT) from exc
        return Response(self.get_serializer(note.lines.get(pk=line.pk)).data)
