"""Settings: the words Inkdex learned from the user's confirmed lines. Logic lives
in ``services.learned_words``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ..models import LearnedWord
from ..services.learned_words import remove_word, visible_words

# The page lists this many, most used first (the engine gets USER_WORDS_LIMIT).
WORDS_SHOWN = 2000


@never_cache
@login_required
@require_GET
def learned_words(request: HttpRequest) -> HttpResponse:
    words = list(visible_words(request.user)[: WORDS_SHOWN + 1])
    return render(
        request,
        "ocr_app/learned_words.html",
        {"words": words[:WORDS_SHOWN], "more": len(words) > WORDS_SHOWN},
    )


@login_required
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        word = remove_word(owner=request.user, word_id=pk)
    except LearnedWord.DoesNotExist:
        raise Http404("No such word.") from None
    messages.success(request, f"Removed {word.word!r}: Inkdex no longer prefers it when reading your notes.")
    return redirect("ocr_app:learned_words")
