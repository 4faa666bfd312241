"""Bad and odd input through the real upload endpoint.

Every file is made here in code. Multipart bodies are built by hand (not by the
test client, which would clean the file names first) so that the server sees
exactly what a hostile or merely unusual client sends.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import IntegrityError
from django.urls import reverse
from PIL import Image

from ocr_app.images import InvalidImage, open_upright_rgb
from ocr_app.models import Note, NoteStatus
from ocr_app.services import uploads
from tests.conftest import run_worker_until_idle
from tests.notegen import SAMPLE_LINES, encode, note_bytes, render_note

UPLOAD = "ocr_app:upload"


# --- the corpus -------------------------------------------------------------------


@functools.cache
def upright_note() -> tuple[Image.Image, list]:
    return render_note(SAMPLE_LINES[:3])


@functools.cache
def good_jpeg() -> bytes:
    return note_bytes()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def decompression_bomb() -> bytes:
    """A ~110 KB PNG that declares 30000x30000 1-bit pixels (900 megapixels) and
    really holds them: every row is there, zlib squeezes the zeros."""
    width = height = 30_000
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 1000) for _ in range(height // 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def cmyk_jpeg() -> bytes:
    return encode(upright_note()[0].convert("CMYK"))


def png_16bit() -> bytes:
    grey = upright_note()[0].convert("L").convert("I").point(lambda v: v * 257)
    image = grey.convert("I;16")
    assert image.mode == "I;16"
    return encode(image, "PNG")


def exif_rotated_jpeg() -> bytes:
    # Phones store the sensor's pixels sideways and say "rotate 90 degrees
    # clockwise to display" (orientation 6) in EXIF.
    sideways = upright_note()[0].transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(sideways, "JPEG", exif=exif.tobytes())


def webp() -> bytes:
    return encode(upright_note()[0], "WEBP", quality=90)


def heic() -> bytes:
    try:
        return encode(upright_note()[0], "HEIF", quality=90)
    except (KeyError, OSError, ValueError) as exc:  # pillow-heif missing or built without an encoder
        pytest.skip(f"pillow-heif cannot write HEIC here: {exc}")


def animated_gif() -> bytes:
    first = upright_note()[0].convert("P")
    second = upright_note()[0].rotate(180).convert("P")
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=[second], duration=300, loop=0)
    return buffer.getvalue()


def multipage_tiff() -> bytes:
    page = upright_note()[0]
    buffer = io.BytesIO()
    page.save(buffer, "TIFF", save_all=True, append_images=[page.rotate(180), page.convert("L")])
    return buffer.getvalue()


def padded_jpeg(size: int) -> bytes:
    """A valid JPEG followed by junk up to exactly ``size`` bytes."""
    data = good_jpeg()
    assert len(data) < size
    return data + b"\0" * (size - len(data))


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

# name, content, what the refusal must say (lower case words)
REJECTED = [
    ("empty.jpg", lambda: b"", ["empty"]),
    ("truncated.jpg", lambda: good_jpeg()[: len(good_jpeg()) // 2], ["jpeg", "damaged or incomplete"]),
    ("truncated.png", lambda: note_bytes(fmt="PNG")[:4000], ["png", "damaged or incomplete"]),
    ("readme.jpg", lambda: b"Buy milk\nCall the plumber\n" * 20, ["not an image"]),
    ("page.jpg", lambda: HTML, ["not an image"]),
    ("drawing.jpg", lambda: (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" '
                            b'height="400"><script>alert(1)</script><text y="20">hi</text></svg>'), ["not an image"]),
    # A GIF signature in front of HTML/JS: sniffed as GIF by naive checks, an
    # HTML page by a browser that is allowed to sniff.
    ("gifar.gif", lambda: b"GIF89a/*<html><script>alert(1)</script></html>*/=1;", ["not an image"]),
    ("bomb.png", decompression_bomb, ["too many pixels", "60 megapixels"]),
    ("tiny.png", lambda: encode(Image.new("RGB", (8, 8), "white"), "PNG"), ["8x8", "too small"]),
    ("print.jpg", lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 400 400\nshowpage\n", ["eps", "not supported"]),
]

# name, content, detected format, content type, extension
ACCEPTED = [
    ("animated.gif", animated_gif, "GIF", "image/gif", "gif"),
    ("cmyk.jpg", cmyk_jpeg, "JPEG", "image/jpeg", "jpg"),
    ("deep.png", png_16bit, "PNG", "image/png", "png"),
    ("phone.jpg", exif_rotated_jpeg, "JPEG", "image/jpeg", "jpg"),
    ("modern.webp", webp, "WEBP", "image/webp", "webp"),
    ("iphone.heic", heic, "HEIF", "image/heic", "heic"),
    ("scan.tiff", multipage_tiff, "TIFF", "image/tiff", "tiff"),
    # A real JPEG with a page stuck on the end: it is a JPEG and is kept and
    # served as one (see test_pages for the headers that keep it one).
    ("polyglot.jpg", lambda: good_jpeg() + HTML, "JPEG", "image/jpeg", "jpg"),
]


# --- posting by hand -----------------------------------------------------------------


def multipart(files: list[tuple[str, bytes]], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body with every file in the ``images`` field, the
    file names exactly as given (UTF-8, as browsers send them)."""
    boundary = f"----inkdex{uuid.uuid4().hex}"
    parts = []
    for key, value in (fields or {}).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    for name, content in files:
        assert '"' not in name and "\r" not in name and "\n" not in name
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="images"; filename="{name}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post_files(client, files, *, json=True, follow=False, fields=None):
    body, content_type = multipart(files, fields)
    headers = {"accept": "application/json"} if json else {}
    return client.post(reverse(UPLOAD), data=body, content_type=content_type, headers=headers, follow=follow)


def stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def files_of_notes() -> set[str]:
    return {
        field.name
        for note in Note.objects.all()
        for field in (note.image, note.preview, note.thumbnail)
        if field.name
    }


def assert_stored_safely(note: Note, owner, content: bytes, extension: str) -> None:
    assert re.fullmatch(rf"notes/{owner.pk}/[0-9a-f]{{32}}\.{extension}", note.image.name), note.image.name
    media = Path(settings.MEDIA_ROOT).resolve()
    path = Path(note.image.path).resolve()
    assert path.is_relative_to(media) and path.is_file()
    assert path.read_bytes() == content
    assert note.sha256 == hashlib.sha256(content).hexdigest() and note.size_bytes == len(content)
    assert note.owner == owner and note.status == NoteStatus.QUEUED


# --- refusals -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name,make,words", REJECTED, ids=[case[0] for case in REJECTED])
def test_bad_file_is_refused_clearly_and_the_good_one_beside_it_is_stored(alice_client, user, name, make, words):
    good = good_jpeg()
    response = post_files(alice_client, [(name, make()), ("good.jpg", good)])

    assert response.status_code == 201
    bad_result, good_result = response.json()["results"]
    assert bad_result["name"] == name and bad_result["ok"] is False and bad_result["note"] is None
    assert bad_result["error"]["code"] == "invalid_image"
    for word in words:
        assert word in bad_result["error"]["message"].lower(), bad_result["error"]
    assert good_result["ok"] is True and good_result["error"] is None
    note = Note.objects.get()
    assert good_result["note"]["id"] == note.pk and good_result["note"]["status"] == "queued"
    assert note.original_name == "good.jpg"
    assert_stored_safely(note, user, good, "jpg")
    # Nothing of the refused file was kept.
    assert stored_files() == {note.image.name}


