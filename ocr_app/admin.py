from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .models import ApiToken, ConfidenceWeights, LearnedWord, Line, Note, ReviewEvent, SignInLimit, Tag
from .services import confidence_weights, learned_words, review, signin, tags, tokens
from .web.signin import AdminSignInForm
from .tag_names import InvalidTag, clean_tag_name

admin.site.site_header = "Inkdex administration"
# A try refused by the sign-in limits says how long to wait, as on the sign-in page.
admin.site.login_form = AdminSignInForm


class LineInline(admin.TabularInline):
    model = Line
    extra = 0
    fields = ("order", "text", "confidence", "needs_review", "reviewed_at")
    readonly_fields = ("order", "text", "confidence", "needs_review", "reviewed_at")
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class DuplicateFilter(admin.SimpleListFilter):
    title = "content"
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", "Uploaded more than once")]

    def queryset(self, request, queryset):
        return queryset.uploaded_more_than_once() if self.value() == "yes" else queryset


class NothingReadFilter(admin.SimpleListFilter):
    title = "text found"
    parameter_name = "nothing_read"

    def lookups(self, request, model_admin):
        return [("yes", "Nothing read")]

    def queryset(self, request, queryset):
        return queryset.nothing_read() if self.value() == "yes" else queryset


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
        return [("no", "Not reviewed"), ("yes", "Reviewed"), ("corrected", "Corrected"), ("added", "Added by a person")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(reviewed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(reviewed_at__isnull=False)
        if self.value() == "corrected":
            return queryset.filter(reviewed_at__isnull=False).filter(~Q(text=F("ocr_text"))).exclude(ocr_text="")
        if self.value() == "added":
            return queryset.filter(reviewed_at__isnull=False, ocr_text="")
        return queryset


@admin.action(description="Accept the selected lines as read", permissions=["change"])
def accept_lines(modeladmin, request, queryset):
    accepted = 0
    refused: dict[str, int] = {}
    for line_id in queryset.values_list("pk", flat=True):
        try:
            review.accept_line(line_id, request.user, reach=review.Reach.ADMIN)
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
            reason = review.refusal(self.instance.pk, self.request.user, review.Reach.ADMIN)
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
            review.correct_line(obj.pk, request.user, obj.text, reach=review.Reach.ADMIN)
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


class BlockedNowFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("blocked", "Blocked now"), ("known", "Account signed in from this address")]

    def queryset(self, request, queryset):
        if self.value() == "blocked":
            return queryset & signin.blocked_now()
        if self.value() == "known":
            return queryset.filter(signed_in_at__isnull=False)
        return queryset


@admin.action(description="Clear: let sign-ins through again", permissions=["delete"])
def clear_signin_limits(modeladmin, request, queryset):
    cleared = signin.clear(queryset)
    modeladmin.message_user(request, f"Cleared {cleared} sign-in limit(s).")


@admin.register(SignInLimit)
class SignInLimitAdmin(admin.ModelAdmin):
    """Failed sign-ins per account, address, and account from address; staff see
    who is blocked and can clear them."""

    list_display = ("__str__", "scope", "failures", "blocked_until", "last_failure_at", "signed_in_at")
    list_filter = (BlockedNowFilter, "scope")
    search_fields = ("account", "address")
    ordering = (F("blocked_until").desc(nulls_last=True), F("last_failure_at").desc(nulls_last=True))
    actions = [clear_signin_limits]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
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
        kept = tags.rename_tag(obj.owner, obj.pk, form.cleaned_data["name"])
        if kept.pk != obj.pk:
            messages.info(request, f"{obj.owner} already had the tag {kept.name}: the two are merged.")

    def response_change(self, request, obj):
        if not type(obj).objects.filter(pk=obj.pk).exists():  # merged into another tag
            return HttpResponseRedirect(reverse("admin:ocr_app_tag_changelist"))
        return super().response_change(request, obj)


def _has_model_permission(request, model_admin, action: str) -> bool:
    opts = model_admin.opts
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


class LearnedWordStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("in_use", "In use"), ("removed", "Removed")]

    def queryset(self, request, queryset):
        if self.value() == "in_use":
            return queryset.filter(removed_at__isnull=True, count__gt=0)
        if self.value() == "removed":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.action(description="Remove the selected words", permissions=["remove"])
