from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The notes list sorted and filtered at 50,000 notes (services/listing.py,
    bench/notes_list.py): an owner's notes by status and upload time, and the
    lines waiting for review by note."""

    dependencies = [
        ("ocr_app", "0014_tags"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="line",
            index=models.Index(condition=models.Q(("needs_review", True)), fields=["note"], name="line_note_flagged_idx"),
        ),
        migrations.AddIndex(
            model_name="note",
            index=models.Index(fields=["owner", "status", "-uploaded_at"], name="note_owner_status_uploaded_idx"),
        ),
    ]
