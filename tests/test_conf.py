"""Inkdex's typed settings (ocr_app/conf.py) over ``settings.INKDEX``."""

import dataclasses

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from ocr_app.conf import InkdexSettings, inkdex

EXPECTED_TYPES = {
    "review_threshold": float,
    "max_upload_bytes": int,
    "max_upload_request_bytes": int,
    "max_image_pixels": int,
    "ocr_max_pixels": int,
    "max_pdf_pages": int,
    "pdf_page_timeout_seconds": float,
    "pdf_timeout_seconds": float,
    "pdf_renderer": str,
    "ocr_engine": str,
    "ocr_engines": dict,
    "engine_isolation": bool,
    "ocr_threads": int,
    "ocr_rescan": bool,
    "engine_timeout_seconds": float,
    "aspose_license_file": str,
    "aspose_libssl_dir": str,
    "default_language": str,
    "user_words_limit": int,
    "unread_ink_share": float,
    "max_attempts": int,
    "retry_backoff_seconds": float,
    "heartbeat_seconds": float,
    "stale_after_seconds": float,
    "finished_tasks_kept_days": int,
    "thumbnail_size": int,
    "signin_max_failures": int,
    "signin_delay_seconds": float,
    "signin_max_delay_seconds": float,
    "signin_account_max_failures": int,
    "signin_account_max_delay_seconds": float,
    "signin_known_address_days": int,
    "signin_max_failures_per_address": int,
    "signin_window_seconds": int,
    "signin_forget_seconds": int,
    "client_ip_header": str,
    "trusted_proxy_count": int,
    "review_claim_seconds": float,
}


def test_every_inkdex_key_is_a_field_of_the_type_it_is_configured_with():
    current = inkdex()
    assert {field.name for field in dataclasses.fields(current)} == set(EXPECTED_TYPES)
    assert {name.upper() for name in EXPECTED_TYPES} == set(django_settings.INKDEX)
    for name, expected in EXPECTED_TYPES.items():
        value = getattr(current, name)
        assert type(value) is expected, f"{name} is a {type(value).__name__}, not a {expected.__name__}"
        assert value == django_settings.INKDEX[name.upper()]
    assert all(isinstance(key, str) and isinstance(path, str) for key, path in current.ocr_engines.items())


def test_the_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        inkdex().review_threshold = 10.0


def test_the_settings_fixture_changes_what_inkdex_returns(settings):
    before = inkdex()
    assert before.review_threshold != 42.5
    settings.INKDEX = {**settings.INKDEX, "REVIEW_THRESHOLD": 42.5, "OCR_ENGINES": {"only": "some.Engine"}}
    assert inkdex().review_threshold == 42.5
    assert inkdex().ocr_engines == {"only": "some.Engine"}
    assert inkdex().max_attempts == before.max_attempts


def test_override_settings_changes_it_and_its_end_restores_it():
    threshold = inkdex().review_threshold
    with override_settings(INKDEX={**django_settings.INKDEX, "REVIEW_THRESHOLD": threshold + 1}):
        assert inkdex().review_threshold == threshold + 1
    assert inkdex().review_threshold == threshold


def test_a_whole_number_of_seconds_is_taken_as_a_float(settings):
    settings.INKDEX = {**settings.INKDEX, "SIGNIN_MAX_DELAY_SECONDS": 8}
    assert inkdex().signin_max_delay_seconds == 8.0
    assert type(inkdex().signin_max_delay_seconds) is float


def test_an_unknown_key_is_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="unknown setting 'REVEIW_THRESHOLD'"):
        InkdexSettings.from_dict({**django_settings.INKDEX, "REVEIW_THRESHOLD": 50.0})


def test_an_unknown_key_in_an_override_is_refused_when_next_read(settings):
    settings.INKDEX = {**settings.INKDEX, "MAX_UPLOAD_MB": 5}
    with pytest.raises(ImproperlyConfigured, match="'MAX_UPLOAD_MB'"):
        inkdex()


def test_a_missing_key_is_refused_by_name():
    values = {key: value for key, value in django_settings.INKDEX.items() if key != "MAX_ATTEMPTS"}
    with pytest.raises(ImproperlyConfigured, match="missing the setting 'MAX_ATTEMPTS'"):
        InkdexSettings.from_dict(values)


@pytest.mark.parametrize(
    ("key", "value"),
    [("MAX_ATTEMPTS", "3"), ("MAX_ATTEMPTS", True), ("REVIEW_THRESHOLD", "75"), ("OCR_RESCAN", 1), ("OCR_ENGINES", [])],
)
def test_a_value_of_the_wrong_type_is_refused_by_name(key, value):
    with pytest.raises(ImproperlyConfigured, match=f"INKDEX\\['{key}'\\]"):
        InkdexSettings.from_dict({**django_settings.INKDEX, key: value})


def test_the_engines_are_a_copy_of_the_configured_dict():
    engines = {"rapidocr": "ocr_app.engines.rapidocr_engine.RapidOcrEngine"}
    built = InkdexSettings.from_dict({**django_settings.INKDEX, "OCR_ENGINES": engines})
    engines["other"] = "some.Engine"
    assert built.ocr_engines == {"rapidocr": "ocr_app.engines.rapidocr_engine.RapidOcrEngine"}
