import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from ocr_app.services.learned_words import words_of


def learn_from_confirmed_lines(apps, schema_editor):
    """Every owner's word list starts from the lines people already confirmed
    (corrected, accepted or added: ``reviewed_at`` is set), as if confirmed now."""
    db = schema_editor.connection.alias
    Line = apps.get_model("ocr_app", "Line")
    LearnedWord = apps.get_model("ocr_app", "LearnedWord")
    lines = (
        Line.objects.using(db).filter(reviewed_at__isnull=False)
        .order_by("owner_id", "reviewed_at", "pk").values_list("owner_id", "text", "note__language", "reviewed_at")
    )
    owner, counts = None, {}

    def store():
        LearnedWord.objects.using(db).bulk_create(
            [LearnedWord(owner_id=owner, word=word, key=key, count=count, last_confirmed_at=last)
             for key, (word, count, last) in counts.items()],
            batch_size=500,
        )

    for owner_id, text, language, reviewed_at in lines.iterator(chunk_size=2000):
        if owner_id != owner:
            if counts:
                store()
            owner, counts = owner_id, {}
        for key, (word, count) in words_of([text], language or "en").items():
            _, earlier, _ = counts.get(key, (word, 0, reviewed_at))
            counts[key] = (word, earlier + count, reviewed_at)
    if counts:
        store()


class Migration(migrations.Migration):
    """The owner's learned words (``services.learned_words``), started from the lines
    people confirmed before."""

    dependencies = [
        ('ocr_app', '0020_confidence_weights'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='LearnedWord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('word', models.CharField(max_length=64)),
                ('key', models.CharField(max_length=64)),
                ('count', models.PositiveIntegerField(default=0)),
                ('last_confirmed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('removed_at', models.DateTimeField(blank=True, null=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['owner', 'removed_at', '-count'], name='learned_word_by_use')],
                'constraints': [models.UniqueConstraint(fields=('owner', 'key'), name='learned_word_unique_per_owner')],
            },
        ),
        migrations.RunPython(learn_from_confirmed_lines, migrations.RunPython.noop),
    ]
