"""The owner's learned words: what people confirmed on their lines teaches the reader.

Whenever a person confirms a line's text (a reviewer's or the owner's correction or
accept, *accept the rest of the note*, the admin's bulk accept, a restore, a line
the owner added or typed), the words of that text count once more for the note's
owner. The worker hands the owner's most used words to the engine with each of
their notes (``words_for_engine``), and the lexicon prefers them to its general
word list (``engines.lexicon``). Only the owner's own words are ever used for a note.

Words are runs of letters of 3 or more (what the lexicon corrects); the language's
most common words ("the", "meeting") are left out: the dictionary reads them anyway,
and they would crowd the names out of the list the engine gets.

Correcting a line people had confirmed takes its old words' counts back, so a slip
corrected later does not stay learned. Removing a word (the owner, on the settings
page) hides it: it is no longer given to the engine, and confirmations of lines
holding it (old ones carried through a reprocess, or accepts of the engine's
readings) do not bring it back; only the owner typing it again (a correction or
a line they add) does.

The words are the owner's like their notes: the export carries them, removed ones
included (``exported_words``), and an import merges them into the importing
owner's list (``merge_words``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ..conf import inkdex
from ..engines.confidence import word_zipf
from ..models import LearnedWord, ReviewAction
from .database import upsert

MIN_LENGTH = 3
MAX_LENGTH = 64
# Words at least this frequent in the note's language are not learned (Zipf scale:
# 5 is once in 100,000 words, e.g. "account", "meeting").
COMMON_ZIPF = 5.0
_LETTER_RUNS = re.compile(r"[^\W\d_]+")


def word_key(word: str) -> str:
    """What makes two spellings one learned word: case does not matter."""
    return word.casefold()


def _is_common(key: str, language: str) -> bool:
    # A word whose frequency cannot be told (a language without a word list) is learnable.
    zipf = word_zipf(key, language)
    return zipf is not None and zipf >= COMMON_ZIPF


def words_of(texts, language: str = "en") -> dict[str, tuple[str, int]]:
    """The learnable words of ``texts``: key -> (spelling as last written, count)."""
    found: dict[str, tuple[str, int]] = {}
    for text in texts:
        for word in _LETTER_RUNS.findall(text):
            key = word_key(word)
            if not MIN_LENGTH <= len(word) <= MAX_LENGTH or len(key) > MAX_LENGTH or _is_common(key, language):
                continue
            spelling, count = found.get(key, (word, 0))
            # A word seen in capitals ("ZEPHYR", a heading) keeps a spelling in plain case.
            if not (word.isupper() and len(word) > 1) or spelling.isupper():
                spelling = word
            found[key] = (spelling, count + 1)
    return found


def learn(owner_id: int, texts, *, language: str = "en", typed_by_owner=(), now=None) -> None:
    """Count the words of ``texts`` (just confirmed on the owner's lines) once more,
    in the caller's transaction. A word the owner removed stays removed unless its
    key is in ``typed_by_owner`` (words the owner typed themselves)."""
    words = words_of(texts, language)
    if not words:
        return
    now = now or timezone.now()
    typed = {word_key(w) for w in typed_by_owner}
    table = LearnedWord._meta.db_table
    # A word in capitals keeps the spelling it had ("Zephyr", not "ZEPHYR").
    spelling = f"CASE WHEN excluded.word = UPPER(excluded.word) THEN {table}.word ELSE excluded.word END"
    for revive, keys in ((False, [k for k in words if k not in typed]), (True, [k for k in words if k in typed])):
        if not keys:
            continue
        if revive:
            update = (
                f"count = CASE WHEN {table}.removed_at IS NULL THEN {table}.count + excluded.count "
                f"ELSE excluded.count END, removed_at = NULL, word = excluded.word, "
                f"last_confirmed_at = excluded.last_confirmed_at"
            )
        else:
            update = (
                f"count = {table}.count + excluded.count, word = {spelling}, "
                f"last_confirmed_at = excluded.last_confirmed_at WHERE {table}.removed_at IS NULL"
            )
        rows = [(owner_id, words[k][0], k, words[k][1], now) for k in keys]
        upsert(table, ("owner_id", "word", "key", "count", "last_confirmed_at"), rows,
               conflict="owner_id, key", update=update)


def unlearn(owner_id: int, texts, *, language: str = "en") -> None:
    """Take the words of ``texts`` (a confirmed text people corrected away) back by one count each."""
    for key, (_, count) in words_of(texts, language).items():
        mine = LearnedWord.objects.filter(owner_id=owner_id, key=key)
        mine.filter(count__gt=count).update(count=F("count") - count)
        # Nothing left of it: forgotten (a removed word keeps its row, which keeps it hidden).
        mine.filter(count__lte=count, removed_at__isnull=True).delete()
        mine.filter(count__lte=count).update(count=0)


def learn_from_change(line, person, old_text: str, new_text: str, action: str, *, was_confirmed: bool) -> None:
    """What a person's action on a line teaches (called where lines are confirmed:
    ``review._set_text``, ``owner_edits._add``). ``was_confirmed``: the old text was
    a person's already (corrected, accepted or added before)."""
    language = line.note.language
    if was_confirmed:
        if new_text == old_text:
            return  # confirmed again: nothing new
        unlearn(line.owner_id, [old_text], language=language)
    typed = ()
    if person is not None and person.pk == line.owner_id and action in (ReviewAction.CORRECT, ReviewAction.ADD):
        old_keys = set(words_of([old_text], language))
        typed = [spelling for key, (spelling, _) in words_of([new_text], language).items() if key not in old_keys]
    learn(line.owner_id, [new_text], language=language, typed_by_owner=typed)


