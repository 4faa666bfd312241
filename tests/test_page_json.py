"""The pages' JSON answers (upload, a note's status, the notes list's statuses,
reprocess, rename, /search.json) are the API's: the same serializers, the one
error body, and the same values taken and refused (``web.forms`` check them with
the functions the API's serializers call)."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from ocr_app.models import Note
from ocr_app.services.tokens import create_token
from tests.conftest import image_upload
from tests.factories import make_note

pytestmark = pytest.mark.django_db

NOTES = "/api/v1/notes/"
SEARCH = "/api/v1/search/"
JSON = {"accept": "application/json"}


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, name='tests')[1]}")
    return client


def api_note(api, pk: int) -> dict:
    """The note as the API's list gives it."""
    [note] = [n for n in api.get(NOTES, {"page_size": 100}).json()["results"] if n["id"] == pk]
    return note


def test_upload_answers_as_the_api_does(api, alice_client, user):
    def both(fields: dict, content: bytes | None = None):
        page = alice_client.post(reverse("ocr_app:upload"), {"images": [image_upload("a.jpg", content)], **fields},
                                 headers=JSON)
        by_api = api.post(NOTES, {"images": [image_upload("a.jpg", content)], **fields}, format="multipart")
        return page, by_api

    # Refused requests: the same status and body, whatever was wrong.
    for fields in ({"language": "tlh"}, {"language": "pt-BR"}, {"language": "x" * 40}, {"allow_duplicates": "perhaps"}):
        page, by_api = both(fields)
        assert page.status_code == by_api.status_code == 400, fields
        assert page.json() == by_api.json() and page.json()["error"]["message"], fields
    page = alice_client.post(reverse("ocr_app:upload"), {"language": "en"}, headers=JSON)
    by_api = api.post(NOTES, {"language": "en"}, format="multipart")
    assert page.status_code == by_api.status_code == 400 and page.json() == by_api.json()
    assert page.json()["error"]["fields"] == {"images": ["Choose at least one image to upload."]}
    page, by_api = both({}, b"not an image")
    assert page.status_code == by_api.status_code == 400 and page.json() == by_api.json()
    assert Note.objects.count() == 0

    # A stored file: its result holds the note as the API lists it.
    page = alice_client.post(reverse("ocr_app:upload"), {"images": [image_upload("a.jpg")], "tags": "work"}, headers=JSON)
    assert page.status_code == 201
    [result] = page.json()["results"]
    assert result["ok"] is True and result["error"] is None and result["note"]["tags"] == ["work"]
    assert result["note"] == api_note(api, result["note"]["id"])
    # The same file again, by either: a duplicate naming that note, the same answer.
    page, by_api = both({})
    assert page.status_code == by_api.status_code == 200 and page.json() == by_api.json()
    assert page.json()["results"][0]["error"]["note"] == result["note"]["id"]
    # Booleans as the API reads them, whatever their case: stored again by either.
    page, by_api = both({"allow_duplicates": "True"})
    assert page.status_code == by_api.status_code == 201, (page.json(), by_api.json())


def test_statuses_reprocess_and_rename_answer_with_the_apis_note(api, alice_client, user, other_user):
    note = make_note(user, ["Call the plumber", "Buy milk"], review={1}, name="todo.jpg")
    other = make_note(user, ["Another note"])
    status = alice_client.get(reverse("ocr_app:note_status", args=[note.pk]))
    assert status["Content-Type"] == "application/json" and status.json() == api_note(api, note.pk)
    assert (status.json()["line_count"], status.json()["flagged_count"]) == (2, 1)
    listing = alice_client.get(reverse("ocr_app:notes_status"), {"ids": f"{note.pk},{other.pk}"}).json()
    assert sorted(listing["notes"], key=lambda n: n["id"]) == [api_note(api, note.pk), api_note(api, other.pk)]

    renamed = alice_client.post(reverse("ocr_app:note_rename", args=[note.pk]), {"title": "House"}, headers=JSON)
    assert renamed.json() == api_note(api, note.pk) and renamed.json()["title"] == "House"

    url = reverse("ocr_app:note_reprocess", args=[note.pk])
    for fields in ({"engine": "nope"}, {"language": "tlh"}, {"language": "pt-BR"}):
        page = alice_client.post(url, fields, headers=JSON)
        by_api = api.post(f"{NOTES}{note.pk}/reprocess/", fields, format="json")
        assert page.status_code == by_api.status_code == 400 and page.json() == by_api.json(), fields
    assert Note.objects.get(pk=note.pk).status == "done"
    queued = alice_client.post(url, {"language": "de"}, headers=JSON)
    assert queued.status_code == 202 and queued.json() == api_note(api, note.pk)
    assert (queued.json()["status"], queued.json()["language"]) == ("queued", "de")

    # Someone else's note, or none: the API's not_found, as JSON.
    theirs = make_note(other_user, ["secret"])
    for response in (alice_client.get(reverse("ocr_app:note_status", args=[theirs.pk])),
                     alice_client.post(reverse("ocr_app:note_reprocess", args=[theirs.pk]), headers=JSON),
                     alice_client.post(reverse("ocr_app:note_rename", args=[theirs.pk]), {"title": "x"}, headers=JSON)):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        assert b"secret" not in response.content
    assert Note.objects.get(pk=theirs.pk).title == "secret"


