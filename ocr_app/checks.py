"""System checks (``manage.py check``) for what Inkdex needs at run time."""

from django.core import checks
from django.db import connections
from django.db.utils import DatabaseError


@checks.register(checks.Tags.database)
def search_index_present(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from django.db.migrations.recorder import MigrationRecorder

    from .search.index import index_drift

    try:
        recorder = MigrationRecorder(connections["default"])
        if not recorder.migration_qs.filter(app="ocr_app", name="0002_search_index").exists():
            return []  # migrate creates the index
    except DatabaseError:
        return []
    try:
        problem = index_drift("default")
    except DatabaseError as exc:
        return [checks.Error(f"The full-text search index cannot be read: {exc}", id="inkdex.E003")]
    except NotImplementedError as exc:
        return [checks.Error(str(exc), id="inkdex.E002")]
    if problem:
        return [
            checks.Error(
                f"The full-text search index is broken: {problem}.",
                hint="Run 'manage.py rebuild_search_index' (or 'manage.py migrate', which restores it).",
                id="inkdex.E001",
            )
        ]
    return []
