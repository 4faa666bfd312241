"""Pages and their small JSON companions (which answer as the API does: ``answers``).
Logic lives in ``services``."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import languages
from ..api.upload_serializers import upload_answer
from ..conf import inkdex
from ..pipeline.engine_selection import available_engines, engine_languages
from ..models import DeletedLine, Line, Note, NoteStatus
from ..search import lines_matching
from ..search.params import clean_query
from ..services.export import export_notes
from ..services.listing import SORTS, STATUSES, NoteListOptions, page_of
from ..services.note_images import ImageUnavailable, image_response, open_note_image
from ..services import owner_edits
from ..services.notes import delete_note, process_again
from ..services.review import earlier_texts, restore_text
from ..services.tags import user_tags
from ..services.titles import InvalidTitle, rename_note
from ..services.uploads import create_notes
from ..tag_names import tag_key
from . import answers
from .answers import not_found_as_json, refusal_shown, wants_json
from .forms import NoteStatusForm, ReprocessForm, UploadForm, first_error


def _owned_note(request: HttpRequest, pk: int) -> Note:
    # Someone else's note is indistinguishable from a missing one.
    return get_object_or_404(Note.objects.owned_by(request.user), pk=pk)


@login_required
@require_GET
def note_list(request: HttpRequest) -> HttpResponse:
    options = NoteListOptions.from_query(request.GET)
    page = page_of(options.apply(Note.objects.owned_by(request.user).listed()), request.GET.get("page"))
    return render(
        request,
        "ocr_app/note_list.html",
        {
            "page": page,
            "notes": page.notes,
            "options": options,
            "query": options.query_string(),
            "sorts": SORTS,
            "statuses": STATUSES,
            "tags": user_tags(request.user),
            "tag_key": tag_key(options.tag),
        },
    )


@login_required
@require_GET
def notes_status(request: HttpRequest) -> JsonResponse:
    """Status of several of the user's notes at once, for live lists."""
    form = NoteStatusForm(request.GET)
    if not form.is_valid():
        return answers.form_error(form)
    return answers.notes(request, form.cleaned_data["ids"])


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(
            request,
            "ocr_app/upload.html",
            {
                "max_upload_mb": inkdex().max_upload_bytes // (1024 * 1024),
                "max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
                "languages": languages.choices(engine_languages()),
                "default_language": inkdex().default_language,
                "tags": user_tags(request.user),
            },
        )
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        if wants_json(request):
            return answers.form_error(form)
        messages.error(request, first_error(form))
        return redirect("ocr_app:upload")
    upload = form.cleaned_data
    outcomes = create_notes(owner=request.user, files=upload["images"], language=upload["language"], tags=upload["tags"],
                            allow_duplicates=upload["allow_duplicates"])
    if wants_json(request):
        body, status = upload_answer(outcomes, request=request)
        return JsonResponse(body, status=status)
    for outcome in outcomes:
        if outcome.ok:
            queued = "splitting into pages" if outcome.note.is_pdf else "recognition queued"
            messages.success(request, f"{outcome.name}: uploaded, {queued}.")
        elif outcome.duplicate_of is not None:
            messages.warning(
                request, f"{outcome.name}: {outcome.error} To store it again, tick “Upload files I already have”."
            )
        else:
            messages.error(request, f"{outcome.name}: {outcome.error}")
    return redirect("ocr_app:note_list")


def _note_body_context(request: HttpRequest, note: Note) -> dict:
    """The note's lines, and with ``?q=`` which of them (and which words) the search hit;
    for a PDF, the pages made of it so far."""
    if note.is_pdf:
        return {"note": note, "pages": note.pages.order_by("page_number"), "body_template": "ocr_app/_pdf_body.html"}
    query = clean_query(request.GET.get("q", ""))
    lines = list(note.lines.all())
    hits = lines_matching(note, query, lines) if query and lines else None
    rows = [
        {
            "line": line,
            "highlights": hits.highlights(line) if hits else (),
            "hit": bool(hits and line.pk in hits.line_ids),
            "word_boxes": hits.word_boxes(line) if hits and line.pk in hits.line_ids else [],
        }
        for line in lines
    ]
    return {
        "note": note,
        "lines": lines,
        "rows": rows,
        "query": query,
        "hit_count": sum(row["hit"] for row in rows),
        "body_template": "ocr_app/_note_body.html",
        # The owner corrects, deletes and adds lines once the note has been read.
        "editable": note.status == NoteStatus.DONE,
        "nothing_read": note.has_nothing_read(line_count=len(lines)),
        "deleted_lines": list(note.deleted_lines.all()) if note.status == NoteStatus.DONE else [],
        "engines": available_engines(),
    }


@login_required
@require_GET
def note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    note = _owned_note(request, pk)
    return render(
        request,
        "ocr_app/note_detail.html",
        {
            **_note_body_context(request, note),
            "engines": available_engines(),
            "languages": languages.choices(engine_languages(note.requested_engine or None)),
            "note_tags": note.tags.all(),
            "tags": user_tags(request.user),
        },
    )


@login_required
@require_GET
def note_lines(request: HttpRequest, pk: int) -> HttpResponse:
    """The image with its boxes and the list of lines, for live updates."""
    note = _owned_note(request, pk)
    context = _note_body_context(request, note)
    return render(request, context["body_template"], context)


@login_required
@require_GET
@not_found_as_json(always=True)
def note_status(request: HttpRequest, pk: int) -> JsonResponse:
    return answers.note(request, _owned_note(request, pk))


