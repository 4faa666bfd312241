from django.conf import settings
from django.db import migrations, models

from ocr_app.search.index import install_search_index
from ocr_app.services.titles import choose_title


def give_notes_titles(apps, schema_editor):
    """Each existing note gets the title recognising it now would give it: its first
    line read at or above the review threshold, else its file name (and page)."""
    Note = apps.get_model("ocr_app", "Note")
    Line = apps.get_model("ocr_app", "Line")
    threshold = settings.INKDEX["REVIEW_THRESHOLD"]
    notes = Note.objects.using(schema_editor.connection.alias).only("pk", "original_name", "page_number", "page_count")
    for note in notes.iterator(chunk_size=500):
        file_title = note.original_name
        if note.page_number:
            file_title = f"{note.original_name} (page {note.page_number} of {note.page_count})"
        lines = Line.objects.using(schema_editor.connection.alias).filter(note_id=note.pk, confidence__gte=threshold)
        lines = lines.order_by("order").values_list("text", "confidence")
        # The first few confident lines are enough (a blank one is passed over).
        title = choose_title(lines[:20], file_title, threshold)
        Note.objects.using(schema_editor.connection.alias).filter(pk=note.pk).update(title=title)


class Migration(migrations.Migration):
    """Notes get a stored title, which search finds and ranks first: the search
    documents gain a title column (kept in step by a trigger on the notes table)
    and the index is made again with it."""

    dependencies = [
        ("ocr_app", "0017_owner_corrections"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="note",
            name="title",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="note",
            name="title_set_by_owner",
            field=models.BooleanField(
                default=False, help_text="The owner chose the title; recognising the note again keeps it."
            ),
        ),
        migrations.AddIndex(
            model_name="note",
            index=models.Index(fields=["owner", "title"], name="note_owner_title_idx"),
        ),
        migrations.RunPython(give_notes_titles, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(install_search_index, migrations.RunPython.noop, elidable=False),
    ]
