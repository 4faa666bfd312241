"""What the admin's model pages share."""

from collections.abc import Callable

from django.contrib import admin
from django.contrib.auth import get_permission_codename


def has_model_permission(request, model_admin, action: str) -> bool:
    """Whether the user has the model's ``action`` permission ("change", "delete"...): for admin
    actions guarded by a permission of another name."""
    opts = model_admin.opts
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Rows the app writes (its services, never a form): listed and shown, not added,
    changed or deleted here; admin actions may still act through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChoicesFilter(admin.SimpleListFilter):
    """A list filter of fixed choices: ``options`` maps each value of the parameter to
    its label and to what it keeps of the list (a function of the queryset)."""

    options: dict[str, tuple[str, Callable]] = {}

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _) in self.options.items()]

    def queryset(self, request, queryset):
        chosen = self.options.get(self.value())
        return chosen[1](queryset) if chosen else queryset
