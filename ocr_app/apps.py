from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OcrAppConfig(AppConfig):
    name = "ocr_app"
    verbose_name = "Inkdex notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers the checks and receivers)

        post_migrate.connect(_restore_search_index, sender=self, dispatch_uid="inkdex_restore_search_index")


def _restore_search_index(sender, using="default", plan=None, **kwargs) -> None:
    from django.db.migrations.recorder import MigrationRecorder
    from django.db import connections

    from .search.index import ensure_search_index

    # Only once the index's own migration has run (not while migrating backwards past it).
    recorder = MigrationRecorder(connections[using])
    if recorder.has_table() and recorder.migration_qs.filter(app="ocr_app", name="0002_search_index").exists():
        ensure_search_index(using)
