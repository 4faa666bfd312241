"""Inkdex's models, one module per part; every model and constant is importable from here."""

from .accounts import ApiToken, ApiTokenQuerySet, SignInLimit
from .notes import PDF_CONTENT_TYPE, TITLE_MAX_LENGTH, DeletedLine, Line, Note, NoteQuerySet, NoteStatus, OnTheImage
from .review import ConfidenceWeights, ReviewAction, ReviewEvent
from .tags import NoteTag, Tag
from .words import LearnedWord, VocabularyVersion, Word

__all__ = [
    "PDF_CONTENT_TYPE",
    "TITLE_MAX_LENGTH",
    "ApiToken",
    "ApiTokenQuerySet",
    "ConfidenceWeights",
    "DeletedLine",
    "LearnedWord",
    "Line",
    "Note",
    "NoteQuerySet",
    "NoteStatus",
    "NoteTag",
    "OnTheImage",
    "ReviewAction",
    "ReviewEvent",
    "SignInLimit",
    "Tag",
    "VocabularyVersion",
    "Word",
]
