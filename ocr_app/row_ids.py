"""Ids that come from requests, checked before any query: a number the id columns
(``BigAutoField``) cannot hold makes the database raise instead of finding nothing."""

from __future__ import annotations

MAX_ROW_ID = 2**63 - 1


def row_id(value) -> int:
    """``value`` (text or a whole number) as an id some row could have; ValueError
    (TypeError for what is not text or a number) when none can."""
    pk = int(value)
    if not 0 < pk <= MAX_ROW_ID:
        raise ValueError(f"{value!r} is not an id")
    return pk
