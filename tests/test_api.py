"""The JSON API (/api/v1/): tokens, every endpoint, errors, and the OpenAPI description."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import jsonschema
import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from ocr_app.api.errors import api_exception_handler
from ocr_app.models import ApiToken, Note, NoteStatus
from ocr_app.services.tokens import create_token, hash_key
from tests.conftest import image_upload, run_worker_until_idle
from tests.factories import make_note
from tests.notegen import SAMPLE_LINES, note_bytes

NOTES = "/api/v1/notes/"
SEARCH = "/api/v1/search/"


def note_url(pk: int, action: str = "") -> str:
    return f"{NOTES}{pk}/{action + '/' if action else ''}"


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api(user) -> APIClient:
    return bearer(create_token(user=user, name="tests")[1])


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- tokens -------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_made_on_the_settings_page_is_shown_once_works_and_stops_when_revoked(alice_client, user, other_user):
    page = alice_client.get(reverse("ocr_app:api_tokens"))
    assert page.status_code == 200 and b"No tokens yet" in page.content
    assert reverse("ocr_app:api_tokens").encode() in page.content  # the nav links to it

    response = alice_client.post(reverse("ocr_app:api_tokens"), {"name": "scanner script"})
    assert response.status_code == 302
    page = alice_client.get(reverse("ocr_app:api_tokens")).content.decode()
    key = re.search(r'<code id="new-api-key">([^<]+)</code>', page).group(1)
    token = ApiToken.objects.get(user=user)
    # Only a hash is stored; the page shows the key once and then only its start.
    assert token.name == "scanner script" and token.key_hash == hash_key(key) and key not in token.key_hash
    assert key.startswith(token.prefix) and token.prefix in page
    again = alice_client.get(reverse("ocr_app:api_tokens")).content.decode()
    assert key not in again and token.prefix in again

    client = bearer(key)
    assert client.get(NOTES).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    # Bob cannot revoke Alice's token.
    bob = APIClient()
    bob.force_login(other_user)
    assert bob.post(reverse("ocr_app:api_token_revoke", args=[token.pk])).status_code == 404

    response = alice_client.post(reverse("ocr_app:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and b"revoked" in alice_client.get(reverse("ocr_app:api_tokens")).content
    error = assert_error(client.get(NOTES), 401, "not_authenticated")
    assert "revoked" in error["message"]


@pytest.mark.django_db
def test_admin_makes_a_token_shows_the_key_once_and_revokes(admin_client, user):
    response = admin_client.post(
        reverse("admin:ocr_app_apitoken_add"), {"user": user.pk, "name": "from admin"}, follow=True
    )
    assert response.status_code == 200
    key = re.search(r"(ink_[A-Za-z0-9_-]{20,})", response.content.decode()).group(1)
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == hash_key(key)
    listing = admin_client.get(reverse("admin:ocr_app_apitoken_changelist")).content.decode()
    assert token.prefix in listing and key not in listing
    assert key not in admin_client.get(reverse("admin:ocr_app_apitoken_change", args=[token.pk])).content.decode()
    assert bearer(key).get(NOTES).status_code == 200

    admin_client.post(
        reverse("admin:ocr_app_apitoken_changelist"), {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_error(bearer(key).get(NOTES), 401, "not_authenticated")


@pytest.mark.django_db
def test_anonymous_and_bad_keys_get_401_with_the_error_body(user):
    note = make_note(user, ["Call the plumber"])
    anonymous = APIClient()
    calls = [("get", NOTES), ("post", NOTES), ("get", note_url(note.pk)), ("delete", note_url(note.pk)),
             ("post", note_url(note.pk, "reprocess")), ("get", SEARCH + "?q=plumber")]
    for method, url in calls:
        response = getattr(anonymous, method)(url)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer ink_wrong", "Bearer", "Bearer a b", "Bearer not-even-ours"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        assert_error(client.get(NOTES), 401, "not_authenticated")
    assert Note.objects.filter(pk=note.pk).exists()


@pytest.mark.django_db
def test_session_works_for_reading_and_csrf_is_enforced_for_writes(user):
    note = make_note(user, ["Call the plumber"])
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(note_url(note.pk)).status_code == 200
    error = assert_error(client.post(note_url(note.pk, "reprocess")), 403, "permission_denied")
    assert "CSRF" in error["message"]
    # A token needs no CSRF token (it is not sent by browsers on their own).
    tokened = bearer(create_token(user=user, name="t")[1])
    tokened.handler.enforce_csrf_checks = True
    assert tokened.delete(note_url(note.pk)).status_code == 204


# --- notes ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_upload_several_then_status_lines_reprocess_delete_after_the_real_worker(api, user):
    response = api.post(
        NOTES,
        {"images": [image_upload("todo.jpg"), image_upload("notes.txt", b"Buy milk\n" * 30),
                    image_upload("library.png", note_bytes(SAMPLE_LINES[3:5], fmt="PNG"), "image/png")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    good, bad, png = response.json()["results"]
    assert good["ok"] and png["ok"] and not bad["ok"]
    assert bad["name"] == "notes.txt" and bad["note"] is None
    assert bad["error"]["code"] == "invalid_image" and "not an image" in bad["error"]["message"].lower()
    assert good["error"] is None and good["note"]["status"] == "queued" and good["note"]["pending"] is True
    assert good["note"]["url"].endswith(note_url(good["note"]["id"]))

    run_worker_until_idle()

    detail = api.get(note_url(good["note"]["id"]))
    assert detail.status_code == 200
    note = detail.json()
    assert note["status"] == "done" and note["pending"] is False and note["name"] == "todo.jpg"
    assert note["line_count"] == len(note["lines"]) >= 2 and note["review_threshold"] == 75.0
    line = note["lines"][0]
    assert set(line) >= {"id", "order", "text", "confidence", "box", "needs_review", "review_state"}
    assert set(line["box"]) == {"x", "y", "width", "height"} and 0 <= line["confidence"] <= 100
    assert line["review_state"] in {"confident", "needs_review"}
    assert line["review_state"] == ("needs_review" if line["needs_review"] else "confident")
    assert "plumber" in " ".join(item["text"] for item in note["lines"]).lower()
    assert api.get(SEARCH, {"q": "plumber"}).json()["results"][0]["note"]["id"] == note["id"]

    response = api.post(note_url(note["id"], "reprocess"), {"language": "de"}, format="json")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert response.json()["language"] == "de"
    run_worker_until_idle()
    assert api.get(note_url(note["id"])).json()["status"] == "done"

    assert api.delete(note_url(note["id"])).status_code == 204
    assert_error(api.get(note_url(note["id"])), 404, "not_found")
    assert not Note.objects.filter(pk=note["id"]).exists()
    assert [n["id"] for n in api.get(NOTES).json()["results"]] == [png["note"]["id"]]


@pytest.mark.django_db
def test_upload_refusals_use_the_error_codes(api, user):
    error = assert_error(api.post(NOTES, {}, format="multipart"), 400, "validation_error")
    assert "images" in error["fields"]
    body = api.post(NOTES, {"images": [image_upload("a.jpg", b"")]}, format="multipart")
    error = assert_error(body, 400, "invalid_image")
    assert body.json()["results"][0]["error"]["code"] == "invalid_image"
    assert_error(
        api.post(NOTES, {"images": [image_upload()], "language": "tlh"}, format="multipart"), 400, "unsupported_language"
    )
    assert_error(api.post(NOTES, note_bytes(), content_type="image/jpeg"), 415, "unsupported_media_type")
    assert not Note.objects.exists()


@pytest.mark.django_db
def test_reprocess_refusals(api, user):
    note = make_note(user, ["Call the plumber"])
    error = assert_error(api.post(note_url(note.pk, "reprocess"), {"engine": "nope"}, format="json"), 400, "validation_error")
    assert "engine" in error["fields"]
    assert_error(api.post(note_url(note.pk, "reprocess"), {"language": "x" * 40}, format="json"), 400, "unsupported_language")
    note.refresh_from_db()
    assert note.status == NoteStatus.DONE


@pytest.mark.django_db
def test_list_is_paginated_newest_first_with_counts(api, user, other_user):
    notes = [make_note(user, [f"line {i}", "second"], review={1}, uploaded_at=datetime(2026, 1, 1 + i, tzinfo=timezone.utc))
             for i in range(23)]
    make_note(other_user, ["not yours"])
    first = api.get(NOTES).json()
    assert first["count"] == 23 and len(first["results"]) == 20 and first["previous"] is None
    assert [n["id"] for n in first["results"]] == [n.pk for n in reversed(notes)][:20]
    assert first["results"][0]["line_count"] == 2 and first["results"][0]["flagged_count"] == 1
    second = api.get(first["next"]).json()
    assert [n["id"] for n in second["results"]] == [n.pk for n in reversed(notes)][20:] and second["next"] is None
    assert len(api.get(NOTES, {"page_size": 5}).json()["results"]) == 5
    assert_error(api.get(NOTES, {"page": 9}), 404, "not_found")


@pytest.mark.django_db
def test_search_with_the_search_page_filters_and_pages(api, user, other_user, alice_client):
    plumber = make_note(user, ["Call the plumber on Monday", "Buy milk"], review={0},
                        uploaded_at=datetime(2026, 10, 3, tzinfo=timezone.utc))
    budget = make_note(user, ["Email Sarah about the budget"])
    make_note(other_user, ["Call the plumber too"])
    body = api.get(SEARCH, {"q": "plumber"}).json()
    assert body["query"] == "plumber" and body["page"] == 1 and body["has_next"] is False and body["next"] is None
    assert (body["count"], body["count_capped"], body["approximate_count"], body["sort"]) == (1, False, 0, "relevance")
    [result] = body["results"]
    assert result["note"]["id"] == plumber.pk and result["approximate"] is False and result["matching_lines"] == 1
    assert "<mark>plumber</mark>" in result["lines"][0]["highlighted_html"]
    # Words on two lines find the note, and both lines come back.
    [result] = api.get(SEARCH, {"q": "milk plumber"}).json()["results"]
    assert [line["text"] for line in result["lines"]] == ["Call the plumber on Monday", "Buy milk"]
    assert [r["note"]["id"] for r in api.get(SEARCH, {"q": "plumber OR sarah", "sort": "date"}).json()["results"]] == [
        budget.pk, plumber.pk]
    assert_error(api.get(SEARCH, {"q": "plumber", "sort": "random"}), 400, "bad_query")
    assert set(result["lines"][0]["box"]) == {"x", "y", "width", "height"}
    assert api.get(SEARCH, {"q": "plumbr"}).json()["results"][0]["approximate"] is True
    assert [r["note"]["id"] for r in api.get(SEARCH, {"q": "plumber", "review": "1"}).json()["results"]] == [plumber.pk]
    assert api.get(SEARCH, {"q": "plumber", "from": "2026-10-04"}).json()["results"] == []
    assert len(api.get(SEARCH, {"q": "plumber", "to": "2026-10-03"}).json()["results"]) == 1
    assert api.get(SEARCH, {"q": ""}).json()["results"] == []
    # A NUL (which the schema allows in any string) separates words as a hyphen does, as on the page.
    assert [r["note"]["id"] for r in api.get(SEARCH, {"q": "plumber\x00on"}).json()["results"]] == [plumber.pk]
    assert alice_client.get(reverse("ocr_app:search"), {"q": "plumber\x00on"}).status_code == 200
    assert_error(api.get(SEARCH, {"q": "plumber", "from": "2026-13-45"}), 400, "bad_query")
    assert_error(api.get(SEARCH, {"q": "plumber", "page": "two"}), 400, "bad_query")

    for i in range(21):
        make_note(user, [f"budget line {i}"])
    first = api.get(SEARCH, {"q": "budget"}).json()
    assert len(first["results"]) == 20 and first["has_next"] and first["previous"] is None
    second = api.get(first["next"]).json()
    assert second["page"] == 2 and len(second["results"]) == 2 and second["previous"] and not second["has_next"]
    assert {r["note"]["id"] for r in first["results"]}.isdisjoint(r["note"]["id"] for r in second["results"])


@pytest.mark.django_db
def test_other_users_notes_are_not_found_on_every_endpoint(api, other_user):
    theirs = make_note(other_user, ["Bob's secret plumber"])
    for method, url in [("get", note_url(theirs.pk)), ("delete", note_url(theirs.pk)),
                        ("post", note_url(theirs.pk, "reprocess")), ("get", note_url(2**63 + 5)),
                        ("get", note_url(999999))]:
        assert_error(getattr(api, method)(url), 404, "not_found")
    assert api.get(NOTES).json()["count"] == 0
    assert api.get(SEARCH, {"q": "plumber"}).json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.status == NoteStatus.DONE


@pytest.mark.django_db
def test_other_errors_have_the_same_shape(api, user):
    note = make_note(user, ["x"])
    assert_error(api.put(note_url(note.pk), {}, format="json"), 405, "method_not_allowed")
    response = api.post(note_url(note.pk, "reprocess"), "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")
    throttled = api_exception_handler(Throttled(wait=7), {})
    assert throttled.status_code == 429 and throttled.data["error"]["code"] == "throttled"
    # A path the API does not have: the same shape, not Django's HTML page.
    assert_error(api.get("/api/v1/nope/"), 404, "not_found")
    assert b"<html" in api.get("/nope/").content.lower()


# --- OpenAPI --------------------------------------------------------------------------


def _api_routes(patterns=None, prefix: str = "") -> set[str]:
    routes = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes |= _api_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
            routes.add(route)
    return routes


def _normalise(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path.lstrip("/"))


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("schema") / "schema.json"
    # Fails on any warning: a view the generator cannot describe fails CI.
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))
    return json.loads(out.read_text())


def _nullable_to_jsonschema(node):
    """OpenAPI 3.0's ``nullable`` in JSON Schema terms, for jsonschema."""
    if isinstance(node, list):
        return [_nullable_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_to_jsonschema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def validate(schema: dict, component: str, instance) -> None:
    document = {"components": _nullable_to_jsonschema(schema["components"]),
                "$ref": f"#/components/schemas/{component}"}
    jsonschema.validate(instance, document, cls=jsonschema.Draft202012Validator)


def test_schema_describes_exactly_the_api_urls(schema):
    described = {_normalise(path) for path in schema["paths"]}
    implemented = {_normalise(route) for route in _api_routes()}
    assert implemented and described == implemented
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert ("/api/v1/notes/", "post") in operations and ("/api/v1/notes/{id}/", "delete") in operations
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_schema_is_served_and_real_responses_match_it(schema, api, user, client):
    served = client.get("/api/schema/", {"format": "json"})
    assert served.status_code == 200 and json.loads(served.content)["paths"].keys() == schema["paths"].keys()
    assert client.get("/api/docs/").status_code == 200

    note = make_note(user, ["Call the plumber on Monday", "Buy milk"], review={1})
    responses = {
        "PaginatedNoteList": api.get(NOTES),
        "NoteDetail": api.get(note_url(note.pk)),
        "SearchResponse": api.get(SEARCH, {"q": "plumber"}),
        "UploadResponse": api.post(NOTES, {"images": [image_upload(), image_upload("x.jpg", b"")]}, format="multipart"),
        "UploadFailed": api.post(NOTES, {"images": [image_upload("x.jpg", b"")]}, format="multipart"),
        "Note": api.post(note_url(note.pk, "reprocess")),
        "Error": api.get(note_url(note.pk + 1000)),
    }
    for component, response in responses.items():
        body = response.json()
        assert body, component
        validate(schema, component, body)
        required = schema["components"]["schemas"][component].get("required", [])
        assert set(required) <= set(body), component
    # And the schema is strict enough to notice a wrong shape.
    with pytest.raises(jsonschema.ValidationError):
        validate(schema, "NoteDetail", {**responses["NoteDetail"].json(), "lines": [{"id": 1}]})


# --- the contract's edges (schemathesis explores them in test_api_contract.py) ---------


@pytest.mark.django_db
def test_parameters_the_schema_refuses_are_refused_with_the_error_body(api, user):
    make_note(user, ["Call the plumber"], review={0})
    for params in ({"page_size": "null"}, {"page_size": "0"}, {"page_size": "101"}, {"page_size": ""}, {"page": "x"}):
        error = assert_error(api.get(NOTES, params), 400, "validation_error")
        assert set(error["fields"]) == set(params), params
    assert len(api.get(NOTES, {"page_size": 100}).json()["results"]) == 1
    for params in ({"review": "AAA"}, {"review": ""}, {"from": "20261003"}, {"from": ""}, {"to": "2026-1-3"},
                   {"page": "0"}, {"page": "1001"}, {"sort": ""}):
        error = assert_error(api.get(SEARCH, {"q": "plumber", **params}), 400, "bad_query")
        assert set(error["fields"]) == set(params), params
    # What the schema allows is accepted, up to the calendar's last day.
    assert len(api.get(SEARCH, {"q": "plumber", "to": "9999-12-31", "from": "0001-01-01"}).json()["results"]) == 1
    assert len(api.get(SEARCH, {"q": "plumber", "review": "true"}).json()["results"]) == 1


@pytest.mark.django_db
def test_engines_and_languages_are_enums_of_what_the_server_accepts(api, user, schema):
    from ocr_app.pipeline.engine_selection import available_engines, engine_languages

    note = make_note(user, ["Call the plumber"])
    body = schema["components"]["schemas"]["ReprocessRequestRequest"]
    pairs = {engine: set(alternative["properties"]["language"]["enum"])
             for alternative in body["anyOf"] for engine in alternative["properties"]["engine"]["enum"]}
    assert set(pairs) == {*available_engines(), ""}
    for engine, codes in pairs.items():
        assert codes == {"", *engine_languages(engine or None)}
        response = api.post(note_url(note.pk, "reprocess"), {"engine": engine, "language": sorted(codes)[-1]}, format="json")
        assert response.status_code == 202, (engine, response.content)
    upload = schema["components"]["schemas"]["UploadRequestRequest"]["properties"]["language"]["enum"]
    assert set(upload) == {"", *engine_languages()}
    # Outside the enums: refused, and a language the chosen engine cannot read too.
    assert_error(api.post(note_url(note.pk, "reprocess"), {"language": "pt-BR"}, format="json"), 400, "unsupported_language")
    unread = {code for codes in pairs.values() for code in codes} - pairs.get("aspose", set())
    if "aspose" in pairs and unread:
        assert_error(api.post(note_url(note.pk, "reprocess"), {"engine": "aspose", "language": unread.pop()}, format="json"),
                     400, "unsupported_language")
    assert_error(api.post(note_url(note.pk, "reprocess"), {"language": "de"}, format="multipart"), 415,
                 "unsupported_media_type")


@pytest.mark.django_db
def test_upload_schema_names_the_file_types_and_limits(schema):
    content = schema["paths"]["/api/v1/notes/"]["post"]["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    declared = {t.strip() for t in content["multipart/form-data"]["encoding"]["images"]["contentType"].split(",")}
    assert {"image/jpeg", "image/png", "image/heic", "application/pdf"} <= declared
    description = schema["components"]["schemas"]["UploadRequestRequest"]["properties"]["images"]["description"]
    assert "25 MB" in description and "16x16" in description


@pytest.mark.django_db
def test_image_url_serves_the_image_to_a_token_client(api, user, other_user):
    picture = note_bytes()
    note = make_note(user, ["Call the plumber"], image=picture)
    theirs = make_note(other_user, ["Bob's note"], image=picture)
    image_url = api.get(note_url(note.pk)).json()["image_url"]
    assert image_url.endswith(f"/api/v1/notes/{note.pk}/image/original/")
    response = api.get(image_url, HTTP_ACCEPT="image/*")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == picture
    # Before the worker made the renditions, a browser-shown original stands in for them.
    assert api.get(f"{NOTES}{note.pk}/image/thumb/").status_code == 200
    assert_error(api.get(f"{NOTES}{note.pk}/image/huge/", HTTP_ACCEPT="image/*"), 404, "not_found")
    assert_error(api.get(f"{NOTES}{theirs.pk}/image/original/"), 404, "not_found")
    assert_error(APIClient().get(image_url), 401, "not_authenticated")


@pytest.mark.django_db
def test_search_results_cost_the_same_queries_for_few_or_many_notes(api, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        # The second of two calls: the first also notes the token's use and reloads the
        # user's word list after the notes changed.
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                assert api.get(SEARCH, {"q": "plumber"}).status_code == 200
        return len(captured)

    for i in range(2):
        make_note(user, [f"Call the plumber {i}"])
    few = queries()
    for i in range(2, 12):
        make_note(user, [f"Call the plumber {i}"])
    assert queries() == few
