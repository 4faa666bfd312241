"""Slowing down password guessing, on every way to sign in.

Three counters take part in each try (``SignInLimit`` rows):

- the account from one address: after ``SIGNIN_MAX_FAILURES`` failures each
  further try from there waits, 1 s, then 2, 4, ... up to
  ``SIGNIN_MAX_DELAY_SECONDS``;
- the account from all addresses together: after
  ``SIGNIN_ACCOUNT_MAX_FAILURES`` failures every try on it waits too, doubling
  up to ``SIGNIN_ACCOUNT_MAX_DELAY_SECONDS`` (short, so an attacker never holds
  a lock). Addresses the account recently signed in from are spared this wait,
  so the owner is not kept out by someone guessing elsewhere;
- the address across all accounts: ``SIGNIN_MAX_FAILURES_PER_ADDRESS``
  failures within ``SIGNIN_WINDOW_SECONDS`` block it for that long.

A try is counted as a failure *before* its password is checked, under a row
lock, and taken back if the password was right: parallel tries cannot all
pass a count that none of them has added to yet. A successful sign-in clears
the account's counters (not those of other addresses guessing it). Counters
live in the database, so every web process and machine shares them.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..conf import inkdex
from ..models import SignInLimit

Scope = SignInLimit.Scope
# Doubling stops mattering long before this; it keeps 2**n small.
_MAX_DOUBLINGS = 30
# A counter row just created is kept at least this long, even if it never counts a failure.
_NEW_ROW_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class Attempt:
    """A sign-in try: let through (``wait == 0``) or refused for ``wait`` seconds."""

    account: str
    address: str
    wait: int = 0


def account_key(username: str) -> str:
    """The account a user name signs in to, normalised as Django's sign-in form
    does it (NFKC, so look-alike letters are one account), case-folded and
    trimmed so that case and spacing variants count together too."""
    name = get_user_model().normalize_username(str(username))
    return name.strip().casefold()[:150]


def _keys(account: str, address: str) -> list[tuple[str, str, str]]:
    # Sorted: every try creates its rows in the same order.
    return sorted(
        [(Scope.ACCOUNT, account, ""), (Scope.ADDRESS, "", address), (Scope.ACCOUNT_ADDRESS, account, address)]
    )


def _key_filter(keys) -> Q:
    condition = Q(pk__in=[])
    for scope, account, address in keys:
        condition |= Q(scope=scope, account=account, address=address)
    return condition


@contextmanager
def _locked_rows(keys, now: datetime):
    """The rows of ``keys`` (created when missing), locked in one transaction.

    Rows are created outside the transaction and then locked in one order for
    all tries: no try holds a row while waiting for one another try holds first.
    """
    while True:
        SignInLimit.objects.bulk_create(
            [SignInLimit(scope=scope, account=account, address=address, expires_at=now + _NEW_ROW_LIFETIME)
             for scope, account, address in keys],
            ignore_conflicts=True,
        )
        with transaction.atomic():
            query = SignInLimit.objects.select_for_update().filter(_key_filter(keys))
            rows = {(row.scope, row.account, row.address): row for row in query.order_by("scope", "account", "address")}
            if len(rows) == len(keys):
                yield rows
                return
        # An expired row was purged between creating and locking: create it again.


def _purge_expired(now: datetime) -> None:
    """Delete counters nobody has used for long; rows a try holds are left alone."""
    with transaction.atomic():
        expired = SignInLimit.objects.select_for_update(skip_locked=True).filter(expires_at__lt=now)
        ids = list(expired.values_list("pk", flat=True)[:1000])
        SignInLimit.objects.filter(pk__in=ids).delete()


def _growing_delay(failures: int, free: int, longest: float) -> float:
    if failures < free:
        return 0.0
    return min(float(longest), inkdex().signin_delay_seconds * 2 ** min(failures - free, _MAX_DOUBLINGS))


def _forget_old_failures(row: SignInLimit, now: datetime) -> None:
    if row.scope == Scope.ADDRESS:
        counted_since, keep_seconds = row.first_failure_at, inkdex().signin_window_seconds
    else:
        counted_since, keep_seconds = row.last_failure_at, inkdex().signin_forget_seconds
    if counted_since and counted_since <= now - timedelta(seconds=keep_seconds):
        row.failures = 0
        row.first_failure_at = row.last_failure_at = None


def _is_known_address(pair: SignInLimit, now: datetime) -> bool:
    return bool(pair.signed_in_at and pair.signed_in_at > now - timedelta(days=inkdex().signin_known_address_days))


def _expiry(row: SignInLimit, now: datetime) -> datetime:
    times = [now]
    if row.blocked_until:
        times.append(row.blocked_until)
    if row.scope == Scope.ADDRESS and row.first_failure_at:
        times.append(row.first_failure_at + timedelta(seconds=inkdex().signin_window_seconds))
    if row.scope != Scope.ADDRESS and row.last_failure_at:
        times.append(row.last_failure_at + timedelta(seconds=inkdex().signin_forget_seconds))
    if row.signed_in_at:
        times.append(row.signed_in_at + timedelta(days=inkdex().signin_known_address_days))
    return max(times)


def _count_failure(row: SignInLimit, now: datetime) -> None:
    row.failures += 1
    row.first_failure_at = row.first_failure_at or now
    row.last_failure_at = now
    if row.scope == Scope.ADDRESS:
        blocked = row.failures >= inkdex().signin_max_failures_per_address
        delay = inkdex().signin_window_seconds if blocked else 0
    elif row.scope == Scope.ACCOUNT:
        free, longest = inkdex().signin_account_max_failures, inkdex().signin_account_max_delay_seconds
        delay = _growing_delay(row.failures, free, longest)
    else:
        free, longest = inkdex().signin_max_failures, inkdex().signin_max_delay_seconds
        delay = _growing_delay(row.failures, free, longest)
    row.blocked_until = now + timedelta(seconds=delay) if delay else None
    row.expires_at = _expiry(row, now)


def begin_attempt(username: str, address: str) -> Attempt:
    """Let a sign-in try through, counting it as failed until ``attempt_succeeded``
    says otherwise; or refuse it, saying how many seconds to wait.

    ``address`` is the client's address group (``client_address.client_address_group``).
    """
    now = timezone.now()
    account = account_key(username)
    # A blocked address is refused before any counter is made for the name it tries:
    # it cannot fill the table with rows for made-up names. (Checked again under lock.)
    address_free_at = (
        SignInLimit.objects.filter(scope=Scope.ADDRESS, account="", address=address, blocked_until__gt=now)
        .values_list("blocked_until", flat=True)
        .first()
    )
    if address_free_at is not None:
        return Attempt(account, address, wait=math.ceil((address_free_at - now).total_seconds()))
    keys = _keys(account, address)
    with _locked_rows(keys, now) as rows:
        for row in rows.values():
            _forget_old_failures(row, now)
        pair = rows[(Scope.ACCOUNT_ADDRESS, account, address)]
        waiting = [rows[(Scope.ADDRESS, "", address)], pair]
        if not _is_known_address(pair, now):
            waiting.append(rows[(Scope.ACCOUNT, account, "")])
        until = max((row.blocked_until for row in waiting if row.blocked_until), default=None)
        if until is not None and until > now:
            return Attempt(account, address, wait=math.ceil((until - now).total_seconds()))
        for row in rows.values():
            _count_failure(row, now)
            row.save()
    _purge_expired(now)
    return Attempt(account, address)


def attempt_succeeded(attempt: Attempt) -> None:
    """The password was right: clear the account's counters for this address
    and across addresses, remember the address as the account's, and take back
    the failure counted for the address."""
    now = timezone.now()
    with _locked_rows(_keys(attempt.account, attempt.address), now) as rows:
        for (scope, _account, _address), row in rows.items():
            if scope == Scope.ADDRESS:
                row.failures = max(0, row.failures - 1)
                if row.failures < inkdex().signin_max_failures_per_address:
                    row.blocked_until = None
            else:
                row.failures = 0
                row.first_failure_at = row.last_failure_at = row.blocked_until = None
                if scope == Scope.ACCOUNT_ADDRESS:
                    row.signed_in_at = now
            row.expires_at = _expiry(row, now)
            row.save()


def blocked_now(now: datetime | None = None):
    """The counters that refuse tries at the moment."""
    return SignInLimit.objects.filter(blocked_until__gt=now or timezone.now())


def clear(rows) -> int:
    """Let tries through again: forget the failures of ``rows`` (an admin's decision)."""
    return rows.update(failures=0, first_failure_at=None, last_failure_at=None, blocked_until=None)


def wait_message(seconds: int) -> str:
    if seconds < 60:
        amount, unit = seconds, "second"
    else:
        amount, unit = math.ceil(seconds / 60), "minute"
    return f"Too many failed sign-ins. Try again in {amount} {unit}{'' if amount == 1 else 's'}."


# A refused try is refused inside authentication; the page showing the form
# learns of it from the request.
_REFUSAL_ATTRIBUTE = "inkdex_signin_wait"


def remember_refusal(request, wait: int) -> None:
    if request is not None:
        setattr(request, _REFUSAL_ATTRIBUTE, wait)


def refusal_wait(request) -> int:
    """Seconds the sign-in try of ``request`` was told to wait; 0 if it was not refused."""
    return getattr(request, _REFUSAL_ATTRIBUTE, 0)
