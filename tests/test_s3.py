"""Images on S3-compatible storage: upload, the worker, the pages and backups use only the
storage API. Runs against moto's S3 server (in this process, no network)."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse

from ocr_app.models import NoteStatus
from ocr_app.services.backup import create_backup
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload, run_worker_until_idle

moto_server = pytest.importorskip("moto.server", reason="moto is not installed (pip install '.[test]')")
boto3 = pytest.importorskip("boto3")
pytest.importorskip("storages", reason="django-storages is not installed (pip install '.[s3]')")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_storage(settings):
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, **credentials).create_bucket(Bucket="inkdex-notes")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "inkdex-notes", "endpoint_url": endpoint, "access_key": "test-key",
                        "secret_key": "test-secret", "region_name": "us-east-1", "file_overwrite": False},
        },
    }
    # (Changing STORAGES resets Django's storage objects: Django's own test signal.)
    yield boto3.client("s3", endpoint_url=endpoint, **credentials)
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_notes_live_on_s3_from_upload_to_note_page_and_backup(s3_storage, user, alice_client, settings, tmp_path):
    note = create_note(owner=user, uploaded_file=image_upload("groceries.jpg"))
    run_worker_until_idle()
    note.refresh_from_db()
    assert note.status == NoteStatus.DONE and note.lines.exists()
    keys = {item["Key"] for item in s3_storage.list_objects_v2(Bucket="inkdex-notes")["Contents"]}
    assert {note.image.name, note.preview.name, note.thumbnail.name} <= keys
    assert not (settings.MEDIA_ROOT / "notes").exists()  # nothing on local disk
    for variant in ("original", "preview", "thumb"):
        response = alice_client.get(reverse("ocr_app:note_image", args=[note.pk, variant]))
        assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"\xff\xd8"

    report = create_backup(tmp_path / "backup.tar")
    assert (report.notes, report.files, report.missing) == (1, 3, [])  # image, preview, thumbnail
