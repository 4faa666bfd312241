"""What the engine learned from people: each owner's learned words and the fitted confidence weights."""

from django.contrib import admin, messages

from ..models import ConfidenceWeights, LearnedWord
from ..services import confidence_weights, learned_words
from .common import ChoicesFilter, ReadOnlyModelAdmin, has_model_permission


class LearnedWordStateFilter(ChoicesFilter):
    title, parameter_name = "state", "state"
    options = {
        "in_use": ("In use", lambda words: words.filter(removed_at__isnull=True, count__gt=0)),
        "removed": ("Removed", lambda words: words.filter(removed_at__isnull=False)),
    }


@admin.action(description="Remove the selected words", permissions=["remove"])
def remove_learned_words(modeladmin, request, queryset):
    removed = learned_words.remove_words(queryset)
    modeladmin.message_user(
        request, f"Removed {removed} word(s): no longer given to the engine, until their owner types them again."
    )


@admin.register(LearnedWord)
class LearnedWordAdmin(ReadOnlyModelAdmin):
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
        return has_model_permission(request, self, "delete")


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
class ConfidenceWeightsAdmin(ReadOnlyModelAdmin):
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
        return has_model_permission(request, self, "change")
