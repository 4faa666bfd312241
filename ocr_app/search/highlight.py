"""Where a query matched in a line's text: spans of character offsets, data for
whoever shows them (the pages and the API mark them up, escaping the text:
``ocr_app.templatetags.highlight``; ``manage.py search --json`` prints them).
"""

from __future__ import annotations

import re

from .matching import word_matches

# (start, end) offsets into the text, in characters (code points), end excluded.
Span = tuple[int, int]


class Highlighter:
    """The words (and word beginnings) to mark, compiled once for all the lines of a page."""

    def __init__(self, words: set[str], prefixes: set[str] = frozenset()) -> None:
        # Longest first, so that a word is marked whole rather than a shorter one inside it.
        choices = [re.escape(w) for w in sorted(words, key=len, reverse=True)]
        choices += [re.escape(p) + r"[^\W_]*" for p in sorted(prefixes, key=len, reverse=True)]
        self.pattern = re.compile(f"(?:{'|'.join(choices)})(?![^\\W_])", re.IGNORECASE) if choices else None

    def spans(self, text: str) -> tuple[Span, ...]:
        """Where in ``text`` the words are, in order, none overlapping."""
        if self.pattern is None:
            return ()
        return tuple(found.span() for found in word_matches(self.pattern, text))

    def word_boxes(self, line_words: list[dict]) -> list[dict]:
        """Boxes of the engine's words on the image that the query matched."""
        if self.pattern is None:
            return []
        return [
            word["box"] for word in line_words or []
            if next(word_matches(self.pattern, str(word.get("text", ""))), None) is not None
        ]
