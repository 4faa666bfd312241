"""Marking the words a query matched in a line's text, safely.

The text is OCR output, i.e. user content: it is escaped piece by piece and
only Inkdex's own ``<mark>`` tags are added.
"""

from __future__ import annotations

import re
from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper (60 lines a page)

from django.utils.safestring import SafeString, mark_safe

from .matching import word_matches


class Highlighter:
    """The words (and word beginnings) to mark, compiled once for all the lines of a page."""

    def __init__(self, words: set[str], prefixes: set[str] = frozenset()) -> None:
        # Longest first, so that a word is marked whole rather than a shorter one inside it.
        choices = [re.escape(w) for w in sorted(words, key=len, reverse=True)]
        choices += [re.escape(p) + r"[^\W_]*" for p in sorted(prefixes, key=len, reverse=True)]
        self.pattern = re.compile(f"(?:{'|'.join(choices)})(?![^\\W_])", re.IGNORECASE) if choices else None

    def html(self, text: str) -> SafeString:
        if self.pattern is None:
            return mark_safe(escape(text))
        pieces, position = [], 0
        for found in word_matches(self.pattern, text):
            pieces.append(escape(text[position : found.start()]))
            pieces.append(f"<mark>{escape(found.group())}</mark>")
            position = found.end()
        pieces.append(escape(text[position:]))
        return mark_safe("".join(pieces))

    def word_boxes(self, line_words: list[dict]) -> list[dict]:
        """Boxes of the engine's words on the image that the query matched."""
        if self.pattern is None:
            return []
        return [
            word["box"] for word in line_words or []
            if next(word_matches(self.pattern, str(word.get("text", ""))), None) is not None
        ]
