"""Search matches marked in text, for the pages (``{{ text|highlight:spans }}``)
and the API's ``highlighted_html``. The text is user content (OCR output, titles):
all of it is escaped, and only Inkdex's own ``<mark>`` tags are added."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper (60 lines a page)

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def highlight(text: str, spans: Iterable[tuple[int, int]] | None) -> SafeString:
    """``text`` escaped, the ``spans`` ((start, end) character offsets, as
    ``ocr_app.search`` gives them) each in a ``<mark>``."""
    text = str(text)
    pieces, position = [], 0
    for start, end in spans or ():
        # Out of order, overlapping or past the end: marked as far as it is new text.
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        pieces += [escape(text[position:start]), "<mark>", escape(text[start:end]), "</mark>"]
        position = end
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))
