"""Tag names as people type them, and what makes two names the same tag.

Plain functions without the database, shared by the services and the search
query parser.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TAG_LENGTH = 64
# Control characters and lone surrogates (JSON can carry them; no database stores
# them) count as spaces, as the search box treats them: any text is a usable tag.
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"\s+")


class InvalidTag(ValueError):
    """A tag name that cannot be used, with a message for people."""


def clean_tag_name(raw: str) -> str:
    """The name as stored: spaces (and control characters) trimmed and collapsed,
    NFC. InvalidTag when nothing is left, it is longer than MAX_TAG_LENGTH
    characters (as typed), or it holds a comma (commas separate tags where
    several are typed in one field)."""
    if not isinstance(raw, str):
        raise InvalidTag("A tag must be text.")
    name = _SPACES.sub(" ", _NOT_TEXT.sub(" ", raw)).strip()
    if not name:
        raise InvalidTag("A tag cannot be empty.")
    if len(name) > MAX_TAG_LENGTH:
        raise InvalidTag(f"A tag can have at most {MAX_TAG_LENGTH} characters.")
    if "," in name:
        raise InvalidTag("A tag cannot contain a comma (commas separate tags).")
    return unicodedata.normalize("NFC", name)


def tag_key(name: str) -> str:
    """What makes two names the same tag: case-insensitive, spaces (and control
    characters) collapsed."""
    folded = unicodedata.normalize("NFC", _NOT_TEXT.sub(" ", name)).casefold()
    return _SPACES.sub(" ", folded).strip()


def parse_tag_names(values: Iterable[str]) -> list[str]:
    """Tag names from form or API values, each possibly holding several separated
    by commas; blanks are skipped, repeats (by key) kept once, in order."""
    names, seen = [], set()
    for value in values:
        if not isinstance(value, str):
            raise InvalidTag("A tag must be text.")
        for part in value.split(","):
            if not _NOT_TEXT.sub(" ", part).strip():
                continue
            name = clean_tag_name(part)
            if tag_key(name) not in seen:
                seen.add(tag_key(name))
                names.append(name)
    return names