@pytest.mark.django_db
def test_only_bad_files_give_400_and_store_nothing(alice_client):
    files = [(name, make()) for name, make, _ in REJECTED if name != "bomb.png"]
    response = post_files(alice_client, files)
    assert response.status_code == 400
    results = response.json()["results"]
    assert [r["name"] for r in results] == [name for name, _ in files]
    assert not any(r["ok"] for r in results) and all(r["error"]["message"] for r in results)
    assert response.json()["error"] == {"code": "invalid_image", "message": "None of the files could be stored."}
    assert Note.objects.count() == 0
    assert stored_files() == set()


@pytest.mark.django_db
def test_html_form_flow_reports_each_file_in_a_message(alice_client, user):
    response = post_files(
        alice_client,
        [("empty.jpg", b""), ("good.jpg", good_jpeg()), ("page.jpg", HTML)],
        json=False,
        follow=True,
    )
    assert response.redirect_chain == [(reverse("ocr_app:note_list"), 302)]
    assert response.status_code == 200
    texts = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert texts[0] == ("error", "empty.jpg: This file is empty.")
    assert texts[1] == ("success", "good.jpg: uploaded, recognition queued.")
    assert texts[2][0] == "error" and texts[2][1].startswith("page.jpg: This file is not an image")
    assert Note.objects.get().original_name == "good.jpg"
    assert b"This file is empty." in response.content
    assert stored_files() == files_of_notes()


@pytest.mark.django_db
def test_html_form_flow_all_bad_still_redirects_with_errors(alice_client):
    response = post_files(alice_client, [("a.jpg", b""), ("b.jpg", b"text")], json=False)
    assert response.status_code == 302 and response["Location"] == reverse("ocr_app:note_list")
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error", "error"]
    assert Note.objects.count() == 0 and stored_files() == set()


@pytest.mark.django_db
@pytest.mark.parametrize("json", [True, False])
def test_no_file_at_all(alice_client, json):
    body, content_type = multipart([], {"language": "en"})
    headers = {"accept": "application/json"} if json else {}
    response = alice_client.post(reverse(UPLOAD), data=body, content_type=content_type, headers=headers)
    if json:
        assert response.status_code == 400
        assert response.json() == {"error": {"code": "validation_error", "message": "images: Choose at least one image to upload.",
                                             "fields": {"images": ["Choose at least one image to upload."]}}}
    else:
        assert response.status_code == 302 and response["Location"] == reverse(UPLOAD)
        assert [m.message for m in get_messages(response.wsgi_request)] == ["Choose at least one image to upload."]


@pytest.mark.django_db
def test_file_over_the_size_limit_is_refused_before_decoding(alice_client, user, settings):
    limit = 1024 * 1024
    settings.INKDEX = {**settings.INKDEX, "MAX_UPLOAD_BYTES": limit}
    at_limit = padded_jpeg(limit)
    response = post_files(alice_client, [("huge.jpg", padded_jpeg(limit + 150_000)), ("exact.jpg", at_limit)])
    assert response.status_code == 201
    refused, accepted = response.json()["results"]
    assert refused["ok"] is False
    assert refused["error"] == {"code": "invalid_image", "message": "This file is too large (over the 1 MB limit)."}
    assert accepted["ok"] is True
    note = Note.objects.get()
    assert note.original_name == "exact.jpg" and note.size_bytes == limit
    assert stored_files() == {note.image.name}


@pytest.mark.django_db
def test_a_100_mb_photo_is_refused_with_the_default_limit(alice_client):
    response = post_files(alice_client, [("camera-raw.jpg", padded_jpeg(100 * 1024 * 1024)), ("note.jpg", good_jpeg())])
    assert response.status_code == 201
    refused, accepted = response.json()["results"]
    assert refused["ok"] is False and refused["error"]["message"] == "This file is too large (over the 25 MB limit)."
    assert accepted["ok"] is True
    assert stored_files() == files_of_notes() and Note.objects.count() == 1


