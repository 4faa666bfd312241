from django import forms
from django.contrib import admin, messages
from django.db.models import F, Q
from django.urls import reverse
from django.utils.html import format_html

from .models import ApiToken, Line, Note, ReviewEvent
from .services import review, tokens

admin.site.site_header = "Inkdex administration"


class LineInline(admin.TabularInline):
    model = Line
    extra = 0
    fields = ("order", "text", "confidence", "needs_review", "reviewed_at")
    readonly_fields = ("order", "text", "confidence", "needs_review", "reviewed_at")
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("original_name", "owner", "status", "attempts", "engine_name", "uploaded_at", "processing_seconds")
    list_filter = ("status", "engine_name", "partial_result")
    search_fields = ("original_name", "sha256", "owner__username")
    readonly_fields = (
        "image", "preview", "thumbnail", "sha256", "size_bytes", "width", "height", "image_format",
        "content_type", "uploaded_at", "queued_at", "retry_at", "started_at", "finished_at", "heartbeat_at", "attempts",
        "run_token", "task_id", "engine_name", "engine_version", "partial_result", "processing_seconds",
    )
    inlines = [LineInline]


class ConfidenceFilter(admin.SimpleListFilter):
    title = "confidence"
    parameter_name = "confidence"
    RANGES = {"0-50": (0, 50), "50-75": (50, 75), "75-90": (75, 90), "90-100": (90, 101)}

    def lookups(self, request, model_admin):
        return [(key, f"{low}–{min(high, 100)} %") for key, (low, high) in self.RANGES.items()]

    def queryset(self, request, queryset):
        if self.value() in self.RANGES:
            low, high = self.RANGES[self.value()]
            return queryset.filter(confidence__gte=low, confidence__lt=high)
        return queryset


class ReviewedFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "reviewed"

    def lookups(self, request, model_admin):
        return [("no", "Not reviewed"), ("yes", "Reviewed"), ("corrected", "Corrected")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(reviewed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(reviewed_at__isnull=False)
        if self.value() == "corrected":
            return queryset.filter(reviewed_at__isnull=False).filter(~Q(text=F("ocr_text")))
        return queryset


@admin.action(description="Accept the selected lines as read")
def accept_lines(modeladmin, request, queryset):
    accepted = failed = 0
    for line_id in queryset.values_list("pk", flat=True):
        try:
            review.accept_line(line_id, request.user)
            accepted += 1
        except review.ReviewError:
            failed += 1
    modeladmin.message_user(request, f"Accepted {accepted} line(s).")
    if failed:
        modeladmin.message_user(request, f"{failed} line(s) are held by another reviewer; left alone.", messages.WARNING)


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ("text", "note", "owner", "confidence", "needs_review", "reviewed_at", "engine")
    list_filter = ("needs_review", ConfidenceFilter, ReviewedFilter, "note__engine_name")
    search_fields = ("text", "ocr_text", "note__original_name")
    list_select_related = ("note", "owner")
    actions = [accept_lines]
    fields = ("note", "order", "text", "ocr_text", "confidence", "needs_review", "reviewed_at", "reviewed_by", "history")
    readonly_fields = ("note", "order", "ocr_text", "confidence", "needs_review", "reviewed_at", "reviewed_by", "history")

    @admin.display(ordering="note__engine_name")
    def engine(self, line):
        return line.note.engine_name

    @admin.display(description="History")
    def history(self, line):
        return format_html('<a href="{}">History and restore</a>', reverse("ocr_app:review_history", args=[line.pk]))

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # A text edited here is a correction like any other: event, index, vocabulary.
        if "text" in form.changed_data:
            review.correct_line(obj.pk, request.user, obj.text)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "review_queue_url": reverse("ocr_app:review_queue")}
        return super().changelist_view(request, extra_context)


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "reviewer", "action", "old_text", "new_text", "note", "line_order")
    list_filter = ("action", "engine_name")
    search_fields = ("old_text", "new_text", "reviewer__username")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name")


@admin.action(description="Revoke the selected tokens")
def revoke_tokens(modeladmin, request, queryset):
    revoked = 0
    for token in queryset.filter(revoked_at__isnull=True):
        tokens.revoke_token(token)
        revoked += 1
    modeladmin.message_user(request, f"Revoked {revoked} token(s).")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens by user; the key is shown once when made here and never stored."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    actions = [revoke_tokens]
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ("user", "name") if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        token, key = tokens.create_token(obj.user, obj.name)
        obj.pk = token.pk
        obj.refresh_from_db()
        self.message_user(
            request, f"Key for {token.name!r} (copy it now, it is not shown again): {key}", messages.WARNING
        )
