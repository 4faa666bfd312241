"""Marking the words a query matched in a line's text, safely.

The text is OCR output, i.e. user content: it is escaped piece by piece and
only Inkdex's own ``<mark>`` tags are added.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def matches(word: str, words: set[str], prefixes: set[str]) -> bool:
    folded = word.lower()
    return folded in words or any(folded.startswith(p) for p in prefixes)


def highlight(text: str, words: set[str], prefixes: set[str] = frozenset()) -> SafeString:
    pieces, position = [], 0
    for found in _WORD.finditer(text):
        if matches(found.group(), words, prefixes):
            pieces.append(escape(text[position : found.start()]))
            pieces.append(f"<mark>{escape(found.group())}</mark>")
            position = found.end()
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))


def matched_word_boxes(line_words: list[dict], words: set[str], prefixes: set[str]) -> list[dict]:
    """Boxes of the engine's words on the image that the query matched."""
    boxes = []
    for word in line_words or []:
        if any(matches(part, words, prefixes) for part in _WORD.findall(word.get("text", ""))):
            boxes.append(word["box"])
    return boxes
