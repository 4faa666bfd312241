"""The review queue pages, for accounts with the review permission. Logic (and which
lines a reviewer may reach) lives in ``services.review``."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..images import InvalidImage
from ..models import Note
from ..review_rule import review_threshold
from ..services import accuracy, owner_edits, review
from .answers import refusal_shown

SKIPPED_SESSION_KEY = "review_skipped"
SKIPPED_NOTES_SESSION_KEY = "review_skipped_notes"


def reviewer_required(view):
    """Signed-in reviewers only; anyone else signed in (staff too) gets 403 whatever
    they ask for, before any line is looked up."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not review.may_review(request.user):
            raise PermissionDenied("Reviewing lines needs the review permission.")
        return view(request, *args, **kwargs)

    return wrapper


def _skipped(request: HttpRequest, key: str = SKIPPED_SESSION_KEY) -> list[int]:
    return request.session.get(key, [])


def _lines_of_that_note(done: str, count: int) -> str:
    return f"{done} {count} line{'s' if count != 1 else ''} of that note."


def _skip(request: HttpRequest, key: str, pk: int) -> None:
    """Passed over for the rest of the reviewer's session (the last 500 remembered)."""
    request.session[key] = [*_skipped(request, key), pk][-500:]


@reviewer_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    if "restart" in request.GET:
        request.session[SKIPPED_SESSION_KEY] = []
        request.session[SKIPPED_NOTES_SESSION_KEY] = []
        return redirect("ocr_app:review_queue")
    line = review.claim_next_line(request.user, skipped=_skipped(request))
    # With no line waiting, a whole note with nothing read (its text to be typed).
    empty_note = None if line is not None else review.next_nothing_read_note(
        request.user, skipped=_skipped(request, SKIPPED_NOTES_SESSION_KEY))
    neighbours = {}
    if line is not None:
        around = line.note.lines.filter(order__in=[line.order - 1, line.order + 1])
        neighbours = {other.order - line.order: other for other in around}
    return render(
        request,
        "ocr_app/review.html",
        {
            "line": line,
            "empty_note": empty_note,
            "nothing_read_count": review.nothing_read_notes(request.user).count(),
            "before": neighbours.get(-1),
            "after": neighbours.get(1),
            "counts": review.queue_counts(request.user),
            "skipped": len(_skipped(request)),
            "threshold": review_threshold(),
        },
    )


@reviewer_required
@require_POST
def act(request: HttpRequest, pk: int) -> HttpResponse:
    """One reviewer action on a line, then on to the next line."""
    action = request.POST.get("action", "")
    if action not in {"save", "accept", "accept_note", "skip"}:
        return HttpResponse("Unknown review action.", status=400)
    with refusal_shown(request):
        if action == "save":
            review.correct_line(line_id=pk, reviewer=request.user, text=request.POST.get("text", ""))
        elif action == "accept":
            review.accept_line(line_id=pk, reviewer=request.user)
        elif action == "accept_note":
            count = review.accept_rest_of_note(line_id=pk, reviewer=request.user)
            messages.success(request, _lines_of_that_note("Accepted", count))
        else:
            review.skip_line(line_id=pk, reviewer=request.user)
            _skip(request, SKIPPED_SESSION_KEY, pk)
    return redirect("ocr_app:review_queue")


@reviewer_required
@require_GET
def crop(request: HttpRequest, pk: int) -> HttpResponse:
    line = get_object_or_404(review.lines_open_to(reviewer=request.user).select_related("note"), pk=pk)
    return _jpeg(review.line_crop, line, "The image of this line cannot be shown.")


@reviewer_required
@require_http_methods(["GET", "POST"])
def history(request: HttpRequest, pk: int) -> HttpResponse:
    # A line out of the reviewer's reach is a 404, like one that does not exist.
    line = get_object_or_404(
        review.lines_open_to(reviewer=request.user).select_related("note", "note__owner", "reviewed_by"), pk=pk
    )
    if request.method == "POST":
        with refusal_shown(request):
            review.restore_text(line_id=pk, reviewer=request.user, text=request.POST.get("text", ""))
            messages.success(request, "Earlier text restored.")
        return redirect("ocr_app:review_history", pk=pk)
    return render(
        request,
        "ocr_app/review_history.html",
        {
            "line": line,
            "events": line.events.select_related("reviewer"),
            "earlier_texts": review.earlier_texts(line),
        },
    )


@reviewer_required
@require_GET
def accuracy_report(request: HttpRequest) -> HttpResponse:
    lines = accuracy.reviewed_lines()
    threshold = review_threshold()
    return render(
        request,
        "ocr_app/review_accuracy.html",
        {
            "engines": accuracy.engine_accuracy(lines),
            "outcomes": accuracy.threshold_outcomes(lines, [*accuracy.THRESHOLDS_SHOWN, threshold]),
            "threshold": threshold,
            "reviewed": len(lines),
        },
    )


@reviewer_required
@require_POST
def type_note(request: HttpRequest, pk: int) -> HttpResponse:
    """The text of a note with nothing read, typed by a reviewer (``action=save``) or skipped."""
    if request.POST.get("action") == "skip":
        _skip(request, SKIPPED_NOTES_SESSION_KEY, pk)
        return redirect("ocr_app:review_queue")
    with refusal_shown(request):
        try:
            lines = owner_edits.type_note_text(
                note_id=pk, person=request.user, text=request.POST.get("text", ""), as_reviewer=True
            )
        except Note.DoesNotExist as exc:
            raise Http404("No such note.") from exc
        messages.success(request, _lines_of_that_note("Saved", len(lines)))
    return redirect("ocr_app:review_queue")


@reviewer_required
@require_GET
def note_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """The photo of a note waiting for its text to be typed (of anyone's; no other note)."""
    note = get_object_or_404(review.nothing_read_notes(request.user), pk=pk)
    return _jpeg(review.note_preview, note, "The image of this note cannot be shown.")


def _jpeg(render_jpeg, subject, unreadable: str) -> HttpResponse:
    """``render_jpeg(subject)`` as an image the browser may keep a while; a 404 saying
    ``unreadable`` when the stored image is gone or damaged."""
    try:
        data = render_jpeg(subject)
    except (InvalidImage, FileNotFoundError) as exc:
        raise Http404(unreadable) from exc
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=600"
    return response
