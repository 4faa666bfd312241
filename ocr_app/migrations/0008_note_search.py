from django.db import migrations

from ocr_app.search.index import install_search_index


class Migration(migrations.Migration):
    """Search finds notes, not lines: one search document per note (all its lines'
    text and other readings), kept by triggers and indexed (FTS5 on SQLite, a
    generated tsvector with a GIN index on PostgreSQL); the per-line index goes."""

    dependencies = [("ocr_app", "0007_api_tokens")]

    operations = [migrations.RunPython(install_search_index, migrations.RunPython.noop, elidable=False)]
