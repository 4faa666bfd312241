"""Signal receivers. They schedule work; they never do it."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from ..models import Note, NoteStatus
from .tasks import schedule_recognition, schedule_split


@receiver(post_save, sender=Note, dispatch_uid="inkdex_schedule_recognition")
def schedule_recognition_of_new_note(sender, instance: Note, created: bool, raw: bool = False, **kwargs) -> None:
    # After commit: the worker must find the row, and a rolled-back upload must not be recognised.
    # A note created already recognised (imported from an export) needs no OCR.
    if created and not raw and instance.status == NoteStatus.QUEUED:
        transaction.on_commit(partial(schedule_recognition, instance.pk), robust=True)
    # An uploaded PDF is split into page notes by the worker (each then queued as above).
    elif created and not raw and instance.status == NoteStatus.SPLITTING:
        transaction.on_commit(partial(schedule_split, instance.pk), robust=True)
