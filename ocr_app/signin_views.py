"""Sign-in with a limit on failed tries (see ``services.signin``)."""

from __future__ import annotations

from django.contrib.auth.views import LoginView

from .services import signin


class ThrottledLoginView(LoginView):
    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        address = request.META.get("REMOTE_ADDR")
        wait = signin.seconds_blocked(username, address)
        if wait:
            form = self.get_form()
            minutes = max(1, round(wait / 60))
            form.errors.clear()
            form.add_error(
                None, f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            signin.record_success(username)
        else:
            signin.record_failure(username, address)
        return response
