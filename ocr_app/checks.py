"""System checks (``manage.py check``) for what Inkdex needs at run time."""

import os

from django.core import checks
from django.db import connections
from django.db.utils import DatabaseError

from .conf import inkdex

REPAIR_HINT = "Run 'manage.py rebuild_search_index' (or 'manage.py migrate', which restores missing parts)."


def search_index_errors(using: str = "default", *, full: bool = True) -> list[checks.CheckMessage]:
    """What is wrong with the full-text index: with ``full``, every note's
    document is compared with its lines (a pass over them all); without, only
    its tables, index and triggers are looked for, and its documents counted (quick)."""
    from .search.backends import backend_for
    from .search.index import index_drift, index_migrated

    try:
        if not index_migrated(using):
            return []  # migrate creates (or upgrades) the index
    except DatabaseError:
        return []  # no database yet, or not reachable: other checks and commands say so
    try:
        if full:
            problem = index_drift(using)
        else:
            problem = backend_for(connections[using]).quick_drift(connections[using])
    except DatabaseError as exc:
        return [checks.Error(f"The full-text search index cannot be read: {exc}", hint=REPAIR_HINT, id="inkdex.E003")]
    except NotImplementedError as exc:
        return [checks.Error(str(exc), id="inkdex.E002")]
    if problem:
        return [checks.Error(f"The full-text search index is broken: {problem}.", hint=REPAIR_HINT, id="inkdex.E001")]
    return []


# Plain `manage.py check` (and every command that runs the checks first): the quick
# look for a dropped trigger or table, or notes missing from the index. With `--database default` the full comparison
# runs instead (Django runs database-tagged checks only when asked to).
@checks.register()
def search_index_present(app_configs=None, databases=None, **kwargs):
    if databases and "default" in databases:
        return []  # search_index_matches_lines covers this and more
    return search_index_errors(full=False)


@checks.register(checks.Tags.database)
def search_index_matches_lines(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    return search_index_errors(full=True)


def broken_index_message() -> str | None:
    """Why a server or worker must not start, or None: the quick check of plain
    ``manage.py check`` (the full one reads every line: too slow for each start
    of a large install; ``manage.py check --database default`` runs it)."""
    errors = search_index_errors(full=False)
    if not errors:
        return None
    return f"{errors[0].msg} Run 'manage.py rebuild_search_index', then start Inkdex again."


@checks.register()
def aspose_engine_ready(app_configs=None, **kwargs):
    """When Aspose is the chosen engine (or has a license configured), say what it still needs."""
    from .engines.aspose import AsposeEngine
    from .pipeline.engine_selection import engine_options

    engine = AsposeEngine(**engine_options(AsposeEngine))
    if inkdex().ocr_engine != AsposeEngine.name and not engine.license_path:
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