def remove_learned_words(modeladmin, request, queryset):
    removed = learned_words.remove_words(queryset)
    modeladmin.message_user(
        request, f"Removed {removed} word(s): no longer given to the engine, until their owner types them again."
    )


@admin.register(LearnedWord)
class LearnedWordAdmin(admin.ModelAdmin):
    """Everyone's learned words, by owner. *Remove* is the owner's own *Remove*
    (``services.learned_words.remove_words``, for those with the *delete* permission):
    the row stays, so that the word is not learned again from the next accept; a
    deleted row would be. Words are learned from confirmed lines, never typed here."""

    list_display = ("word", "owner", "count", "last_confirmed_at", "removed_at")
    list_filter = (LearnedWordStateFilter,)
    search_fields = ("word", "owner__username")
    list_select_related = ("owner",)
    ordering = ("owner__username", "-count", "key")
    actions = [remove_learned_words]
    fields = ("owner", "word", "count", "last_confirmed_at", "removed_at")
    readonly_fields = fields

    def has_remove_permission(self, request):
        return _has_model_permission(request, self, "delete")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description="Use these weights", permissions=["use"])
def use_confidence_weights(modeladmin, request, queryset):
    chosen = list(queryset[:2])
    if len(chosen) != 1:
        modeladmin.message_user(request, "Choose one set of weights to use.", messages.WARNING)
        return
    [weights] = chosen
    if weights.active:
        modeladmin.message_user(request, f"Set {weights.pk} is in use already.", messages.INFO)
        return
    try:
        confidence_weights.use_stored_weights(weights)
    except confidence_weights.WeightsDoNotFit as exc:
        modeladmin.message_user(request, str(exc), messages.ERROR)
        return
    modeladmin.message_user(
        request,
        f"The {weights.engine_name} engine uses the weights of {weights.created_at:%Y-%m-%d %H:%M} (set {weights.pk}) "
        f"again: every worker takes them at its next note. Lines already read keep their confidence until reprocessed.",
    )


@admin.register(ConfidenceWeights)
class ConfidenceWeightsAdmin(admin.ModelAdmin):
    """The confidence weights ``manage.py refit_confidence`` fitted, every set kept;
    read-only. *Use these weights* (with the *change* permission) makes an earlier set
    the one in use again, through the service the command's ``--restore`` uses."""

    list_display = ("created_at", "engine_name", "lines", "auc_before_shown", "auc_after_shown", "in_use")
    list_filter = ("engine_name", "active")
    actions = [use_confidence_weights]
    fields = (
        "engine_name", "created_at", "active", "lines_fitted", "lines_held_out", "auc_before", "auc_after",
        "weights", "intercept", "replaced",
    )
    readonly_fields = fields

    @admin.display(description="fitted on (held out)")
    def lines(self, weights):
        return f"{weights.lines_fitted} lines ({weights.lines_held_out})"

    @admin.display(description="AUC before", ordering="auc_before")
    def auc_before_shown(self, weights):
        return f"{weights.auc_before:.3f}"

    @admin.display(description="AUC after", ordering="auc_after")
    def auc_after_shown(self, weights):
        return f"{weights.auc_after:.3f}"

    @admin.display(description="in use", boolean=True, ordering="active")
    def in_use(self, weights):
        return weights.active

    def changelist_view(self, request, extra_context=None):
        # Which weights each engine uses, the built-in ones included (those have no row).
        engines = ConfidenceWeights.objects.order_by("engine_name").values_list("engine_name", flat=True).distinct()
        active = {w.engine_name: w for w in ConfidenceWeights.objects.filter(active=True)}
        in_use = [
            f"{engine}: set {active[engine].pk} of {active[engine].created_at:%Y-%m-%d %H:%M}" if engine in active
            else f"{engine}: the built-in weights"
            for engine in engines
        ]
        subtitle = "In use: " + "; ".join(in_use) if in_use else "No weights fitted yet: the built-in weights are in use."
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": subtitle})

    def has_use_permission(self, request):
        return _has_model_permission(request, self, "change")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # No set is ever deleted: each may be gone back to.
        return False
