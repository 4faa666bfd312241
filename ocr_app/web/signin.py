"""The sign-in pages: the limits themselves are in the authentication backend
(``auth_backends``); these pages say how long to wait, with status 429."""

from __future__ import annotations

from functools import wraps

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError

from ..services import signin


class RefusalMessageMixin:
    """A try refused by the limits says so instead of "wrong password"."""

    def get_invalid_login_error(self):
        wait = signin.refusal_wait(self.request)
        if wait:
            return ValidationError(signin.wait_message(wait), code="signin_limited")
        return super().get_invalid_login_error()


class SignInForm(RefusalMessageMixin, AuthenticationForm):
    pass


class AdminSignInForm(RefusalMessageMixin, AdminAuthenticationForm):
    pass


def answers_refusals_with_429(view):
    """``view`` answers 429 Too Many Requests, with Retry-After, to a refused try."""

    @wraps(view)
    def limited_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        wait = signin.refusal_wait(request)
        if wait:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response

    return limited_view


login = answers_refusals_with_429(LoginView.as_view(authentication_form=SignInForm))
