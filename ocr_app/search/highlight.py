"""Where a query matched in a line's text: spans of character offsets, data for
whoever shows them (the pages and the API mark them up, escaping the text:
``ocr_app.templatetags.highlight``; ``manage.py search --json`` prints them).
"""

from __future__ import annotations

import re

from .matching import word_matches
from .query import LETTER

# (start, end) offsets into the text, in characters (code points), end excluded.
Span = tuple[int, int]


def _folded(text: str) -> tuple[str, range | list[int]]:
    """``text`` case-folded as ``query.fold`` folds words, and for each folded character
    the offset in ``text`` it comes from (folding "ß" gives "ss": two from one). No NFC
    step: lines and titles are stored composed already (``query.composed``)."""
    folded = text.casefold()
    if len(folded) == len(text):
        return folded, range(len(text))
    # Folding has no context rules: the whole text folds as its characters one by one.
    return folded, [i for i, char in enumerate(text) for _ in char.casefold()]


class Highlighter:
    """The words (and word beginnings) to mark, compiled once for all the lines of a page."""

    def __init__(self, words: set[str], prefixes: set[str] = frozenset()) -> None:
        # Longest first, so that a word is marked whole rather than a shorter one inside it.
        choices = [re.escape(w) for w in sorted(words, key=len, reverse=True)]
        choices += [re.escape(p) + f"{LETTER}*" for p in sorted(prefixes, key=len, reverse=True)]
        # The words come case-folded (``query.fold``): each text is folded the same way.
        self.pattern = re.compile(f"(?:{'|'.join(choices)})(?!{LETTER})") if choices else None

    def spans(self, text: str) -> tuple[Span, ...]:
        """Where in ``text`` the words are, in order, none overlapping."""
        if self.pattern is None:
            return ()
        folded, source = _folded(text)
        return tuple((source[found.start()], source[found.end() - 1] + 1) for found in word_matches(self.pattern, folded))

    def word_boxes(self, line_words: list[dict]) -> list[dict]:
        """Boxes of the engine's words on the image that the query matched."""
        if self.pattern is None:
            return []
        return [
            word["box"] for word in line_words or []
            if next(word_matches(self.pattern, _folded(str(word.get("text", "")))[0]), None) is not None
        ]
