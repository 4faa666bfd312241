from django.db import migrations

from ocr_app.search.index import install_search_index


class Migration(migrations.Migration):
    """Full-text index over lines: FTS5 + triggers on SQLite, a generated tsvector
    column + GIN index on PostgreSQL (see ocr_app/search/backends/)."""

    dependencies = [("ocr_app", "0001_initial")]

    operations = [migrations.RunPython(install_search_index, migrations.RunPython.noop, elidable=False)]
