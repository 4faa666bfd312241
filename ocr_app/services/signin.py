"""Slowing down password guessing: too many failed sign-ins for one account, or
from one address, within a window block further tries for a while.

Failures are kept in the database, so every web process (and machine) counts
the same ones.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import SignInFailure


def _setting(name: str):
    return settings.INKDEX[name]


def _window_start():
    return timezone.now() - timedelta(seconds=_setting("SIGNIN_WINDOW_SECONDS"))


def _key(username: str) -> str:
    return username.strip().lower()[:150]


def seconds_blocked(username: str, ip_address: str | None) -> int:
    """How long before another sign-in may be tried for this account from this
    address; 0 when it may be tried now."""
    recent = SignInFailure.objects.filter(at__gte=_window_start())
    failures = [recent.filter(username=_key(username)).order_by("-at")]
    limits = [_setting("SIGNIN_MAX_FAILURES_PER_ACCOUNT")]
    if ip_address:
        failures.append(recent.filter(ip_address=ip_address).order_by("-at"))
        limits.append(_setting("SIGNIN_MAX_FAILURES_PER_ADDRESS"))
    wait = 0.0
    for queryset, limit in zip(failures, limits):
        times = list(queryset.values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            # Blocked until the oldest of the last ``limit`` failures leaves the window.
            free_at = times[-1] + timedelta(seconds=_setting("SIGNIN_WINDOW_SECONDS"))
            wait = max(wait, (free_at - timezone.now()).total_seconds())
    return max(0, math.ceil(wait))


def record_failure(username: str, ip_address: str | None) -> None:
    SignInFailure.objects.create(username=_key(username), ip_address=ip_address or None)
    # Old failures mean nothing any more.
    SignInFailure.objects.filter(at__lt=_window_start()).delete()


def record_success(username: str) -> None:
    SignInFailure.objects.filter(username=_key(username)).delete()
