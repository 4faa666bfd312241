from django.apps import AppConfig


class OcrAppConfig(AppConfig):
    name = "ocr_app"
    verbose_name = "Inkdex notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
