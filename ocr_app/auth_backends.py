"""The one authentication backend: Django's user/password check behind the
sign-in limits, so that every door that calls ``authenticate()`` (the sign-in
page, the admin's login, any added later) is limited alike."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .services import signin
from .services.client_address import client_address_group


class SignInRefused(PermissionDenied):
    """Too many failed tries: the password is not even checked."""

    def __init__(self, wait: int) -> None:
        super().__init__(signin.wait_message(wait))
        self.wait = wait


class SignInLimitBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        attempt = signin.begin_attempt(username, client_address_group(request))
        if attempt.wait:
            signin.remember_refusal(request, attempt.wait)
            # PermissionDenied stops authenticate() trying any other backend.
            raise SignInRefused(attempt.wait)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            # Stop here: ModelBackend, listed after this one only so that sessions
            # signed in before the limits existed stay valid, must not check again.
            raise PermissionDenied
        signin.attempt_succeeded(attempt)
        return user
