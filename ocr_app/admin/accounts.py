"""API tokens (made and revoked here, the key shown once) and sign-in limits."""

from django import forms
from django.contrib import admin, messages
from django.db.models import F

from ..models import ApiToken, SignInLimit
from ..services import signin, tokens
from .common import ChoicesFilter


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
        token, key = tokens.create_token(user=obj.user, name=obj.name)
        obj.pk = token.pk
        obj.refresh_from_db()
        self.message_user(
            request, f"Key for {token.name!r} (copy it now, it is not shown again): {key}", messages.WARNING
        )


class BlockedNowFilter(ChoicesFilter):
    title, parameter_name = "state", "state"
    options = {
        "blocked": ("Blocked now", lambda limits: limits & signin.blocked_now()),
        "known": ("Account signed in from this address", lambda limits: limits.filter(signed_in_at__isnull=False)),
    }


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