@login_required
@require_GET
def note_image(request: HttpRequest, pk: int, variant: str) -> FileResponse:
    note = _owned_note(request, pk)
    try:
        return image_response(open_note_image(note, variant))
    except ImageUnavailable as exc:
        raise Http404(str(exc)) from exc


@login_required
@require_POST
@not_found_as_json
def note_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    note = _owned_note(request, pk)
    form = ReprocessForm(request.POST)
    if not form.is_valid():
        if wants_json(request):
            return answers.form_error(form)
        messages.error(request, first_error(form))
        return redirect(note)
    process_again(note, engine=form.cleaned_data["engine"], language=form.cleaned_data["language"])
    if wants_json(request):
        return answers.note(request, note, status=202)
    messages.success(request, "Splitting into pages again." if note.is_pdf else "Recognition queued again.")
    return redirect(note)


@login_required
@require_POST
def note_delete(request: HttpRequest, pk: int) -> HttpResponse:
    note = _owned_note(request, pk)
    name = note.title
    delete_note(note)
    messages.success(request, f"Deleted {name}{'; its pages stay' if note.is_pdf else ''}.")
    return redirect(reverse("ocr_app:note_list"))


@login_required
@require_GET
def export_zip(request: HttpRequest) -> FileResponse:
    """All the user's notes, images, lines and corrections as one zip file."""
    archive = tempfile.TemporaryFile()  # removed when the response is closed
    export_notes(user=request.user, destination=archive)
    archive.seek(0)
    name = f"inkdex-{request.user.get_username()}-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(archive, as_attachment=True, filename=name, content_type="application/zip")


@login_required
@require_POST
@not_found_as_json
def note_rename(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner renames the note (inline on its page); an empty title gives back the automatic one."""
    note = _owned_note(request, pk)
    try:
        note = rename_note(note=note, text=request.POST.get("title", ""))
    except InvalidTitle as exc:
        if wants_json(request):
            return answers.field_error("title", str(exc))
        messages.error(request, str(exc))
        return redirect(note)
    if wants_json(request):
        return answers.note(request, note)
    messages.success(request, f"Renamed to {note.title}." if note.title_set_by_owner
                     else f"The title is chosen automatically again: {note.title}.")
    return redirect(note)


# --- the owner's own changes to lines (services/owner_edits.py) -------------------------


def _owner_edit(request: HttpRequest, note: Note, change, done: str, anchor: str = "line-list") -> HttpResponse:
    """Run one owner change; its outcome is a message on the note page."""
    with refusal_shown(request):
        try:
            change()
        except (Line.DoesNotExist, DeletedLine.DoesNotExist) as exc:
            raise Http404("No such line on this note.") from exc
        messages.success(request, done)
    return redirect(f"{note.get_absolute_url()}#{anchor}")


@login_required
@require_POST
def line_edit(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """Correct (``action=save``, the default) or delete (``action=delete``) one of the owner's lines."""
    note = _owned_note(request, pk)
    get_object_or_404(note.lines, pk=line_pk)
    if request.POST.get("action") == "delete":
        return _owner_edit(request, note, lambda: owner_edits.delete_own_line(line_id=line_pk, owner=request.user),
                           "Line deleted. You can put it back below the lines.", "deleted-lines")
    text = request.POST.get("text", "")
    return _owner_edit(request, note, lambda: owner_edits.correct_own_line(line_id=line_pk, owner=request.user, text=text),
                       "Line saved.")


@login_required
@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A line the engine missed, with the box drawn on the photo if any."""
    note = _owned_note(request, pk)
    box = [request.POST.get(name, "") for name in ("x", "y", "width", "height")]
    box = box if all(box) else None
    text = request.POST.get("text", "")
    return _owner_edit(request, note, lambda: owner_edits.add_own_line(note_id=note.pk, owner=request.user, text=text, box=box),
                       "Line added.")


@login_required
@require_POST
def line_undelete(request: HttpRequest, pk: int, deleted_pk: int) -> HttpResponse:
    note = _owned_note(request, pk)
    get_object_or_404(DeletedLine, pk=deleted_pk, note=note)  # a line deleted from this note
    return _owner_edit(request, note, lambda: owner_edits.undelete_own_line(deleted_id=deleted_pk, owner=request.user),
                       "Line put back.")


@login_required
@require_POST
def note_type_text(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner types the text of a note the engine read nothing on, one line per line."""
    note = _owned_note(request, pk)
    text = request.POST.get("text", "")
    return _owner_edit(request, note, lambda: owner_edits.type_note_text(note_id=note.pk, person=request.user, text=text),
                       "Text saved as lines.")


@login_required
@require_http_methods(["GET", "POST"])
def line_history(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """The owner's view of one of their lines' history, where any earlier text can be restored."""
    note = _owned_note(request, pk)
    line = get_object_or_404(note.lines.select_related("note", "note__owner", "reviewed_by"), pk=line_pk)
    if request.method == "POST":
        with refusal_shown(request):
            restore_text(line_id=line.pk, reviewer=request.user, text=request.POST.get("text", ""))
            messages.success(request, "Earlier text restored.")
        return redirect("ocr_app:line_history", pk=note.pk, line_pk=line.pk)
    return render(
        request,
        "ocr_app/review_history.html",
        {"line": line, "events": line.events.select_related("reviewer"), "earlier_texts": earlier_texts(line),
         "owner_view": True},
    )
