"""Production settings: `manage.py check --deploy` is clean when HTTPS is on."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from tests.conftest import PROJECT_DIR


def deploy_check(tmp_path, **env):
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INKDEX_") and k != "DATABASE_URL"},
        "INKDEX_DATA_DIR": str(tmp_path),
        "INKDEX_SECRET_KEY": secrets.token_urlsafe(50),
        "INKDEX_ALLOWED_HOSTS": "notes.example.com",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_with_https_settings(tmp_path):
    done = deploy_check(tmp_path, INKDEX_HTTPS="true")
    assert done.returncode == 0, done.stderr
    # At most notes for information (e.g. an installed but unused engine's setup).
    assert "WARNINGS:" not in done.stderr and "ERRORS:" not in done.stderr


def test_check_deploy_names_what_is_missing_without_https(tmp_path):
    done = deploy_check(tmp_path)
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr


def test_s3_storage_is_configuration_only(tmp_path):
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INKDEX_") and k != "DATABASE_URL"},
        "INKDEX_DATA_DIR": str(tmp_path), "INKDEX_SECRET_KEY": "x" * 60,
        "INKDEX_S3_BUCKET": "notes", "INKDEX_S3_ENDPOINT_URL": "http://minio.local:9000",
        "INKDEX_S3_ACCESS_KEY_ID": "key-id", "INKDEX_S3_SECRET_ACCESS_KEY": "secret",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django, json; django.setup(); from django.conf import settings; "
         "print(json.dumps(settings.STORAGES['default']))"],
        cwd=PROJECT_DIR, env={**environment, "DJANGO_SETTINGS_MODULE": "notes_site.settings"},
        capture_output=True, text=True, timeout=60,
    )
    storage = __import__("json").loads(done.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "notes"
    assert storage["OPTIONS"]["endpoint_url"] == "http://minio.local:9000"
    assert storage["OPTIONS"]["secret_key"] == "secret"  # from the environment only


def login_page_status(tmp_path, **env) -> int:
    """What a TLS-terminating proxy gets for the sign-in page it forwards (plain HTTP,
    X-Forwarded-Proto: https), from Inkdex configured by ``env`` alone."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INKDEX_") and k != "DATABASE_URL"},
        "INKDEX_DATA_DIR": str(tmp_path), "INKDEX_SECRET_KEY": "x" * 60, "INKDEX_ALLOWED_HOSTS": "notes.example.com",
        "DJANGO_SETTINGS_MODULE": "notes_site.settings", **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.test import Client; "
         "print(Client().get('/accounts/login/', HTTP_HOST='notes.example.com', "
         "HTTP_X_FORWARDED_PROTO='https').status_code)"],
        cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_behind_a_tls_proxy_https_needs_the_proxy_setting_too(tmp_path):
    # Without it every request looks like plain HTTP and is redirected to HTTPS: a loop.
    assert login_page_status(tmp_path, INKDEX_HTTPS="true") == 301
    assert login_page_status(tmp_path, INKDEX_HTTPS="true", INKDEX_BEHIND_HTTPS_PROXY="true") == 200
