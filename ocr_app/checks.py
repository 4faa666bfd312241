"""System checks (``manage.py check``) for what Inkdex needs at run time."""

import os

from django.core import checks
from django.db.utils import DatabaseError


@checks.register(checks.Tags.database)
def search_index_present(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from .search.index import index_drift, index_migrated

    try:
        if not index_migrated("default"):
            return []  # migrate creates (or upgrades) the index
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
    """When Aspose is the chosen engine (or has a license configured), say what it still needs."""
    from django.conf import settings

    from .engines.aspose import AsposeEngine

    engine = AsposeEngine(**AsposeEngine.options_from_settings(settings))
    if settings.INKDEX["OCR_ENGINE"] != AsposeEngine.name and not engine.license_path:
        return []  # not in use; the note page offers it only once it can run (see is_available)
    found = [checks.Error(f"The Aspose OCR engine cannot run: {problem}.", id="inkdex.E010") for problem in engine.problems()]
    if not engine.license_path:
        found.append(
            checks.Warning(
                "Aspose has no license (INKDEX_ASPOSE_LICENSE_FILE is not set): it runs in trial mode and reads "
                "only the first lines of each image. Such notes are marked partial and all their lines go to review.",
                id="inkdex.W011",
            )
        )
    elif not os.access(engine.license_path, os.R_OK):
        found.append(checks.Error(f"The Aspose license file {engine.license_path} cannot be read.", id="inkdex.E012"))
    return found
