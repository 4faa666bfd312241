"""System checks (``manage.py check``) for what Inkdex needs at run time."""

import os

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


@checks.register()
def aspose_engine_ready(app_configs=None, **kwargs):
    """Aspose is optional; when it is chosen or installed, say what it still needs."""
    from django.conf import settings

    from .engines.aspose_engine import AsposeEngine, is_installed

    chosen = settings.INKDEX["OCR_ENGINE"] == AsposeEngine.name
    if not chosen and not is_installed():
        return []
    engine = AsposeEngine(**AsposeEngine.options_from_settings(settings))
    # Installed but not the default: it serves only notes reprocessed with it, so say it quietly.
    found = [
        (checks.Error if chosen else checks.Info)(
            f"The Aspose OCR engine cannot run: {problem}.", id="inkdex.E010" if chosen else "inkdex.I010"
        )
        for problem in engine.problems()
    ]
    license_file = engine.license_path
    if not license_file:
        found.append(
            (checks.Warning if chosen else checks.Info)(
                "Aspose has no license (INKDEX_ASPOSE_LICENSE_FILE is not set): it runs in trial mode and reads "
                "only the first lines of each image. Such notes are marked partial and all their lines go to review.",
                id="inkdex.W011" if chosen else "inkdex.I011",
            )
        )
    elif not os.access(license_file, os.R_OK):
        found.append(
            checks.Error(f"The Aspose license file {license_file} cannot be read.", id="inkdex.E012")
        )
    return found
