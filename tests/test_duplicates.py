"""Uploading what the owner already has does not silently make a second note:
on the page (JSON and plain form), in the API, and in import_notes, through one
service function (``services.uploads.find_duplicate``)."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timezone

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from ocr_app.models import Note, NoteStatus
from ocr_app.services import uploads
from ocr_app.services.tokens import create_token
from tests.conftest import image_upload
from tests.test_api import NOTES, bearer
from tests.test_pdf import coloured_pdf
from tests.test_uploads import post_files, stored_files


def picture(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return buffer.getvalue()


RED, BLUE, GREEN = picture("red"), picture("blue"), picture("green")
ON_THE_FIRST = datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)


def dated(note_id: int) -> None:
    Note.objects.filter(pk=note_id).update(uploaded_at=ON_THE_FIRST)


@pytest.mark.django_db
def test_the_same_file_again_or_twice_in_a_batch_is_reported_not_stored(alice_client, user):
    first = post_files(alice_client, [("board.jpg", RED), ("copy of board.jpg", RED), ("list.jpg", BLUE)])
    assert first.status_code == 201
    board, copy, listed = first.json()["results"]
    assert board["ok"] and listed["ok"] and not copy["ok"]
    assert copy["error"]["code"] == "duplicate" and copy["error"]["note"] == board["note"]["id"]
    assert Note.objects.count() == 2
    dated(board["note"]["id"])
    files_before = stored_files()

    # Every file a duplicate: not an error, nothing stored, each names the note it has.
    again = post_files(alice_client, [("board again.jpg", RED), ("list.jpg", BLUE)])
    assert again.status_code == 200
    results = again.json()["results"]
    assert [r["ok"] for r in results] == [False, False]
    assert [r["error"]["note"] for r in results] == [board["note"]["id"], listed["note"]["id"]]
    # The page's JSON is the API's: the note it has, and when it came, in the message.
    assert results[0] == {"name": "board again.jpg", "ok": False, "note": None, "error": {
        "code": "duplicate", "message": "Already uploaded on 1 Nov 2026 as board.jpg; not uploaded again.",
        "note": board["note"]["id"]}}
    assert Note.objects.count() == 2 and stored_files() == files_before

    # "Upload anyway" sends the one file again with allow_duplicates.
    anyway = post_files(alice_client, [("board again.jpg", RED)], fields={"allow_duplicates": "1"})
    assert anyway.status_code == 201 and anyway.json()["results"][0]["ok"]
    assert Note.objects.filter(sha256=hashlib.sha256(RED).hexdigest()).count() == 2


@pytest.mark.django_db
def test_a_duplicate_beside_a_bad_file_is_a_400_and_beside_a_new_one_a_201(alice_client):
    post_files(alice_client, [("board.jpg", RED)])
    bad = post_files(alice_client, [("board.jpg", RED), ("empty.jpg", b"")])
    assert bad.status_code == 400
    assert [r["error"]["code"] for r in bad.json()["results"]] == ["duplicate", "invalid_image"]
    assert bad.json()["error"]["code"] == "invalid_image"
    mixed = post_files(alice_client, [("board.jpg", RED), ("new.jpg", GREEN)])
    assert mixed.status_code == 201
    assert [r["ok"] for r in mixed.json()["results"]] == [False, True]
    assert Note.objects.count() == 2


@pytest.mark.django_db
def test_other_users_content_is_never_a_duplicate(alice_client, other_user):
    bob = Client()
    bob.force_login(other_user)
    post_files(bob, [("board.jpg", RED)])
    response = post_files(alice_client, [("board.jpg", RED)])
    assert response.status_code == 201 and response.json()["results"][0]["error"] is None
    assert Note.objects.count() == 2


@pytest.mark.django_db
def test_plain_form_post_warns_with_the_date_and_the_checkbox_stores_anyway(alice_client):
    post_files(alice_client, [("board.jpg", RED)], json=False, follow=True)  # shows (uses up) its message
    dated(Note.objects.get().pk)
    response = post_files(alice_client, [("board.jpg", RED)], json=False, follow=True)
    assert response.redirect_chain == [(reverse("ocr_app:note_list"), 302)]
    [message] = response.context["messages"]
    assert message.level_tag == "warning"
    assert message.message.startswith("board.jpg: Already uploaded on 1 Nov 2026 as board.jpg; not uploaded again.")
    assert Note.objects.count() == 1
    # The checkbox is on the page, and posting it stores the file again.
    assert b'name="allow_duplicates"' in alice_client.get(reverse("ocr_app:upload")).content
    response = post_files(alice_client, [("board.jpg", RED)], json=False, fields={"allow_duplicates": "on"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    assert Note.objects.count() == 2


@pytest.mark.django_db
def test_a_pdf_counts_by_its_own_content_and_its_pages_count_for_nothing(alice_client, user):
    pdf = coloured_pdf("white", "white")
    first = post_files(alice_client, [("scan.pdf", pdf)])
    assert first.status_code == 201
    pdf_id = first.json()["results"][0]["note"]["id"]
    again = post_files(alice_client, [("scan again.pdf", pdf)])
    assert again.status_code == 200 and again.json()["results"][0]["error"]["note"] == pdf_id

    # A page note holds an image Inkdex rendered: the same bytes uploaded by the owner are new.
    page = Note.objects.get(pk=pdf_id)
    Note.objects.create(
        owner=user, image=f"notes/{user.pk}/page.png", original_name="scan.pdf", source=page, page_number=1,
        page_count=2, sha256=hashlib.sha256(GREEN).hexdigest(), size_bytes=len(GREEN), width=64, height=48,
        image_format="JPEG", content_type="image/jpeg", status=NoteStatus.QUEUED,
    )
    assert uploads.find_duplicate(user, io.BytesIO(GREEN)) is None
    assert post_files(alice_client, [("page.jpg", GREEN)]).status_code == 201


# --- API -------------------------------------------------------------------------------


@pytest.fixture
def api(user):
    return bearer(create_token(user=user, name="tests")[1])


def api_upload(api, *files, **fields):
    images = [image_upload(f"file{i}.jpg", content) for i, content in enumerate(files)]
    return api.post(NOTES, {"images": images, **fields}, format="multipart")


@pytest.mark.django_db
def test_api_answers_duplicate_per_file_with_the_notes_id(api, user):
    created = api_upload(api, RED, BLUE)
    assert created.status_code == 201
    red_id, blue_id = [r["note"]["id"] for r in created.json()["results"]]

    same = api_upload(api, RED, RED)
    assert same.status_code == 200, same.content
    for result in same.json()["results"]:
        assert result["ok"] is False and result["note"] is None
        assert result["error"]["code"] == "duplicate" and result["error"]["note"] == red_id
        assert result["error"]["message"].startswith("Already uploaded on ")
    assert Note.objects.count() == 2

    # Within one batch: the second copy names the first, just made.
    batch = api_upload(api, GREEN, GREEN)
    assert batch.status_code == 201
    green, copy = batch.json()["results"]
    assert copy["error"] == {"code": "duplicate", "message": copy["error"]["message"], "note": green["note"]["id"]}

    stored = api_upload(api, BLUE, allow_duplicates="true")
    assert stored.status_code == 201 and stored.json()["results"][0]["note"]["id"] != blue_id
    assert Note.objects.count() == 4
    refused = api_upload(api, BLUE, allow_duplicates="perhaps")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
def test_api_schema_declares_allow_duplicates_and_the_200(api):
    schema = api.get("/api/schema/?format=json").json()
    upload = schema["paths"][NOTES]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    form = schema["components"]["schemas"][form["$ref"].rsplit("/", 1)[-1]]
    assert form["properties"]["allow_duplicates"]["type"] == "boolean"
    assert {"200", "201", "400"} <= set(upload["responses"])
    error = schema["components"]["schemas"]["UploadError"]
    assert error["properties"]["code"]["enum"] == ["invalid_image", "storage_failed", "duplicate"]
    assert error["properties"]["note"]["type"] == "integer"


@pytest.mark.django_db
def test_admin_lists_the_notes_uploaded_more_than_once(alice_client, admin_client, other_user):
    post_files(alice_client, [("board.jpg", RED), ("list.jpg", BLUE)])
    post_files(alice_client, [("board again.jpg", RED)], fields={"allow_duplicates": "1"})
    bob = Client()
    bob.force_login(other_user)
    post_files(bob, [("bob's board.jpg", RED)])  # another owner's: no duplicate of Alice's
    page = admin_client.get(reverse("admin:ocr_app_note_changelist") + "?duplicate=yes")
    assert page.status_code == 200
    shown = {note.original_name for note in page.context["cl"].result_list}
    assert shown == {"board.jpg", "board again.jpg"}
    assert b"Uploaded more than once" in admin_client.get(reverse("admin:ocr_app_note_changelist")).content
