"""What guards accounts: sign-in limits and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SignInLimit(models.Model):
    """What slows down password guessing for one account, one address, or one
    account from one address (see ``services.signin``)."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "account, from all addresses"
        ADDRESS = "address", "address, all accounts"
        ACCOUNT_ADDRESS = "account_address", "account from one address"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    # The user name as authentication normalises it (then case-folded); blank for an address.
    account = models.CharField(max_length=150, blank=True)
    # An IPv4 address or an IPv6 /64 network; blank for an account.
    address = models.CharField(max_length=64, blank=True)
    # Failed tries, counting tries whose password is still being checked.
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # No try is let through before this.
    blocked_until = models.DateTimeField(null=True, blank=True, db_index=True)
    # For an account from one address: when the account last signed in from there.
    signed_in_at = models.DateTimeField(null=True, blank=True)
    # After this the row means nothing and may be deleted.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "sign-in limit"
        constraints = [
            models.UniqueConstraint(fields=["scope", "account", "address"], name="signin_limit_unique_key"),
        ]

    def __str__(self) -> str:
        if self.scope == self.Scope.ACCOUNT:
            return f"account {self.account}"
        if self.scope == self.Scope.ADDRESS:
            return f"address {self.address}"
        return f"account {self.account} from {self.address}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A key a user made for scripts to call the JSON API as them.

    Only a SHA-256 hash of the key is stored; the key itself is shown once, when
    it is created. ``prefix`` (the key's first characters) tells tokens apart.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