@pytest.fixture
def spooled(settings, tmp_path, monkeypatch):
    """Uploads spooled to temporary files in a folder of the test's own; records
    the largest size any temporary file reached on disk while the body was read."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    largest = {"bytes": 0}
    real_receive = TemporaryFileUploadHandler.receive_data_chunk

    def receive_and_measure(self, raw_data, start):
        result = real_receive(self, raw_data, start)
        self.file.flush()
        largest["bytes"] = max(largest["bytes"], Path(self.file.temporary_file_path()).stat().st_size)
        return result

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", receive_and_measure)
    return spool, largest


@pytest.mark.django_db
@pytest.mark.parametrize("via", ["page", "api"])
def test_a_file_over_the_limit_is_never_written_to_disk_beyond_the_limit(alice_client, user, settings, spooled, via):
    spool, largest = spooled
    limit = 1024 * 1024
    settings.INKDEX = {**settings.INKDEX, "MAX_UPLOAD_BYTES": limit}
    files = [("huge.jpg", padded_jpeg(20 * limit)), ("note.jpg", good_jpeg())]
    if via == "page":
        response = post_files(alice_client, files, json=False, follow=True)
        shown = [str(m) for m in response.context["messages"]]
        assert "huge.jpg: This file is too large (over the 1 MB limit)." in shown
        assert "note.jpg: uploaded, recognition queued." in shown
    else:
        body, content_type = multipart(files)
        response = alice_client.post("/api/v1/notes/", data=body, content_type=content_type)
        assert response.status_code == 201, response.content
        refused, accepted = response.json()["results"]
        assert refused["name"] == "huge.jpg" and refused["ok"] is False
        assert refused["error"] == {"code": "invalid_image", "message": "This file is too large (over the 1 MB limit)."}
        assert accepted["ok"] is True
    # Reading stopped keeping the file at the limit; nothing of it is left anywhere.
    assert 0 < largest["bytes"] <= limit
    assert list(spool.iterdir()) == []
    assert Note.objects.get().original_name == "note.jpg"
    assert stored_files() == files_of_notes()


@pytest.mark.django_db
def test_the_files_of_one_request_together_have_a_limit(alice_client, settings, spooled):
    spool, largest = spooled
    settings.INKDEX = {**settings.INKDEX, "MAX_UPLOAD_REQUEST_BYTES": 2 * len(good_jpeg()) + 10}
    response = post_files(alice_client, [("a.jpg", good_jpeg()), ("b.jpg", good_jpeg() + b"\0"), ("c.jpg", good_jpeg())])
    assert response.status_code == 201
    first, second, third = response.json()["results"]
    assert first["ok"] is True and second["ok"] is True
    assert third["ok"] is False and third["error"]["message"].startswith("The files of this upload together are over the")
    assert Note.objects.count() == 2 and list(spool.iterdir()) == []


@pytest.mark.django_db
def test_pixel_limit_is_a_setting(alice_client, settings):
    image, _ = upright_note()
    settings.INKDEX = {**settings.INKDEX, "MAX_IMAGE_PIXELS": image.width * image.height - 1}
    response = post_files(alice_client, [("note.jpg", good_jpeg())])
    assert response.status_code == 400
    [result] = response.json()["results"]
    assert "too many pixels" in result["error"]["message"]
    assert Note.objects.count() == 0 and stored_files() == set()

    settings.INKDEX = {**settings.INKDEX, "MAX_IMAGE_PIXELS": image.width * image.height}
    assert post_files(alice_client, [("note.jpg", good_jpeg())]).status_code == 201


@pytest.mark.django_db
def test_large_uploads_spooled_to_disk_are_checked_and_cleaned_up(alice_client, user, settings, tmp_path):
    # Phone photos over FILE_UPLOAD_MAX_MEMORY_SIZE reach the view as temporary files.
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    response = post_files(alice_client, [("photo.jpg", good_jpeg()), ("cut.jpg", good_jpeg()[:5000])])
    assert response.status_code == 201
    ok, cut = response.json()["results"]
    assert ok["ok"] is True and "damaged or incomplete" in cut["error"]["message"]
    assert_stored_safely(Note.objects.get(), user, good_jpeg(), "jpg")
    assert stored_files() == files_of_notes()
    assert list(spool.iterdir()) == []


@pytest.mark.django_db
def test_too_many_files_in_one_request_is_a_400_not_a_500(alice_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    response = post_files(alice_client, [(f"{i}.jpg", good_jpeg()) for i in range(4)])
    assert response.status_code == 400
    assert Note.objects.count() == 0 and stored_files() == set()


@pytest.mark.django_db
def test_storage_failure_for_one_file_leaves_no_stray_file(alice_client, user, monkeypatch):
    real_save = Note.save
    calls = []

    def save_failing_second(self, *args, **kwargs):
        calls.append(self.original_name)
        if self.original_name == "second.jpg":
            raise IntegrityError("simulated database failure")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Note, "save", save_failing_second)
    # The same picture twice: stored twice on request (else the second is a duplicate, never saved).
    response = post_files(
        alice_client, [("first.jpg", good_jpeg()), ("second.jpg", good_jpeg()), ("third.jpg", webp())],
        fields={"allow_duplicates": "1"},
    )
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["error"]["code"] == "storage_failed"
    assert "could not store" in results[1]["error"]["message"] and "simulated" not in results[1]["error"]["message"]
    assert sorted(Note.objects.values_list("original_name", flat=True)) == ["first.jpg", "third.jpg"]
    assert stored_files() == files_of_notes() and len(stored_files()) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["x" * 200, "en<script>", "../en"])
def test_bad_language_is_refused_for_the_request_not_per_file(alice_client, language):
    # An over-long code used to fail every file with "could not store" on
    # PostgreSQL only (SQLite does not enforce the column's length).
    response = post_files(alice_client, [("note.jpg", good_jpeg())], fields={"language": language})
    assert response.status_code == 400
    # The API's answer: the request's error, and no file's result (none was looked at).
    assert set(response.json()) == {"error"} and set(response.json()["error"]) == {"code", "message"}
    assert response.json()["error"]["code"] == "unsupported_language"
    assert "language must be one of: " in response.json()["error"]["message"]
    assert Note.objects.count() == 0 and stored_files() == set()

    response = post_files(alice_client, [("note.jpg", good_jpeg())], fields={"language": language}, json=False)
    assert response.status_code == 302 and response["Location"] == reverse(UPLOAD)
    assert "language must be one of: " in [m.message for m in get_messages(response.wsgi_request)][0]
    assert Note.objects.count() == 0


@pytest.mark.django_db
def test_the_language_is_one_the_page_offers_as_the_api_takes_it(alice_client):
    # A regional code is refused, as by the API (whose schema lists the engine's codes).
    response = post_files(alice_client, [("note.jpg", good_jpeg())], fields={"language": "pt-BR"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "unsupported_language"
    assert response.json()["error"]["message"].startswith("Inkdex cannot read pt-BR notes")
    response = post_files(alice_client, [("note.jpg", good_jpeg())], fields={"language": "pt"})
    assert response.status_code == 201 and Note.objects.get().language == "pt"


# --- odd but good files ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name,make,fmt,content_type,extension", ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_odd_formats_are_accepted_and_stored_under_generated_names(alice_client, user, name, make, fmt,
                                                                    content_type, extension):
    content = make()
    response = post_files(alice_client, [("first.jpg", good_jpeg()), (name, content)])
    assert response.status_code == 201
    first, result = response.json()["results"]
    assert first["ok"] is True and result["ok"] is True, result
    note = Note.objects.get(pk=result["note"]["id"])
    assert (note.original_name, note.image_format, note.content_type) == (name, fmt, content_type)
    assert (note.width, note.height) == upright_note()[0].size  # upright, also for the EXIF-rotated one
    assert_stored_safely(note, user, content, extension)
    assert Note.objects.count() == 2 and stored_files() == files_of_notes()


@pytest.mark.django_db(transaction=True)
def test_worker_reads_odd_formats_upright(alice_client, user):
    chosen = {"cmyk.jpg": cmyk_jpeg, "deep.png": png_16bit, "phone.jpg": exif_rotated_jpeg, "modern.webp": webp}
    response = post_files(alice_client, [(name, make()) for name, make in chosen.items()])
    assert response.status_code == 201
    run_worker_until_idle()

    image, drawn = upright_note()
    for name in chosen:
        note = Note.objects.get(original_name=name)
        assert note.status == NoteStatus.DONE, (name, note.error)
        assert (note.width, note.height) == image.size
        lines = list(note.lines.order_by("order"))
        text = " ".join(line.text for line in lines).lower()
        # The engine is not perfect on every line of a JPEG; reading the first
        # line at all shows the image reached it upright and in colour.
        assert "plumber" in text and len(lines) >= 2, (name, text)
        for line in lines:
            # Boxes are in the upright image: inside it, wide rather than tall,
            # each on the ink of a line that was drawn there, in reading order.
            assert line.x + line.width <= note.width and line.y + line.height <= note.height
            assert line.width > 3 * line.height, (name, line.text)
            centre = line.y + line.height / 2
            [truth] = [d for d in drawn if abs(centre - (d.box[1] + d.box[3] / 2)) < d.box[3] / 2]
            assert abs(line.x - truth.box[0]) < 40 and line.width > truth.box[2] * 0.7, (name, line.text, truth)
        assert [line.y for line in lines] == sorted(line.y for line in lines)
        # The renditions browsers get are upright too.
        with note.preview.open("rb") as handle, Image.open(handle) as preview:
            assert preview.format == "JPEG" and preview.width > preview.height
    assert stored_files() == files_of_notes()


# --- file names -------------------------------------------------------------------------


LONG_NAME = "Notes from the quarterly planning meeting " * 7 + ".jpg"  # 298 characters

NAMES = [
    ("../../etc/passwd.jpg", "passwd.jpg"),
    ("..\\..\\windows\\win.ini.jpg", "win.ini.jpg"),
    ("a\\b.jpg", "b.jpg"),
    ("C:\\Users\\me\\Desktop\\todo.jpg", "todo.jpg"),
    ("/absolute/path/shopping.jpg", "shopping.jpg"),
    ("Einkaufsliste für Müller – 日本語 ✓.jpg", "Einkaufsliste für Müller – 日本語 ✓.jpg"),
    ("Cafe\u0301 menu.jpg", "Café menu.jpg"),  # decomposed é is stored composed
    ("right-to-left\u202egpj.exe.jpg", "right-to-leftgpj.exe.jpg"),  # no bidi override trick
    # Django unescapes entities in names: markup arrives, to be shown escaped (test_pages).
    ("&lt;img src=x onerror=alert(1)&gt;.jpg", "<img src=x onerror=alert(1)>.jpg"),
]


@pytest.mark.django_db
def test_client_file_names_are_kept_only_as_safe_display_names(alice_client, user):
    names = [name for name, _ in NAMES] + [LONG_NAME]
    # One picture under every name: stored each time on request (else all but the first are duplicates).
    response = post_files(alice_client, [(name, good_jpeg()) for name in names], fields={"allow_duplicates": "1"})
    assert response.status_code == 201
    results = response.json()["results"]
    assert all(r["ok"] for r in results), results
    kept = [Note.objects.get(pk=r["note"]["id"]).original_name for r in results]
    assert kept[:-1] == [expected for _, expected in NAMES]
    assert [r["name"] for r in results] == kept
    long_kept = kept[-1]
    assert len(LONG_NAME) == 298 and len(long_kept) == 255
    assert long_kept.endswith(".jpg") and LONG_NAME.startswith(long_kept[:-4])
    media = Path(settings.MEDIA_ROOT).resolve()
    for note in Note.objects.all():
        assert Path(note.image.path).resolve().is_relative_to(media / "notes" / str(user.pk))
        assert re.fullmatch(rf"notes/{user.pk}/[0-9a-f]{{32}}\.jpg", note.image.name)
    # Nothing was written anywhere but the generated names.
    assert stored_files() == files_of_notes()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["..", "../", "."])
def test_names_that_are_only_dots_or_separators(alice_client, name):
    # Django drops a file whose name cleans to nothing, '.' or '..'; the others
    # in the request are still stored. (Two such files in a row make Django's
    # parser refuse the whole body with a 400: its limitation, not a 500.)
    response = post_files(alice_client, [(name, good_jpeg()), ("ok.jpg", good_jpeg())])
    assert response.status_code == 201
    assert [r["name"] for r in response.json()["results"]] == ["ok.jpg"]
    assert stored_files() == files_of_notes() and Note.objects.count() == 1


@pytest.mark.parametrize(
    "client_name,expected",
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("a\\b.jpg", "b.jpg"),
        ("tab\tand\x00nul\x1b[31m.jpg", "tabandnul[31m.jpg"),
        ("\u200b\u202e", "untitled"),
        ("", "untitled"),
        (None, "untitled"),
        ("x" * 300, "x" * 255),
        ("y" * 300 + ".jpeg", "y" * 250 + ".jpeg"),
        ("z" * 300 + "." + "e" * 40, ("z" * 300 + "." + "e" * 40)[:255]),
        ("my %22best%22 note.jpg", 'my "best" note.jpg'),  # how browsers send quotes
    ],
)
def test_display_name_for_callers_that_bypass_django(client_name, expected):
    # import_notes and other callers hand over names Django never cleaned.
    assert uploads.display_name(client_name) == expected


@pytest.mark.django_db
def test_language_is_chosen_on_upload_and_on_reprocess(alice_client):
    page = alice_client.get(reverse(UPLOAD)).content.decode()
    assert '<option value="en" selected>English</option>' in page and '<option value="de">German</option>' in page
    response = post_files(alice_client, [("notiz.jpg", good_jpeg())], fields={"language": "de"})
    assert response.status_code == 201
    note = Note.objects.get()
    assert note.language == "de"
    response = post_files(alice_client, [("note.jpg", good_jpeg())], fields={"language": "ja"})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Inkdex cannot read ja notes; it reads English, Chinese, Danish")

    detail = alice_client.get(note.get_absolute_url()).content.decode()
    assert '<option value="de" selected>German</option>' in detail
    alice_client.post(reverse("ocr_app:note_reprocess", args=[note.pk]), {"language": "fr"})
    note.refresh_from_db()
    assert note.language == "fr" and note.status == "queued"
    alice_client.post(reverse("ocr_app:note_reprocess", args=[note.pk]), {"language": "xx"})
    note.refresh_from_db()
    assert note.language == "fr"


@pytest.mark.parametrize("share", [0.9, 0.4])  # over the limit (Pillow warns), over twice it (Pillow refuses)
def test_the_worker_refuses_a_stored_image_over_the_pixel_limit(settings, share):
    image, _ = upright_note()
    settings.INKDEX = {**settings.INKDEX, "MAX_IMAGE_PIXELS": int(image.width * image.height * share)}
    with pytest.raises(InvalidImage, match="too many pixels"):
        open_upright_rgb(io.BytesIO(good_jpeg()))


def test_the_worker_names_a_damaged_stored_image():
    with pytest.raises(InvalidImage, match=r"^The stored image is damaged and cannot be read \(.+\)\.$"):
        open_upright_rgb(io.BytesIO(good_jpeg()[:5000]))
