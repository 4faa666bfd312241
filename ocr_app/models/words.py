"""Each user's words: the vocabulary search draws on, and the words people confirmed for the engine."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Word(models.Model):
    """A distinct word of one user's lines: fuzzy search and suggestions draw on these."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=64)
    # How many times the user's lines hold the word.
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "word"], name="word_unique_per_owner")]

    def __str__(self) -> str:
        return self.word


class VocabularyVersion(models.Model):
    """A new random value whenever a user's words change, so that each process
    can keep the word list in memory and know when to reload it."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"words of user {self.owner_id}, version {self.version}"


class LearnedWord(models.Model):
    """A word people confirmed on one owner's lines (a correction, an accept, a
    typed line): the engine's lexicon prefers these for that owner's notes
    (see ``services.learned_words``)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # As last confirmed ("Priya"); ``key`` is what makes two spellings one word.
    word = models.CharField(max_length=64)
    key = models.CharField(max_length=64)
    # Confirmations of lines holding it (less those corrected away since).
    count = models.PositiveIntegerField(default=0)
    last_confirmed_at = models.DateTimeField(default=timezone.now)
    # Set when the owner removed it: not used, and not learned again unless the owner types it.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="learned_word_unique_per_owner")]
        indexes = [models.Index(fields=["owner", "removed_at", "-count"], name="learned_word_by_use")]

    def __str__(self) -> str:
        return self.word
