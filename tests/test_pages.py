"""Access and hygiene over HTTP: who may see what, escaping, headers, methods, CSRF.

Notes are stored through the upload service (real image files) and their lines
are written directly, so no OCR runs here.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from ocr_app import urls as app_urls
from ocr_app.images import make_preview
from ocr_app.models import Line, Note, NoteStatus
from ocr_app.search.vocabulary import record_words
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload
from tests.notegen import encode, note_bytes, render_note

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HTML_NAME = '<img src=x onerror=alert("name")>.jpg'


def make_note(owner, texts, *, name="note.jpg", content=None, content_type="image/jpeg") -> Note:
    """A stored note (real file, through the service) with these lines, as if recognised."""
    note = create_note(owner=owner, uploaded_file=image_upload(name, content, content_type))
    Note.objects.filter(pk=note.pk).update(status=NoteStatus.DONE, attempts=1, finished_at=timezone.now())
    Line.objects.bulk_create(
        Line(note=note, owner=owner, order=i, text=text, confidence=95.0 if i else 60.0,
             x=20, y=20 + 90 * i, width=600, height=60, needs_review=i == 0,
             words=[{"text": w, "confidence": 95.0, "box": {"x": 20 + 70 * j, "y": 20 + 90 * i, "width": 60, "height": 60}}
                    for j, w in enumerate(text.split())])
        for i, text in enumerate(texts)
    )
    record_words(owner.pk, texts)
    note.refresh_from_db()
    return note


def note_urls(note: Note) -> dict[str, tuple[str, str]]:
    """Every per-note URL, with the method that uses it."""
    return {
        "detail": ("get", reverse("ocr_app:note_detail", args=[note.pk])),
        "lines": ("get", reverse("ocr_app:note_lines", args=[note.pk])),
        "lines?q": ("get", reverse("ocr_app:note_lines", args=[note.pk]) + "?q=quixotic"),
        "status": ("get", reverse("ocr_app:note_status", args=[note.pk])),
        "original": ("get", reverse("ocr_app:note_image", args=[note.pk, "original"])),
        "preview": ("get", reverse("ocr_app:note_image", args=[note.pk, "preview"])),
        "thumb": ("get", reverse("ocr_app:note_image", args=[note.pk, "thumb"])),
        "reprocess": ("post", reverse("ocr_app:note_reprocess", args=[note.pk])),
        "delete": ("post", reverse("ocr_app:note_delete", args=[note.pk])),
    }


def snapshot(note: Note):
    note = Note.objects.get(pk=note.pk)
    return (note.status, note.attempts, note.task_id, note.original_name, note.image.name,
            list(note.lines.values_list("pk", "text", "order")), note.image.storage.exists(note.image.name))


@pytest.fixture
def bobs_note(other_user):
    return make_note(other_user, ["Quixotic zanzibar plans for Friday", "Bob's secret budget 4711"], name="bob.jpg")


@pytest.fixture
def alices_note(user):
    return make_note(user, ["Call the plumber on Monday", "Zanzibar trip budget"], name="alice.jpg")


# --- anonymous -------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_every_app_url(client, alices_note):
    values = {"pk": alices_note.pk, "variant": "original", "tag_id": 1, "line_pk": 1, "deleted_pk": 1}
    seen = set()
    for pattern in app_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        kwargs = {name: values[name] for name in pattern.pattern.converters}
        url = reverse(f"ocr_app:{pattern.name}", kwargs=kwargs)
        for method, headers in (("get", {}), ("post", {}), ("get", {"accept": "application/json"})):
            response = getattr(client, method)(url, headers=headers)
            assert response.status_code == 302, (method, url, response.status_code)
            login = reverse("login")
            assert response["Location"].startswith(f"{login}?next="), (method, url, response["Location"])
            assert alices_note.original_name.encode() not in response.content
        seen.add(pattern.name)
    assert {"note_list", "upload", "search", "search_json", "suggest", "notes_status", "note_detail", "note_lines",
            "note_status", "note_image", "note_reprocess", "note_delete"} <= seen
    assert Note.objects.filter(pk=alices_note.pk, status="done").exists()


# --- another user's notes ---------------------------------------------------------------


def test_someone_elses_note_is_404_on_every_note_url(alice_client, alices_note, bobs_note):
    before = snapshot(bobs_note)
    for label, (method, url) in note_urls(bobs_note).items():
        response = getattr(alice_client, method)(url)
        assert response.status_code == 404, (label, response.status_code)
        body = response.content if not response.streaming else b"".join(response.streaming_content)
        assert b"zanzibar" not in body.lower() and b"bob.jpg" not in body, label
    # The JSON flavour of reprocess as well.
    response = alice_client.post(note_urls(bobs_note)["reprocess"][1], headers={"accept": "application/json"})
    assert response.status_code == 404
    assert snapshot(bobs_note) == before

    # The same URLs work for their owner (so the 404s above mean something).
    for label, (method, url) in note_urls(alices_note).items():
        if method == "get":
            assert alice_client.get(url).status_code == 200, label


def test_note_urls_404_for_missing_and_absurd_ids(alice_client, alices_note):
    for pk in (alices_note.pk + 1000, 2**63 - 1, 2**63, 10**30):
        for label, (method, url) in note_urls(Note(pk=pk)).items():
            response = getattr(alice_client, method)(url)
            assert response.status_code == 404, (pk, label, response.status_code)


def test_status_list_shows_only_own_notes(alice_client, alices_note, bobs_note):
    url = reverse("ocr_app:notes_status")
    response = alice_client.get(url, {"ids": f"{bobs_note.pk},{alices_note.pk}"})
    assert response.status_code == 200
    assert [n["id"] for n in response.json()["notes"]] == [alices_note.pk]
    assert b"bob.jpg" not in response.content
    assert alice_client.get(url, {"ids": str(bobs_note.pk)}).json() == {"notes": []}
    assert alice_client.get(url, {"ids": "1,x"}).status_code == 400
    # Numbers no note id can be are refused, not handed to the database.
    for ids in (f"{alices_note.pk},{10**30}", str(2**63), "-1", "0"):
        response = alice_client.get(url, {"ids": ids})
        assert response.status_code == 400, ids
        error = response.json()["error"]  # the API's error body
        assert error["code"] == "validation_error" and "note numbers" in error["fields"]["ids"][0], ids
    assert alice_client.get(url, {"ids": f"{alices_note.pk},{2**63 - 1}"}).json()["notes"][0]["id"] == alices_note.pk


def test_search_never_returns_someone_elses_lines(alice_client, client, other_user, alices_note, bobs_note):
    for query in ("zanzibar", "quixotic", "secret", "quixotik", "4711", "bob*", '"zanzibar plans"'):
        data = alice_client.get(reverse("ocr_app:search_json"), {"q": query}).json()
        assert bobs_note.pk not in [n["id"] for n in data["notes"]], query
        line_ids = {line["id"] for n in data["notes"] for line in n["lines"]}
        assert not line_ids & set(bobs_note.lines.values_list("pk", flat=True)), query
        page = alice_client.get(reverse("ocr_app:search"), {"q": query})
        assert page.status_code == 200
        assert b"bob.jpg" not in page.content and b"Quixotic" not in page.content
        assert b"secret budget" not in page.content, query
        assert f'href="/notes/{bobs_note.pk}/'.encode() not in page.content, query

    # Alice's own "zanzibar" is found; Bob finds his (the queries do match something).
    data = alice_client.get(reverse("ocr_app:search_json"), {"q": "zanzibar"}).json()
    assert [n["id"] for n in data["notes"]] == [alices_note.pk]
    client.force_login(other_user)
    data = client.get(reverse("ocr_app:search_json"), {"q": "quixotic"}).json()
    assert [n["id"] for n in data["notes"]] == [bobs_note.pk]


def test_suggestions_come_from_own_words_only(alice_client, client, other_user, alices_note, bobs_note):
    suggest = reverse("ocr_app:suggest")
    assert alice_client.get(suggest, {"q": "qui"}).json() == {"suggestions": []}
    assert alice_client.get(suggest, {"q": "sec"}).json() == {"suggestions": []}
    assert alice_client.get(suggest, {"q": "zan"}).json() == {"suggestions": ["zanzibar"]}
    client.force_login(other_user)
    assert client.get(suggest, {"q": "qui"}).json() == {"suggestions": ["quixotic"]}


def test_note_list_shows_only_own_notes_newest_first(alice_client, user, bobs_note):
    older = make_note(user, ["first"], name="older.jpg")
    newer = make_note(user, ["second"], name="newer.jpg")
    Note.objects.filter(pk=older.pk).update(uploaded_at=timezone.now() - timedelta(days=2))
    Note.objects.filter(pk=newer.pk).update(uploaded_at=timezone.now() - timedelta(days=1))
    latest = make_note(user, ["third"], name="latest.jpg")
    response = alice_client.get(reverse("ocr_app:note_list"))
    ids = [int(i) for i in re.findall(rb'data-note-id="(\d+)"', response.content)]
    assert ids == [latest.pk, newer.pk, older.pk]
    assert b"bob.jpg" not in response.content


# --- escaping -------------------------------------------------------------------------------


@pytest.fixture
def hostile_note(user):
    return make_note(user, [SCRIPT, IMG, "plumber & <b>bold</b> script"], name=HTML_NAME)


def assert_no_raw_markup(content: bytes) -> None:
    for raw in (SCRIPT, IMG, HTML_NAME, "<b>bold</b>", "<script>alert", "<img src=x"):
        assert raw.encode() not in content, raw


def test_ocr_text_and_names_are_escaped_on_the_note_page(alice_client, hostile_note):
    for query in ("", "script", "alert", "onerror", "img", SCRIPT, "bold"):
        for name in ("ocr_app:note_detail", "ocr_app:note_lines"):
            response = alice_client.get(reverse(name, args=[hostile_note.pk]), {"q": query} if query else {})
            assert response.status_code == 200
            assert_no_raw_markup(response.content)
    page = alice_client.get(reverse("ocr_app:note_detail", args=[hostile_note.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(&quot;name&quot;)&gt;.jpg" in page  # the title
    # With a query only Inkdex's own <mark> tags are added, around escaped text.
    page = alice_client.get(reverse("ocr_app:note_detail", args=[hostile_note.pk]), {"q": "script"}).content.decode()
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in page
    page = alice_client.get(reverse("ocr_app:note_detail", args=[hostile_note.pk]), {"q": SCRIPT}).content.decode()
    assert f"match <strong>{html.escape(SCRIPT)}</strong>" in page


def test_ocr_text_and_names_are_escaped_in_search_and_list(alice_client, hostile_note):
    for query in ("script", "alert", "onerror", "bold", "scr*"):
        response = alice_client.get(reverse("ocr_app:search"), {"q": query})
        assert response.status_code == 200 and b"search-results" in response.content, query
        assert_no_raw_markup(response.content)
    page = alice_client.get(reverse("ocr_app:search"), {"q": "alert"}).content.decode()
    assert "&lt;<mark>img</mark>" not in page  # "img" was not searched for
    assert "&lt;img src=x onerror=<mark>alert</mark>(1)&gt;" in page
    # The query itself is reflected escaped (input value, title, "no notes match").
    response = alice_client.get(reverse("ocr_app:search"), {"q": f"nothing {IMG}"})
    assert_no_raw_markup(response.content)
    assert b"No notes match" in response.content

    response = alice_client.get(reverse("ocr_app:note_list"))
    assert_no_raw_markup(response.content)
    assert b"&lt;img src=x onerror=alert(&quot;name&quot;)&gt;.jpg" in response.content


def test_json_carries_plain_text(alice_client, hostile_note):
    data = alice_client.get(reverse("ocr_app:search_json"), {"q": "alert"}).json()
    [result] = data["notes"]
    assert result["name"] == HTML_NAME
    assert sorted(line["text"] for line in result["lines"]) == sorted([SCRIPT, IMG])
    for line in result["lines"]:
        assert "<script" not in line["highlighted_html"] and "<img" not in line["highlighted_html"]
        assert "<mark>alert</mark>" in line["highlighted_html"]
    status = alice_client.get(reverse("ocr_app:note_status", args=[hostile_note.pk]))
    assert status["Content-Type"] == "application/json" and status.json()["name"] == HTML_NAME
    listing = alice_client.get(reverse("ocr_app:notes_status"), {"ids": hostile_note.pk}).json()
    assert listing["notes"][0]["name"] == HTML_NAME
    assert alice_client.get(reverse("ocr_app:suggest"), {"q": "scr"}).json() == {"suggestions": ["script"]}


def test_names_with_markup_are_escaped_in_messages(alice_client, alices_note):
    response = alice_client.post(
        reverse("ocr_app:upload"),
        # The same picture as alices_note: stored again on request.
        {"images": [image_upload(HTML_NAME), image_upload("<svg onload=alert(1)>.jpg", b"not an image")],
         "allow_duplicates": "1"},
        follow=True,
    )
    assert response.status_code == 200
    messages = [m.message for m in response.context["messages"]]
    assert messages[0] == f"{HTML_NAME}: uploaded, recognition queued."
    assert messages[1].startswith("<svg onload=alert(1)>.jpg: This file is not an image")
    assert_no_raw_markup(response.content)
    assert b"<svg onload" not in response.content and b"&lt;svg onload=alert(1)&gt;.jpg: This file" in response.content
    assert b"&lt;img src=x onerror=alert(&quot;name&quot;)&gt;.jpg: uploaded" in response.content

    note = Note.objects.get(original_name=HTML_NAME)
    response = alice_client.post(reverse("ocr_app:note_delete", args=[note.pk]), follow=True)
    assert [m.message for m in response.context["messages"]] == [f"Deleted {HTML_NAME}."]
    assert_no_raw_markup(response.content)
    assert b"Deleted &lt;img src=x" in response.content

    response = alice_client.post(reverse("ocr_app:note_reprocess", args=[alices_note.pk]), {"engine": IMG}, follow=True)
    assert [m.message for m in response.context["messages"]] == [f"Unknown engine {IMG!r}."]
    assert_no_raw_markup(response.content)


# --- image responses --------------------------------------------------------------------------


def assert_image_response(response, content_type: str) -> bytes:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "name,content,expected",
    [
        ("page.html", lambda: note_bytes(fmt="PNG"), "image/png"),
        ("page.jpg", lambda: note_bytes() + b"<html><script>alert(1)</script></html>", "image/jpeg"),
        ("page.svg", lambda: note_bytes(fmt="WEBP"), "image/webp"),
    ],
)
def test_images_are_served_as_their_detected_type_never_as_claimed(alice_client, user, name, content, expected):
    data = content()
    response = alice_client.post(
        reverse("ocr_app:upload"), {"images": [image_upload(name, data, "text/html")]},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 201
    note = Note.objects.get(pk=response.json()["results"][0]["note"]["id"])
    for variant in ("original", "preview", "thumb"):
        response = alice_client.get(reverse("ocr_app:note_image", args=[note.pk, variant]))
        assert assert_image_response(response, expected) == data
    response = alice_client.get(reverse("ocr_app:note_image", args=[note.pk, "original"]))
    assert response["Content-Disposition"] == f"inline; filename=note-{note.pk}.{note.image.name.rsplit('.', 1)[1]}"
    assert name not in response["Content-Disposition"]


@pytest.mark.parametrize("fmt, content_type, shown", [
    ("BMP", "image/bmp", True), ("AVIF", "image/avif", True), ("GIF", "image/gif", True), ("TIFF", "image/tiff", False),
])
def test_before_the_renditions_pages_show_the_original_only_where_browsers_can(alice_client, user, fmt, content_type,
                                                                               shown):
    image, _ = render_note(["Call the plumber"])
    note = create_note(owner=user, uploaded_file=image_upload(f"scan.{fmt.lower()}", encode(image, fmt), content_type))
    assert note.content_type == content_type
    for variant in ("preview", "thumb"):
        response = alice_client.get(reverse("ocr_app:note_image", args=[note.pk, variant]))
        assert response.status_code == (200 if shown else 404)
        if shown:
            assert_image_response(response, content_type)
    assert ('id="note-img"' in alice_client.get(note.get_absolute_url()).content.decode()) == shown
    thumb = reverse("ocr_app:note_image", args=[note.pk, "thumb"])
    assert (f'<img src="{thumb}"' in alice_client.get(reverse("ocr_app:note_list")).content.decode()) == shown


def test_renditions_are_jpeg_and_unknown_variants_404(alice_client, user):
    # A TIFF browsers cannot show: no stand-in before the worker made the renditions.
    image, _ = render_note(["Call the plumber"])
    note = create_note(owner=user, uploaded_file=image_upload("scan.tiff", encode(image, "TIFF"), "image/html"))
    for variant in ("preview", "thumb"):
        assert alice_client.get(reverse("ocr_app:note_image", args=[note.pk, variant])).status_code == 404
    response = alice_client.get(reverse("ocr_app:note_image", args=[note.pk, "original"]))
    assert_image_response(response, "image/tiff")
    # Once the worker made them, the renditions are JPEGs whatever the original.
    note.preview.save("previews/p.jpg", ContentFile(make_preview(image, 800)), save=False)
    note.thumbnail.save("previews/t.jpg", ContentFile(make_preview(image, 100)), save=True)
    for variant in ("preview", "thumb"):
        body = assert_image_response(alice_client.get(reverse("ocr_app:note_image", args=[note.pk, variant])), "image/jpeg")
        assert body.startswith(b"\xff\xd8")
    for variant in ("bogus", "..", "ORIGINAL", "original.html"):
        assert alice_client.get(f"/notes/{note.pk}/image/{variant}/").status_code == 404, variant


def test_missing_image_file_is_404_not_500(alice_client, alices_note):
    alices_note.image.storage.delete(alices_note.image.name)
    assert alice_client.get(reverse("ocr_app:note_image", args=[alices_note.pk, "original"])).status_code == 404


def test_pages_carry_security_headers(alice_client, alices_note):
    for url in (reverse("ocr_app:note_list"), alices_note.get_absolute_url(), reverse("ocr_app:search_json")):
        response = alice_client.get(url)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"


# --- methods and CSRF ---------------------------------------------------------------------------


def test_state_changing_views_reject_get(alice_client, alices_note):
    before = snapshot(alices_note)
    for label in ("reprocess", "delete"):
        url = note_urls(alices_note)[label][1]
        for method in ("get", "put", "delete", "patch"):
            assert getattr(alice_client, method)(url).status_code == 405, (label, method)
    for method in ("put", "delete", "patch"):
        assert getattr(alice_client, method)(reverse("ocr_app:upload")).status_code == 405
    for name in ("note_list", "search", "search_json", "suggest", "notes_status"):
        assert alice_client.post(reverse(f"ocr_app:{name}")).status_code == 405, name
    assert alice_client.get(reverse("logout")).status_code == 405
    assert snapshot(alices_note) == before


def test_posts_need_a_csrf_token(user, alices_note):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    before = snapshot(alices_note)
    posts = {
        "reprocess": (note_urls(alices_note)["reprocess"][1], {}),
        "delete": (note_urls(alices_note)["delete"][1], {}),
        "upload": (reverse("ocr_app:upload"), {"images": [image_upload("new.jpg")]}),
    }
    for label, (url, data) in posts.items():
        response = browser.post(url, data)
        assert response.status_code == 403, label
        assert b"CSRF" in response.content
    assert snapshot(alices_note) == before and Note.objects.count() == 1

    # With the token from the page the same request goes through.
    page = browser.get(alices_note.get_absolute_url())
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    response = browser.post(posts["reprocess"][0], {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Note.objects.get(pk=alices_note.pk).status == NoteStatus.QUEUED
    # The same picture as alices_note: stored again on request.
    response = browser.post(reverse("ocr_app:upload"), {"images": [image_upload("new.jpg")], "allow_duplicates": "1"},
                            headers={"x-csrftoken": token})
    assert response.status_code == 302 and Note.objects.count() == 2


# --- hostile parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"q": "plumber", "page": str(10**20)},
        {"q": "plumber", "page": "-5"},
        {"q": "plumber", "page": "abc"},
        {"q": "plumber", "to": "9999-12-31"},
        {"q": "plumber", "from": "0001-01-01"},
        {"q": "plumber", "from": "2026-13-45"},
        {"q": "plumber", "to": "tomorrow"},
        {"q": "\0plumber\x1b"},
        {"q": '"unbalanced (NEAR AND OR * -'},
        {"q": "x" * 5000},
    ],
)
def test_hostile_search_parameters_are_never_a_500(alice_client, alices_note, params):
    page = alice_client.get(reverse("ocr_app:search"), params)
    assert page.status_code == 200
    as_json = alice_client.get(reverse("ocr_app:search_json"), params)
    assert as_json.status_code in (200, 400)
    if as_json.status_code == 400:
        error = as_json.json()["error"]  # the API's error body, the same message as the page's
        assert error["code"] == "bad_query" and error["message"] and set(error["fields"]) <= set(params)
        assert html.escape(error["message"]).encode() in page.content
    assert alice_client.get(reverse("ocr_app:suggest"), params).status_code == 200


def all_named_urls(resolver=None, namespace=""):
    """(name, pattern) of every named URL in the project, admin included."""
    from django.urls import URLResolver, get_resolver

    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from all_named_urls(pattern, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def test_every_url_in_the_project_keeps_bobs_notes_from_alice_and_from_staff(client, user, staff_user, bobs_note):
    """Walk the whole URL conf with Bob's ids: Alice (and a staff member without
    admin permissions) never see a word of Bob's note."""
    bobs_line = bobs_note.lines.first()
    ids = {"pk": bobs_note.pk, "object_id": bobs_note.pk, "variant": "original", "content_type_id": 1,
           "app_label": "ocr_app"}
    public = {"login", "logout", "admin:login", "admin:logout", "admin:javascript-catalog"}
    before = snapshot(bobs_note)
    walked = set()
    for person in (user, staff_user):
        client.force_login(person)
        for name, pattern in all_named_urls():
            if name in public:
                continue  # staff without the review permission get no review page either
            kwargs = {key: ids.get(key, bobs_line.pk) for key in pattern.pattern.converters}
            if "object_id" in kwargs and "line" in name:
                kwargs["object_id"] = bobs_line.pk
            try:
                url = reverse(name, kwargs=kwargs)
            except Exception:  # noqa: BLE001 - e.g. an admin URL for another app label
                continue
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                assert b"zanzibar" not in body.lower() and b"4711" not in body, (person, method, url)
                if {"pk", "object_id"} & set(kwargs) and name.startswith(("admin:ocr_app", "ocr_app:note")):
                    # Bob's own objects: refused, missing, or (admin, not staff) off to its login.
                    assert response.status_code in {302, 403, 404, 405}, (person, method, url, response.status_code)
            walked.add(name)
    assert snapshot(bobs_note) == before
    assert {"admin:ocr_app_note_change", "admin:ocr_app_line_change", "admin:ocr_app_note_changelist",
            "ocr_app:note_detail", "ocr_app:review_crop", "ocr_app:search_json"} <= walked
