"""Tag pages: a note's tags, the tags page (rename, merge, delete), and the
notes list's bulk actions. Logic lives in ``services.tags``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from ..models import Note
from ..row_ids import row_id
from ..services import tags as tag_services
from ..services.notes import delete_notes
from ..tag_names import InvalidTag


def _next_url(request: HttpRequest) -> str:
    """Where the form was (the notes list, its filter and page), if it is of this site."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("ocr_app:note_list")


def _note_ids(request: HttpRequest) -> list[int]:
    try:
        return [row_id(value) for value in request.POST.getlist("notes")][:500]
    except ValueError:
        raise Http404("No such note.") from None


@login_required
@require_POST
def note_tags_add(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        added = tag_services.add_tags(owner=request.user, note_ids=[pk], names=request.POST.getlist("tags"))
    except Note.DoesNotExist:
        raise Http404("No such note.") from None
    except InvalidTag as exc:
        messages.error(request, str(exc))
    else:
        if not added:
            messages.error(request, "Type a tag to add.")
    return redirect(reverse("ocr_app:note_detail", args=[pk]) + "#tags")


@login_required
@require_POST
def note_tag_remove(request: HttpRequest, pk: int, tag_id: int) -> HttpResponse:
    try:
        tag_services.remove_tag(owner=request.user, note_id=pk, tag_id=tag_id)
    except (Note.DoesNotExist, tag_services.TagNotFound):
        raise Http404("No such note or tag.") from None
    return redirect(reverse("ocr_app:note_detail", args=[pk]) + "#tags")


@login_required
@require_GET
def tag_list(request: HttpRequest) -> HttpResponse:
    return render(request, "ocr_app/tags.html", {"tags": tag_services.user_tags(request.user)})


@login_required
@require_POST
def tag_rename(request: HttpRequest, tag_id: int) -> HttpResponse:
    try:
        old = tag_services.owned_tag(request.user, tag_id)
        tag = tag_services.rename_tag(owner=request.user, tag_id=tag_id, new_name=request.POST.get("name", ""))
    except tag_services.TagNotFound:
        raise Http404("No such tag.") from None
    except InvalidTag as exc:
        messages.error(request, str(exc))
    else:
        # A merge leaves the other tag, the one that already had the name.
        done = "Merged {} into {}." if tag.pk != old.pk else "Renamed {} to {}."
        messages.success(request, done.format(old.name, tag.name))
    return redirect("ocr_app:tags")


@login_required
@require_POST
def tag_delete(request: HttpRequest, tag_id: int) -> HttpResponse:
    try:
        name = tag_services.owned_tag(request.user, tag_id).name
        tag_services.delete_tag(owner=request.user, tag_id=tag_id)
    except tag_services.TagNotFound:
        raise Http404("No such tag.") from None
    messages.success(request, f"Deleted the tag {name}; its notes stay.")
    return redirect("ocr_app:tags")


@login_required
@require_POST
def bulk_notes(request: HttpRequest) -> HttpResponse:
    """The notes list's bar: tag the selected notes, or delete them (after a
    confirmation page, so that it works without JavaScript too)."""
    ids = _note_ids(request)
    back = _next_url(request)
    if not ids:
        messages.error(request, "Select at least one note.")
        return redirect(back)
    try:
        notes = tag_services.owned_notes(request.user, ids)
    except Note.DoesNotExist:
        raise Http404("No such note.") from None
    action = request.POST.get("action")
    if action == "tag":
        try:
            tags = tag_services.add_tags(owner=request.user, note_ids=ids, names=request.POST.getlist("tags"))
        except InvalidTag as exc:
            messages.error(request, str(exc))
            return redirect(back)
        if not tags:
            messages.error(request, "Type a tag to give the selected notes.")
        else:
            names = ", ".join(t.name for t in tags)
            messages.success(request, f"Tagged {len(notes)} note{'s' if len(notes) != 1 else ''} {names}.")
        return redirect(back)
    if action == "delete":
        if request.POST.get("confirmed") != "yes":
            return render(request, "ocr_app/bulk_delete.html", {"notes": notes, "next": back})
        count = delete_notes(notes)
        messages.success(request, f"Deleted {count} note{'s' if count != 1 else ''}.")
        return redirect(back)
    messages.error(request, "Choose what to do with the selected notes.")
    return redirect(back)
