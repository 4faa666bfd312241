"""Notes and their lines: an upload and its recognition, the lines read, and the lines people deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from ..conf import inkdex
from ..engines import Box
from ..images import BROWSER_DISPLAYABLE_TYPES


class NoteStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Recognizing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    # An uploaded PDF: the worker turns each page into a note of its own.
    SPLITTING = "splitting", "Splitting into pages"
    SPLIT = "split", "Split into pages"


PDF_CONTENT_TYPE = "application/pdf"
TITLE_MAX_LENGTH = 200


class NoteQuerySet(models.QuerySet):
    def owned_by(self, user) -> "NoteQuerySet":
        return self.filter(owner=user)

    def listed(self) -> "NoteQuerySet":
        """What lists show: a PDF once split is shown as its pages, not itself."""
        return self.exclude(status=NoteStatus.SPLIT)

    def needing_review(self) -> "NoteQuerySet":
        """Notes with any line waiting for review (as search's *needs review* filter)."""
        return self.filter(Exists(Line.objects.filter(note=OuterRef("pk"), needs_review=True)))

    def uploaded_more_than_once(self) -> "NoteQuerySet":
        """Uploaded notes whose owner has another with the same content (stored anyway,
        with ``allow_duplicates``); notes made of PDF pages do not count, as for uploads."""
        same = Note.objects.filter(owner=OuterRef("owner"), sha256=OuterRef("sha256"), page_number__isnull=True)
        return self.filter(page_number__isnull=True).filter(Exists(same.exclude(pk=OuterRef("pk"))))

    def with_line_counts(self) -> "NoteQuerySet":
        counted = self.annotate(
            line_count=Count("lines", distinct=True),
            flagged_count=Count("lines", filter=Q(lines__needs_review=True), distinct=True),
        )
        # Django leaves Meta.ordering out of GROUP BY queries: keep lists newest first.
        return counted if self.query.order_by else counted.order_by(*self.model._meta.ordering)

    def nothing_read(self) -> "NoteQuerySet":
        """Notes recognised without a single line: the engine found no text (or the
        owner deleted every line). Pages flag them; reviewers may type their text.
        The same rule for one note: ``Note.has_nothing_read``."""
        return self.filter(status=NoteStatus.DONE).exclude(content_type=PDF_CONTENT_TYPE).exclude(
            Exists(Line.objects.filter(note=OuterRef("pk")))
        )


class Note(models.Model):
    """One uploaded image of a handwritten note and the state of its recognition.

    An uploaded PDF is a note too, stored as uploaded (``content_type`` is
    ``application/pdf``, no lines): the worker splits it into one note per page
    (status *splitting*, then *split*), each pointing back at it with ``source``.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes")
    # Stored under a generated name; the client's file name is only ever shown.
    image = models.FileField(max_length=255)
    # An upright JPEG for browsers (also for HEIC/TIFF they cannot show), and a small one for lists.
    preview = models.FileField(max_length=255, blank=True)
    thumbnail = models.FileField(max_length=255, blank=True)
    original_name = models.CharField(max_length=255)
    # What pages, the API and search show the note as: set automatically (services.titles)
    # until the owner renames it; an owner's title is never replaced automatically.
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    title_set_by_owner = models.BooleanField(
        default=False, help_text="The owner chose the title; recognising the note again keeps it."
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField()
    # Upright size (after EXIF orientation): line boxes are in these pixels.
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    image_format = models.CharField(max_length=16)
    content_type = models.CharField(max_length=64)
    language = models.CharField(max_length=16, default="en")
    # A page of an uploaded PDF (each page is a note of its own); for the PDF
    # itself, its number of pages once the worker has opened it.
    page_number = models.PositiveIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    # The PDF this note is a page of (pages made before PDFs were kept have none).
    # Deleting the PDF keeps its pages.
    source = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="pages")

    status = models.CharField(max_length=16, choices=NoteStatus.choices, default=NoteStatus.QUEUED, db_index=True)
    uploaded_at = models.DateTimeField(default=timezone.now, db_index=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by the worker while it recognises; a stale heartbeat means the worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # A queued note waiting to be tried again is left alone by workers until then.
    retry_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why recognition failed, in words for the owner.")
    # Which claim on the note is current: a worker that lost its claim cannot write.
    run_token = models.CharField(max_length=32, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Engine asked for on the next run; blank means the configured default.
    requested_engine = models.CharField(max_length=32, blank=True)

    engine_name = models.CharField(max_length=32, blank=True)
    engine_version = models.CharField(max_length=128, blank=True)
    partial_result = models.BooleanField(
        default=False, help_text="The engine ran in a restricted mode and returned only part of the text."
    )
    processing_seconds = models.FloatField(null=True, blank=True)
    # Nullable without a default so that adding it does not rebuild the table on SQLite
    # (the search triggers on the lines table name it): null until recognised since.
    warnings = models.JSONField(
        null=True, blank=True,
        help_text="What the engine said about its last recognition (e.g. a trial mode), in words for the owner.",
    )
    # Share (0..1) of the page's ink outside every line the engine found; null when
    # the engine cannot tell (see ``partly_unread``).
    unread_ink = models.FloatField(null=True, blank=True)
    # How many lines people had corrected, accepted or added that the last
    # recognition kept (services/carry_over.py); the note page says so.
    carried_corrections = models.PositiveIntegerField(default=0)

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-uploaded_at"], name="note_owner_uploaded_idx"),
            # Workers take the next note fairly across owners (pipeline/claims.py): each
            # owner's queued notes in order, and when each owner was last served.
            models.Index(
                fields=["owner", "queued_at", "id"], condition=Q(status="queued"), name="note_owner_queued_idx"
            ),
            models.Index(fields=["owner", "started_at"], name="note_owner_started_idx"),
            # The notes list (services/listing.py): counting an owner's listed notes, the
            # status filter and the status sort, without reading the table.
            models.Index(fields=["owner", "status", "-uploaded_at"], name="note_owner_status_uploaded_idx"),
            # The notes list's title sort (A to Z whatever the case).
            models.Index(F("owner"), Lower("title"), name="note_owner_title_lower_idx"),
        ]
        constraints = [
            # Splitting a PDF again (a retry, a worker that died half-way) never makes a page twice.
            models.UniqueConstraint(fields=["source", "page_number"], name="note_unique_page_of_source"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("ocr_app:note_detail", args=[self.pk])

    def save(self, *args, **kwargs):
        # Every note has a title from the start; recognition may give it a better one.
        if not self.title:
            self.title = self.file_title[:TITLE_MAX_LENGTH]
        super().save(*args, **kwargs)

    @property
    def file_title(self) -> str:
        """The note's file name, and the page for a page of a PDF: its title until something better is read."""
        if self.page_number:
            return f"{self.original_name} (page {self.page_number} of {self.page_count})"
        return self.original_name

    @property
    def is_pending(self) -> bool:
        return self.status in {NoteStatus.QUEUED, NoteStatus.PROCESSING, NoteStatus.SPLITTING}

    @property
    def is_pdf(self) -> bool:
        """An uploaded PDF (split into page notes by the worker), not an image."""
        return self.content_type == PDF_CONTENT_TYPE

    @property
    def browsers_show_original(self) -> bool:
        """Whether a browser shows the stored original (pages use it until the JPEG renditions are made)."""
        return self.content_type in BROWSER_DISPLAYABLE_TYPES

    def has_nothing_read(self, *, line_count: int | None = None) -> bool:
        """Recognised without a single line (``NoteQuerySet.nothing_read`` for one note).
        ``line_count``: the lines the caller has already counted or loaded; otherwise
        a ``with_line_counts`` annotation, otherwise one query."""
        if self.status != NoteStatus.DONE or self.is_pdf:
            return False
        if line_count is None:
            line_count = getattr(self, "line_count", None)
        return not self.lines.exists() if line_count is None else line_count == 0

    @property
    def partly_unread(self) -> bool:
        """Recognised, with enough of the page's ink outside every line found
        (``INKDEX_UNREAD_INK_SHARE``) that the engine may have missed writing."""
        return (
            self.status == NoteStatus.DONE
            and self.unread_ink is not None
            and self.unread_ink >= inkdex().unread_ink_share
        )


class OnTheImage:
    """A box in the pixels of the note's upright stored image (``x``, ``y``, ``width``, ``height``):
    lines, deleted lines, and the lines search results show."""

    __slots__ = ()

    @property
    def box(self) -> Box:
        """As the engine gave it (``box.as_dict()`` is how JSON answers and exports write it)."""
        return Box(self.x, self.y, self.width, self.height)


class Line(OnTheImage, models.Model):
    """One recognised line of a note: its text, how sure the engine was, and where it is."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="lines")
    # The note's owner, repeated here so that search restricts by owner inside the index.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField()
    text = models.TextField()
    confidence = models.FloatField(
        help_text="0-100: how sure the engine is that the line was read right, computed when it was read "
        "(ocr_app/engines/confidence.py) and stored by ocr_app/review_rule.py"
    )
    # Box in the pixels of the upright stored image.
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    needs_review = models.BooleanField(
        default=False, db_index=True,
        help_text="Waiting for review: set when the line was read (ocr_app/review_rule.py), cleared by a review",
    )
    # [{"text", "confidence", "box": {x, y, width, height}}] where the engine gives words.
    words = models.JSONField(default=list, blank=True)
    # Other readings of the line, best first.
    alternatives = models.JSONField(default=list, blank=True)
    # What the engine read; ``text`` differs from it once a reviewer corrected the line.
    ocr_text = models.TextField(blank=True)
    # What the engine computed the confidence of ``ocr_text`` from ({name: value}, see
    # engines/confidence.py); empty when it does not calibrate. Refitting uses it.
    features = models.JSONField(default=dict, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A reviewer holds the line until the claim expires, so two never get the same one.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["note", "order"]
        # Given in the admin's user and group pages; what it allows is in services.review.
        permissions = [("review_line", "Can review other users' lines waiting for review")]
        indexes = [
            # The notes list's "needs review" filter asks of each note whether it has such a line.
            models.Index(fields=["note"], condition=Q(needs_review=True), name="line_note_flagged_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["note", "order"], name="line_unique_order_in_note"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=100), name="line_confidence_0_100"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_corrected(self) -> bool:
        return self.reviewed_at is not None and self.text != self.ocr_text

    @property
    def is_added(self) -> bool:
        """Typed by a person: a line the engine missed (it has no reading of its own)."""
        return self.reviewed_at is not None and not self.ocr_text

    @property
    def has_box(self) -> bool:
        return bool(self.width and self.height)


class DeletedLine(OnTheImage, models.Model):
    """A line a person deleted from a note: what it said and where it was.

    The line itself is gone (so search and pages never see it); this record lets
    the owner put it back, and keeps a new recognition from bringing back a line
    over the same place (services/carry_over.py).
    """

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="deleted_lines")
    text = models.TextField()
    ocr_text = models.TextField(blank=True)
    confidence = models.FloatField(default=0)
    order = models.PositiveIntegerField()
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    alternatives = models.JSONField(default=list, blank=True)
    # The line's review events (kept, line unset), relinked when it is put back.
    event_ids = models.JSONField(default=list, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    deleted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["note", "order"]

    def __str__(self) -> str:
        return f"deleted line {self.order + 1} of note {self.note_id}: {self.text}"