def visible_words(owner) -> QuerySet[LearnedWord]:
    """The owner's learned words in use, most used first."""
    return LearnedWord.objects.filter(owner=owner, removed_at__isnull=True, count__gt=0).order_by(
        "-count", "-last_confirmed_at", "key"
    )


def words_for_engine(owner_id: int, limit: int | None = None) -> tuple[str, ...]:
    """The owner's words to give the engine: most used first, at most
    ``USER_WORDS_LIMIT`` (a plain tuple of strings: it travels to the engine's process)."""
    limit = inkdex().user_words_limit if limit is None else limit
    if limit <= 0:
        return ()
    words = LearnedWord.objects.filter(owner_id=owner_id, removed_at__isnull=True, count__gt=0)
    return tuple(words.order_by("-count", "-last_confirmed_at", "key").values_list("word", flat=True)[:limit])


def remove_words(words: QuerySet[LearnedWord]) -> int:
    """Hide ``words`` (any owners'; those removed already are left as they are): no
    longer given to the engine, and not learned again unless their owner types them.
    Returns how many were removed now."""
    return words.filter(removed_at__isnull=True).update(removed_at=timezone.now(), count=0)


def remove_word(*, owner, word_id: int) -> LearnedWord:
    """Hide one of the owner's learned words (another user's is ``LearnedWord.DoesNotExist``)."""
    word = LearnedWord.objects.get(pk=word_id, owner=owner, removed_at__isnull=True)
    remove_words(LearnedWord.objects.filter(pk=word.pk))
    word.refresh_from_db(fields=["removed_at", "count"])
    return word


class WordRecord(NamedTuple):
    """One learned word as an export carries it."""

    word: str
    count: int
    last_confirmed_at: datetime
    removed_at: datetime | None


def clean_word(word) -> str:
    """``word`` if it is one a list may hold (a run of 3 to 64 letters); ValueError otherwise."""
    if not isinstance(word, str) or not _LETTER_RUNS.fullmatch(word):
        raise ValueError(f"{word!r} is not a word of letters")
    if not MIN_LENGTH <= len(word) <= MAX_LENGTH or len(word_key(word)) > MAX_LENGTH:
        raise ValueError(f"{word!r} is not {MIN_LENGTH} to {MAX_LENGTH} letters long")
    return word


def exported_words(owner) -> list[WordRecord]:
    """Every word of the owner's list, the removed ones too (so that they stay removed
    where the export is imported)."""
    words = LearnedWord.objects.filter(owner=owner).filter(Q(count__gt=0) | Q(removed_at__isnull=False))
    return [
        WordRecord(w.word, w.count, w.last_confirmed_at, w.removed_at)
        for w in words.order_by("-count", "-last_confirmed_at", "key")
    ]


def merge_words(owner, records: list[WordRecord]) -> tuple[int, int]:
    """Merge ``records`` (checked already, e.g. an import's) into the owner's list, in
    one transaction; returns (words added, words the owner had already).

    A word the owner lacks comes as it was. A word they have stays one word: its count
    is the larger of the two (importing the same export again changes nothing), its
    last confirmation the later, and it is removed when either side removed it (a
    removal is the owner's wish; typing the word brings it back, as always).
    """
    merged: dict[str, WordRecord] = {}
    for record in records:
        if record.count <= 0 and record.removed_at is None:
            continue  # nothing learned, nothing removed: nothing to keep
        earlier = merged.get(word_key(record.word))
        merged[word_key(record.word)] = record if earlier is None else _merged(earlier, record)
    if not merged:
        return 0, 0
    with transaction.atomic():
        # All the owner's words (a few thousand at most): an export's list may be longer
        # than a database takes parameters in one query.
        existing = {w.key: w for w in LearnedWord.objects.select_for_update().filter(owner=owner) if w.key in merged}
        changed = []
        for key, word in existing.items():
            record = _merged(WordRecord(word.word, word.count, word.last_confirmed_at, word.removed_at), merged[key])
            if (record.count, record.last_confirmed_at, record.removed_at) != (
                word.count, word.last_confirmed_at, word.removed_at
            ):
                word.count, word.last_confirmed_at, word.removed_at = record.count, record.last_confirmed_at, record.removed_at
                changed.append(word)
        LearnedWord.objects.bulk_update(changed, ["count", "last_confirmed_at", "removed_at"], batch_size=500)
        new = [
            LearnedWord(owner=owner, word=r.word, key=key, count=0 if r.removed_at else r.count,
                        last_confirmed_at=r.last_confirmed_at, removed_at=r.removed_at)
            for key, r in merged.items() if key not in existing
        ]
        # A word one of the owner's lines taught meanwhile keeps what that taught.
        LearnedWord.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return len(new), len(existing)


def _merged(mine: WordRecord, other: WordRecord) -> WordRecord:
    """One word known on two sides (``mine`` keeps its spelling)."""
    removed_at = mine.removed_at or other.removed_at
    return WordRecord(
        mine.word,
        0 if removed_at else max(mine.count, other.count),
        max(mine.last_confirmed_at, other.last_confirmed_at),
        removed_at,
    )
