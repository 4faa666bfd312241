from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


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
        owner deleted every line). Pages flag them; reviewers may type their text."""
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
    def partly_unread(self) -> bool:
        """Recognised, with enough of the page's ink outside every line found
        (``INKDEX_UNREAD_INK_SHARE``) that the engine may have missed writing."""
        return (
            self.status == NoteStatus.DONE
            and self.unread_ink is not None
            and self.unread_ink >= settings.INKDEX["UNREAD_INK_SHARE"]
        )


class Line(models.Model):
    """One recognised line of a note: its text, how sure the engine was, and where it is."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="lines")
    # The note's owner, repeated here so that search restricts by owner inside the index.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField()
    text = models.TextField()
    confidence = models.FloatField(help_text="0-100")
    # Box in the pixels of the upright stored image.
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    needs_review = models.BooleanField(default=False, db_index=True)
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


class ReviewAction(models.TextChoices):
    ACCEPT = "accept", "Accepted"
    CORRECT = "correct", "Corrected"
    RESTORE = "restore", "Restored"
    # The owner (or a reviewer) removed a line that was noise, or put one back.
    DELETE = "delete", "Deleted"
    UNDELETE = "undelete", "Put back"
    # A line the engine missed, typed by a person.
    ADD = "add", "Added"


class ReviewEvent(models.Model):
    """One thing a reviewer did to a line; the line's history, never edited."""

    # Kept when the line goes (a reprocess replaces a note's lines): the history stays.
    line = models.ForeignKey(Line, on_delete=models.SET_NULL, null=True, related_name="events")
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="review_events")
    line_order = models.PositiveIntegerField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=16, choices=ReviewAction.choices)
    old_text = models.TextField()
    new_text = models.TextField()
    # The line as the engine gave it, for accuracy figures that survive later edits.
    ocr_text = models.TextField()
    confidence = models.FloatField()
    engine_name = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} line {self.line_order + 1} of note {self.note_id}"


class ConfidenceWeights(models.Model):
    """One set of weights turning a line's features into its confidence, fitted on
    reviewed lines by ``manage.py refit_confidence``. Every worker reads the active
    set of its engine from here (none active: the weights built into the code);
    earlier sets are kept so that ``--restore`` can go back to them."""

    engine_name = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    # {feature name: weight} and the bias of the log-odds that a line is right.
    weights = models.JSONField()
    intercept = models.FloatField()
    # ROC AUC on the held-out reviewed lines: of the weights in use before, and of these.
    auc_before = models.FloatField()
    auc_after = models.FloatField()
    lines_fitted = models.PositiveIntegerField()
    lines_held_out = models.PositiveIntegerField()
    active = models.BooleanField(default=False)
    # The set that was active when this one was activated (None: the built-in weights);
    # what ``--restore`` goes back to.
    replaced = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "confidence weights"
        constraints = [
            models.UniqueConstraint(
                fields=["engine_name"], condition=Q(active=True), name="confidence_weights_one_active_per_engine"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engine_name} weights of {self.created_at:%Y-%m-%d %H:%M} (AUC {self.auc_after:.3f})"


class DeletedLine(models.Model):
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


class SignInLimit(models.Model):
    """What slows down password guessing for one account, one address, or one
    account from one address (see ``services.signin``)."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "account, from all addresses"
        ADDRESS = "address", "address, all accounts"
        ACCOUNT_ADDRESS = "account_address", "account from one address"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    # The user name as authentication normalises it (then case-folded); blank for an address.
    account = models.CharField(max_length=150, blank=True)
    # An IPv4 address or an IPv6 /64 network; blank for an account.
    address = models.CharField(max_length=64, blank=True)
    # Failed tries, counting tries whose password is still being checked.
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # No try is let through before this.
    blocked_until = models.DateTimeField(null=True, blank=True, db_index=True)
    # For an account from one address: when the account last signed in from there.
    signed_in_at = models.DateTimeField(null=True, blank=True)
    # After this the row means nothing and may be deleted.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "sign-in limit"
        constraints = [
            models.UniqueConstraint(fields=["scope", "account", "address"], name="signin_limit_unique_key"),
        ]

    def __str__(self) -> str:
        if self.scope == self.Scope.ACCOUNT:
            return f"account {self.account}"
        if self.scope == self.Scope.ADDRESS:
            return f"address {self.address}"
        return f"account {self.account} from {self.address}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A key a user made for scripts to call the JSON API as them.

    Only a SHA-256 hash of the key is stored; the key itself is shown once, when
    it is created. ``prefix`` (the key's first characters) tells tokens apart.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Tag(models.Model):
    """A label one user gives to any number of their notes (``services.tags``).

    ``key`` is the name as tags are compared: case-folded, runs of spaces as one,
    so "To Do" and "to  do" are one tag; ``name`` is how the owner last wrote it.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    # Text: at most 64 characters as typed (tag_names.MAX_TAG_LENGTH), which
    # Unicode normalisation and case folding may lengthen.
    name = models.TextField()
    key = models.TextField()
    notes = models.ManyToManyField(Note, through="NoteTag", related_name="tags")

    class Meta:
        ordering = ["key", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="tag_unique_key_per_owner"),
            models.CheckConstraint(condition=~Q(key=""), name="tag_key_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class NoteTag(models.Model):
    """A tag on a note. ``owner`` repeats the owner of both: the services only
    link a note and a tag of the same user, and the index serves owner-wide lists."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="note_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="note_tags")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "tag"], name="notetag_unique_pair")]
        indexes = [models.Index(fields=["tag", "note"], name="notetag_tag_note_idx")]

    def __str__(self) -> str:
        return f"{self.tag_id} on note {self.note_id}"


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
