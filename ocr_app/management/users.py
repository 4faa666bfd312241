"""The user a management command acts for."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def user_named(name: str):
    """The user with this user name, or a CommandError saying there is none."""
    User = get_user_model()
    try:
        return User.objects.get_by_natural_key(name)
    except User.DoesNotExist as exc:
        raise CommandError(f"No user called {name!r}.") from exc
