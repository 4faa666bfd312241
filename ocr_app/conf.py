"""Inkdex's own settings, typed: ``inkdex().review_threshold`` rather than
``settings.INKDEX["REVIEW_THRESHOLD"]``.

Users still configure ``settings.INKDEX`` (from the environment, see
notes_site/settings.py); this module turns that dict into one frozen
``InkdexSettings`` with a field per key, checked when it is built: a missing or
unknown key, or a value of the wrong type, stops with a message naming the key
(a misspelt key would otherwise be silently ignored). The instance is built on
first use and dropped whenever ``INKDEX`` changes (Django's ``setting_changed``,
sent by ``override_settings`` and pytest-django's ``settings`` fixture), so tests
that override ``settings.INKDEX`` see their values.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver


@dataclass(frozen=True)
class InkdexSettings:
    """One field per ``settings.INKDEX`` key, named as the key in lower case
    (what each one means: the comments in notes_site/settings.py)."""

    review_threshold: float
    max_upload_bytes: int
    max_upload_request_bytes: int
    max_image_pixels: int
    ocr_max_pixels: int
    max_pdf_pages: int
    pdf_page_timeout_seconds: float
    pdf_timeout_seconds: float
    pdf_renderer: str
    ocr_engine: str
    ocr_engines: dict[str, str]
    engine_isolation: bool
    ocr_threads: int
    ocr_rescan: bool
    engine_timeout_seconds: float
    aspose_license_file: str
    aspose_libssl_dir: str
    default_language: str
    user_words_limit: int
    unread_ink_share: float
    max_attempts: int
    retry_backoff_seconds: float
    heartbeat_seconds: float
    stale_after_seconds: float
    finished_tasks_kept_days: int
    thumbnail_size: int
    signin_max_failures: int
    signin_delay_seconds: float
    signin_max_delay_seconds: float
    signin_account_max_failures: int
    signin_account_max_delay_seconds: float
    signin_known_address_days: int
    signin_max_failures_per_address: int
    signin_window_seconds: int
    signin_forget_seconds: int
    client_ip_header: str
    trusted_proxy_count: int
    review_claim_seconds: float

    @classmethod
    def from_dict(cls, values: typing.Mapping[str, object]) -> InkdexSettings:
        """The settings in ``values`` (keyed as ``settings.INKDEX``), or
        ImproperlyConfigured naming the first key that is unknown, missing or of the wrong type."""
        types = typing.get_type_hints(cls)
        fields = {field.name.upper(): field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ImproperlyConfigured(f"INKDEX has an unknown setting {unknown[0]!r} (a misspelt name?)")
        missing = sorted(set(fields) - set(values))
        if missing:
            raise ImproperlyConfigured(f"INKDEX is missing the setting {missing[0]!r}")
        return cls(**{name: _checked(key, values[key], types[name]) for key, name in fields.items()})

    def option(self, key: str):
        """The value of the ``INKDEX`` key ``key`` (an engine's ``settings_options`` name keys so)."""
        return getattr(self, key.lower())


def _checked(key: str, value, expected):
    # A whole number is a fine number of seconds ("TIMEOUT": 10); a bool is no number.
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, bool):
        raise ImproperlyConfigured(f"INKDEX[{key!r}] must be a whole number, not {value!r}")
    origin = typing.get_origin(expected) or expected
    if not isinstance(value, origin):
        raise ImproperlyConfigured(f"INKDEX[{key!r}] must be a {origin.__name__}, not {value!r}")
    # A copy: the frozen instance must not change with the dict it came from.
    return dict(value) if origin is dict else value


_current: InkdexSettings | None = None


def inkdex() -> InkdexSettings:
    """Inkdex's settings as they are now (built from ``settings.INKDEX`` on first use)."""
    global _current
    current = _current
    if current is None:
        current = _current = InkdexSettings.from_dict(settings.INKDEX)
    return current


@receiver(setting_changed)
def _forget_on_change(*, setting: str, **kwargs) -> None:
    global _current
    if setting == "INKDEX":
        _current = None
