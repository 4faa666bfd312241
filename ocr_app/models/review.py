"""What people did to lines (the review events) and the confidence weights fitted on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .notes import Line, Note


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