def test_the_search_page_and_the_api_take_and_refuse_the_same_parameters(api, alice_client, user):
    plumber = make_note(user, ["Call the plumber"], review={0})
    for params in ({"review": "AAA"}, {"review": "yes"}, {"from": "20261003"}, {"to": "2026-1-3"}, {"to": "2026-W47-2"},
                   {"from": "2026-13-45"}, {"page": "0"}, {"page": "-5"}, {"page": "1001"}, {"page": "two"},
                   {"page": " 2"}, {"sort": "random"}):
        by_api = api.get(SEARCH, {"q": "plumber", **params})
        as_json = alice_client.get(reverse("ocr_app:search_json"), {"q": "plumber", **params})
        assert by_api.status_code == as_json.status_code == 400, params
        assert as_json.json() == by_api.json() and as_json.json()["error"]["code"] == "bad_query", params
        page = alice_client.get(reverse("ocr_app:search"), {"q": "plumber", **params}).content.decode()
        assert html.escape(as_json.json()["error"]["message"]) in page and "search-results" not in page, params
    for params in ({"to": "9999-12-31", "from": "0001-01-01"}, {"review": "true"}, {"page": "1", "sort": "date"},
                   {"tag": ""}, {"q": "plumber\x00"}):
        by_api = [r["note"]["id"] for r in api.get(SEARCH, {"q": "plumber", **params}).json()["results"]]
        as_json = [n["id"] for n in alice_client.get(reverse("ocr_app:search_json"), {"q": "plumber", **params}).json()["notes"]]
        assert by_api == as_json == [plumber.pk], params
    # A blank field is what an empty form field sends: the page leaves it out, the API
    # (whose schema has no blank days, pages or sorts) refuses it.
    blanks = {"from": "", "to": "", "review": "", "page": "", "sort": ""}
    assert [n["id"] for n in alice_client.get(reverse("ocr_app:search_json"), {"q": "plumber", **blanks}).json()["notes"]] == [
        plumber.pk]
    assert api.get(SEARCH, {"q": "plumber", "from": ""}).status_code == 400


def test_search_json_keeps_its_html_and_adds_where_the_words_are(alice_client, user):
    make_note(user, ["<b>Call</b> the plumber & co"], name="todo.jpg")
    [note] = alice_client.get(reverse("ocr_app:search_json"), {"q": "plumber"}).json()["notes"]
    [line] = note["lines"]
    assert line["highlights"] == [[16, 23]] and line["text"][16:23] == "plumber"
    assert line["highlighted_html"] == "&lt;b&gt;Call&lt;/b&gt; the <mark>plumber</mark> &amp; co"
    assert note["title_highlighted_html"] == "&lt;b&gt;Call&lt;/b&gt; the <mark>plumber</mark> &amp; co"


def test_upload_page_scripts_find_what_they_read(alice_client, user):
    """The fields static/ocr_app/*.js read from these answers are there."""
    note = make_note(user, ["Call the plumber"])
    status = alice_client.get(reverse("ocr_app:note_status", args=[note.pk])).json()
    for field in ("id", "status", "status_display", "error", "pending", "line_count", "flagged_count", "page_count",
                  "kind", "nothing_read", "partly_unread", "page_url", "title", "title_set_by_owner"):
        assert field in status, field
    page = alice_client.get(reverse("ocr_app:upload")).content.decode()
    assert f'data-note-url="{reverse("ocr_app:note_detail", args=[0])}"' in page
    listing = alice_client.get(reverse("ocr_app:note_list")).content.decode()
    assert f'data-thumb-url="{reverse("ocr_app:note_image", args=[note.pk, "thumb"])}"' in listing
