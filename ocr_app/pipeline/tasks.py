"""Background tasks. They only call services; the logic lives there."""

try:  # Django 6 ships the Tasks API; on 5.2 it comes from the django-tasks backport.
    from django.tasks import task
except ImportError:
    from django_tasks import task

from . import pdf_splitting, recognition


@task(queue_name="ocr", takes_context=True)
def recognize_note_task(context, note_id: int) -> dict:
    # Queued for ``note_id``, it recognises the fairest queued note, which may be another
    # (claims.py); the result says which.
    recognised, outcome = recognition.recognize_next_note(str(context.task_result.id))
    return {"note": recognised, "outcome": outcome}


@task(queue_name="ocr")
def split_pdf_task(note_id: int) -> str:
    return pdf_splitting.split_pdf(note_id)
