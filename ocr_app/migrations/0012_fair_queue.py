from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Workers take queued notes fairly across owners (services/claims.py): a note
    waiting for its retry says until when, and two indexes serve the choice (each
    owner's queued notes in order; when each owner was last served)."""

    dependencies = [
        ("ocr_app", "0011_pdf_in_worker"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="note",
            name="retry_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="note",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["owner", "queued_at", "id"],
                name="note_owner_queued_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="note",
            index=models.Index(fields=["owner", "started_at"], name="note_owner_started_idx"),
        ),
    ]
