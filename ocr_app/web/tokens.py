"""Settings: the user's API tokens. Logic lives in ``services.tokens``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ..models import ApiToken
from ..services.tokens import create_token, revoke_token

NEW_KEY_SESSION_KEY = "inkdex_new_api_key"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            messages.error(request, "Give the token a name, e.g. the script or machine that will use it.")
            return redirect("ocr_app:api_tokens")
        token, key = create_token(user=request.user, name=name)
        # Shown on the next page only (then gone): a reload or the back button never shows it again.
        request.session[NEW_KEY_SESSION_KEY] = {"id": token.pk, "key": key}
        return redirect("ocr_app:api_tokens")
    new = request.session.pop(NEW_KEY_SESSION_KEY, None)
    return render(
        request,
        "ocr_app/api_tokens.html",
        {
            "tokens": ApiToken.objects.filter(user=request.user),
            "new_key": new["key"] if new else None,
            "new_token_id": new["id"] if new else None,
            "schema_url": request.build_absolute_uri(reverse("api_schema")),
            "api_url": request.build_absolute_uri(reverse("api:notes")),
        },
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    revoke_token(token)
    messages.success(request, f"Revoked the token {token.name!r}; scripts using it are refused from now on.")
    return redirect("ocr_app:api_tokens")
