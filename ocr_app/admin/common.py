"""What the admin's model pages share."""

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
