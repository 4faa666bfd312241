"""Notes (read-only: they come from uploads, and their state is the worker's) and tags."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join

from ..models import Line, Note, Tag
from ..services import tags
from ..tag_names import InvalidTag, clean_tag_name
from .common import ChoicesFilter


class LineInline(admin.TabularInline):
    model = Line
    extra = 0
    fields = ("order", "text", "confidence", "needs_review", "reviewed_at")
    readonly_fields = ("order", "text", "confidence", "needs_review", "reviewed_at")
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DuplicateFilter(ChoicesFilter):
    title, parameter_name = "content", "duplicate"
    options = {"yes": ("Uploaded more than once", lambda notes: notes.uploaded_more_than_once())}


class NothingReadFilter(ChoicesFilter):
    title, parameter_name = "text found", "nothing_read"
    options = {"yes": ("Nothing read", lambda notes: notes.nothing_read())}


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("title", "original_name", "owner", "status", "attempts", "engine_name", "uploaded_at", "processing_seconds")
    list_filter = ("status", NothingReadFilter, "engine_name", "partial_result", "title_set_by_owner", DuplicateFilter)
    search_fields = ("title", "original_name", "sha256", "owner__username")
    # Owner and status are kept read-only: a note's lines, search document and words
    # belong to its owner, and its status is the worker's; a hand edit would split them.
    readonly_fields = (
        "owner", "status", "image", "preview", "thumbnail", "sha256", "size_bytes", "width", "height", "image_format",
        "content_type", "uploaded_at", "queued_at", "retry_at", "started_at", "finished_at", "heartbeat_at", "attempts",
        "run_token", "task_id", "engine_name", "engine_version", "partial_result", "processing_seconds",
        "warnings", "unread_ink",
        # Read-only: as a form field it would list every note to choose from.
        "source", "page_number", "page_count",
        # The worker's count of people's lines the last recognition kept.
        "carried_corrections", "deleted_lines_list",
        # The owner names their note (on its page or through the API); staff only see the name.
        "title", "title_set_by_owner",
    )
    inlines = [LineInline]

    @admin.display(description="deleted lines")
    def deleted_lines_list(self, note):
        """Lines people deleted (kept so that a reprocess does not bring them back); shown, not a form."""
        deleted = list(note.deleted_lines.select_related("deleted_by"))
        if not deleted:
            return "—"
        return format_html_join(
            "", "<div>{} <span class=\"help\">(line {}, deleted by {} on {})</span></div>",
            ((d.text, d.order + 1, d.deleted_by or "someone", f"{d.deleted_at:%Y-%m-%d %H:%M}") for d in deleted),
        )

    def has_add_permission(self, request):
        # Notes come from uploads (checked, stored, queued), never from a bare form.
        return False


class TagAdminForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name"]

    def clean_name(self):
        try:
            return clean_tag_name(self.cleaned_data["name"])
        except InvalidTag as exc:
            raise ValidationError(str(exc)) from exc


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Everyone's tags. A new name goes through ``services.tags.rename_tag``, so a
    name the owner already has merges the two tags, as on the owner's tags page.
    Tags are made by using them (pages, API), not here."""

    form = TagAdminForm
    list_display = ["name", "owner", "note_count"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["owner", "key"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(note_count=Count("note_tags"))

    @admin.display(ordering="note_count", description="notes")
    def note_count(self, tag):
        return tag.note_count

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        kept = tags.rename_tag(owner=obj.owner, tag_id=obj.pk, new_name=form.cleaned_data["name"])
        if kept.pk != obj.pk:
            messages.info(request, f"{obj.owner} already had the tag {kept.name}: the two are merged.")

    def response_change(self, request, obj):
        if not type(obj).objects.filter(pk=obj.pk).exists():  # merged into another tag
            return HttpResponseRedirect(reverse("admin:ocr_app_tag_changelist"))
        return super().response_change(request, obj)
