"""The worker's tasks moved from ``ocr_app.tasks`` to ``ocr_app.pipeline.tasks``.

The queue stores each task by the dotted path of its function, and the worker
looks the function up by that path: tasks queued before the upgrade are renamed
here, so that they still run. Finished ones too, so the admin still names them.
(A task queued under the old path after this ran, by a process not yet
upgraded, fails; recovery queues its note again after ``STALE_AFTER_SECONDS``.)
"""

from django.db import migrations

MOVED = {
    "ocr_app.tasks.recognize_note_task": "ocr_app.pipeline.tasks.recognize_note_task",
    "ocr_app.tasks.split_pdf_task": "ocr_app.pipeline.tasks.split_pdf_task",
}


def rename_tasks(apps, schema_editor, renames: dict[str, str]) -> None:
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    results = DBTaskResult.objects.using(schema_editor.connection.alias)
    for old, new in renames.items():
        results.filter(task_path=old).update(task_path=new)


def forwards(apps, schema_editor) -> None:
    rename_tasks(apps, schema_editor, MOVED)


def backwards(apps, schema_editor) -> None:
    rename_tasks(apps, schema_editor, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("ocr_app", "0022_unread_ink"),
        ("django_tasks_database", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
