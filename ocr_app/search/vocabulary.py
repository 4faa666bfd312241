"""Each user's own words: what fuzzy matching and suggestions draw on.

The full-text indexes hold exact words only. A query word the engine misread
("plumbcr" for "plumber") is matched by looking it up among the distinct words
the user's lines contain, with an edit-distance search (RapidFuzz), and
searching for the close ones too.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter, OrderedDict

from django.db import connection, transaction
from django.db.models import F
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ..models import VocabularyVersion, Word
from ..services.database import upsert
from .query import words_of

MIN_WORD_LENGTH = 2
# Shorter words have too many neighbours for fuzzy matching to mean anything.
MIN_FUZZY_LENGTH = 4
MAX_EXPANSIONS = 8


def max_fuzzy_edits(word: str) -> int:
    """A query word finds the owner's words within this many edits: 1 up to 6 letters, else 2."""
    return 1 if len(word) <= 6 else 2


def line_texts(lines) -> list[str]:
    """Everything of ``lines`` that search knows them by: the text and the alternative readings."""
    return [text for line in lines for text in (line.text, *line.alternatives)]


def _word_counts(texts) -> Counter:
    return Counter(w for text in texts for w in words_of(text) if len(w) >= MIN_WORD_LENGTH)


def _changed(owner_id: int) -> None:
    """Mark the owner's vocabulary changed (in the caller's transaction)."""
    table = VocabularyVersion._meta.db_table
    # A random version, not a counter: a counter would repeat after a rollback
    # or for a new user given a deleted user's id, and a process would keep a
    # stale list believing it current.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (owner_id, version) VALUES (%s, %s) "
            "ON CONFLICT (owner_id) DO UPDATE SET version = excluded.version",
            [owner_id, secrets.randbits(62)],
        )


def record_words(owner_id: int, texts) -> None:
    """Add the words of ``texts`` to the owner's vocabulary (in the caller's transaction)."""
    counts = _word_counts(texts)
    if not counts:
        return
    _changed(owner_id)
    table = Word._meta.db_table
    rows = [(owner_id, word, count) for word, count in counts.items()]
    upsert(table, ("owner_id", "word", "count"), rows, conflict="owner_id, word",
           update=f"count = {table}.count + excluded.count", chunk=300)


def forget_words(owner_id: int, texts) -> None:
    """Take the words of ``texts`` (lines being replaced or corrected) out of the
    owner's vocabulary, so suggestions stop offering words no line holds."""
    counts = _word_counts(texts)
    if counts:
        _changed(owner_id)
    by_count: dict[int, list[str]] = {}
    for word, count in counts.items():
        by_count.setdefault(count, []).append(word)
    for count, words in by_count.items():
        seen = Word.objects.filter(owner_id=owner_id, word__in=words)
        seen.filter(count__lte=count).delete()
        seen.update(count=F("count") - count)


def vocabulary_owners() -> list[int]:
    """The users who have lines."""
    from ..models import Line

    # order_by(): Line's default ordering would make DISTINCT return one owner per line.
    return list(Line.objects.order_by().values_list("owner_id", flat=True).distinct())


def rebuild_owner_vocabulary(owner_id: int) -> int:
    """Recount one user's words from their lines; returns how many distinct words."""
    from ..models import Line

    with transaction.atomic():
        _changed(owner_id)
        Word.objects.filter(owner_id=owner_id).delete()
        lines = Line.objects.filter(owner_id=owner_id).only("text", "alternatives").iterator(2000)
        record_words(owner_id, line_texts(lines))
        return Word.objects.filter(owner_id=owner_id).count()


def rebuild_vocabulary(owner_id: int | None = None) -> int:
    """Recount every user's (or one user's) words from their lines; returns rows written."""
    owners = [owner_id] if owner_id else vocabulary_owners()
    written = sum(rebuild_owner_vocabulary(owner) for owner in owners)
    if owner_id is None:
        Word.objects.exclude(owner_id__in=owners).delete()
    return written


class _Vocabulary:
    """One user's words in memory: by length, with how often each occurs."""

    def __init__(self, rows) -> None:
        self.frequency = dict(rows)
        self.by_length: dict[int, list[str]] = {}
        for word in self.frequency:
            self.by_length.setdefault(len(word), []).append(word)

    def of_length(self, low: int, high: int) -> list[str]:
        return [word for length in range(low, high + 1) for word in self.by_length.get(length, ())]


# Loading a large vocabulary costs more than the search itself; keep a few in memory.
_CACHE_SIZE = 16
_cache: OrderedDict[int, tuple[int, _Vocabulary]] = OrderedDict()
_cache_lock = threading.Lock()


def _vocabulary(owner_id: int) -> _Vocabulary:
    version = VocabularyVersion.objects.filter(owner_id=owner_id).values_list("version", flat=True).first() or 0
    with _cache_lock:
        cached = _cache.get(owner_id)
        if cached and cached[0] == version:
            _cache.move_to_end(owner_id)
            return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT word, count FROM {Word._meta.db_table} WHERE owner_id = %s", [owner_id])
        vocabulary = _Vocabulary(cursor.fetchall())
    with _cache_lock:
        _cache[owner_id] = (version, vocabulary)
        _cache.move_to_end(owner_id)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return vocabulary


def close_words(owner_id: int, words: list[str]) -> dict[str, list[str]]:
    """For each query word, the user's words within a small edit distance of it
    (the word itself excluded), closest and most frequent first."""
    wanted = sorted({w for w in words if len(w) >= MIN_FUZZY_LENGTH})
    if not wanted:
        return {}
    vocabulary = _vocabulary(owner_id)
    expansions: dict[str, list[str]] = {}
    for word in wanted:
        edits = max_fuzzy_edits(word)
        found = process.extract(
            word, vocabulary.of_length(len(word) - edits, len(word) + edits),
            scorer=Levenshtein.distance, score_cutoff=edits, limit=None,
        )
        close = sorted(
            ((candidate, distance) for candidate, distance, _ in found if candidate != word),
            key=lambda item: (item[1], -vocabulary.frequency[item[0]], item[0]),
        )
        if close:
            expansions[word] = [candidate for candidate, _ in close[:MAX_EXPANSIONS]]
    return expansions


def suggest_words(owner_id: int, prefix: str, limit: int = 8) -> list[str]:
    """The user's most frequent words starting with ``prefix``."""
    [prefix] = words_of(prefix)[-1:] or [""]
    if not prefix:
        return []
    return list(
        Word.objects.filter(owner_id=owner_id, word__startswith=prefix)
        .order_by("-count", "word")
        .values_list("word", flat=True)[:limit]
    )
