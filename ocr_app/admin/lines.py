"""Lines (a text edited here is a reviewer's correction) and the review events."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from ..models import Line, ReviewEvent
from ..services import review
from .common import ChoicesFilter, ReadOnlyModelAdmin


def _confidence_between(low: float, high: float):
    return lambda lines: lines.filter(confidence__gte=low, confidence__lt=high)


class ConfidenceFilter(ChoicesFilter):
    title, parameter_name = "confidence", "confidence"
    options = {
        f"{low}-{min(high, 100)}": (f"{low}–{min(high, 100)} %", _confidence_between(low, high))
        for low, high in ((0, 50), (50, 75), (75, 90), (90, 101))
    }


class ReviewedFilter(ChoicesFilter):
    title, parameter_name = "review", "reviewed"
    options = {
        "no": ("Not reviewed", lambda lines: lines.filter(reviewed_at__isnull=True)),
        "yes": ("Reviewed", lambda lines: lines.filter(reviewed_at__isnull=False)),
        "corrected": ("Corrected", lambda lines: lines.filter(reviewed_at__isnull=False)
                      .filter(~Q(text=F("ocr_text"))).exclude(ocr_text="")),
        "added": ("Added by a person", lambda lines: lines.filter(reviewed_at__isnull=False, ocr_text="")),
    }


@admin.action(description="Accept the selected lines as read", permissions=["change"])
def accept_lines(modeladmin, request, queryset):
    accepted = 0
    refused: dict[str, int] = {}
    for line_id in queryset.values_list("pk", flat=True):
        try:
            review.accept_line(line_id=line_id, reviewer=request.user, reach=review.Reach.ADMIN)
            accepted += 1
        except review.ReviewError as exc:
            refused[str(exc)] = refused.get(str(exc), 0) + 1
    modeladmin.message_user(request, f"Accepted {accepted} line(s).")
    for reason, count in refused.items():
        modeladmin.message_user(request, f"{count} line(s) left alone: {reason}", messages.WARNING)


class LineAdminForm(forms.ModelForm):
    """Says why an edit cannot be saved (too long, held by a reviewer, note being
    recognised) on the form, before ``save_model`` makes the correction."""

    class Meta:
        model = Line
        fields = ("text",)

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_text(self):
        try:
            return review.clean_text(self.cleaned_data["text"])
        except review.ReviewError as exc:
            raise ValidationError(str(exc)) from exc

    def clean(self):
        cleaned = super().clean()
        if "text" in self.changed_data and not self.errors:
            reason = review.refusal(line_id=self.instance.pk, reviewer=self.request.user, reach=review.Reach.ADMIN)
            if reason:
                raise ValidationError(reason)
        return cleaned


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ("text", "note", "owner", "confidence", "needs_review", "reviewed_at", "engine")
    list_filter = ("needs_review", ConfidenceFilter, ReviewedFilter, "note__engine_name")
    search_fields = ("text", "ocr_text", "note__original_name")
    list_select_related = ("note", "owner")
    actions = [accept_lines]
    form = LineAdminForm
    fields = ("note", "order", "text", "ocr_text", "confidence", "needs_review", "reviewed_at", "reviewed_by", "history")
    readonly_fields = ("note", "order", "ocr_text", "confidence", "needs_review", "reviewed_at", "reviewed_by", "history")

    @admin.display(ordering="note__engine_name")
    def engine(self, line):
        return line.note.engine_name

    def has_delete_permission(self, request, obj=None):
        # A line is deleted by its note's owner on the note page, where the deletion is
        # recorded (history, put back, and a reprocess does not bring it back); not here.
        return False

    @admin.display(description="History")
    def history(self, line):
        return format_html('<a href="{}">History and restore</a>', reverse("ocr_app:review_history", args=[line.pk]))

    def has_add_permission(self, request):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class FormForRequest(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return FormForRequest

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # The history page is a review page: only for those who may open it.
        return fields if review.may_review(request.user) else [f for f in fields if f != "history"]

    def save_model(self, request, obj, form, change):
        # A text edited here is a correction like any other: event, index, vocabulary.
        if "text" not in form.changed_data:
            return
        try:
            review.correct_line(line_id=obj.pk, reviewer=request.user, text=obj.text, reach=review.Reach.ADMIN)
        except review.ReviewError as exc:
            # Refused after the form checked (a reviewer claimed the line meanwhile).
            obj.review_refusal = str(exc)

    def response_change(self, request, obj):
        refusal = getattr(obj, "review_refusal", None)
        if refusal:
            self.message_user(request, f"Not saved: {refusal}", messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "review_queue_url": reverse("ocr_app:review_queue")}
        return super().changelist_view(request, extra_context)


@admin.register(ReviewEvent)
class ReviewEventAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "reviewer", "action", "old_text", "new_text", "note", "line_order")
    list_filter = ("action", "engine_name")
    search_fields = ("old_text", "new_text", "reviewer__username")
    date_hierarchy = "created_at"
