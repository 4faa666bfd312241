from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OcrAppConfig(AppConfig):
    name = "ocr_app"
    verbose_name = "Inkdex notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
        from .pipeline import signals  # noqa: F401  (connects the receivers)

        post_migrate.connect(_restore_search_index, sender=self, dispatch_uid="inkdex_restore_search_index")


def _restore_search_index(sender, using="default", plan=None, **kwargs) -> None:
    from .search.index import ensure_search_index, index_migrated

    # Only once the index's own migration has run (not while migrating backwards past it).
    if index_migrated(using):
        ensure_search_index(using)
