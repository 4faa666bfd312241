"""The OpenAPI description is the API's contract, checked by a tool nobody here wrote.

schemathesis reads the served schema and calls a live Inkdex (a real server thread,
a real token) with what the schema allows and what it refuses, one operation at a
time and then in sequences that follow the schema's links (upload, read, reprocess,
fetch the image, delete). Every check it has must pass. No worker runs: uploads
just queue their recognition.

Deterministic and bounded: Hypothesis derandomized, no example database, a fixed
number of examples, no deadlines and no shrinking (both depend on time); about a
minute on a 2-core machine.
"""

from __future__ import annotations

import io
import json

import hypothesis
import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from PIL import Image
from rest_framework.throttling import UserRateThrottle

from ocr_app.models import Note
from ocr_app.services.tokens import create_token

EXAMPLES = hypothesis.settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(hypothesis.HealthCheck),
)
SCENARIOS = hypothesis.settings(EXAMPLES, max_examples=50, stateful_step_count=6)

# Real images, as a client would send them: the schema names the types an upload may
# hold, and schemathesis sends these for them (its own samples are 1x1 pixel, which
# the schema says is refused).
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP",
                  "image/bmp": "BMP", "image/tiff": "TIFF"}


@st.composite
def image_file(draw, fmt: str) -> bytes:
    size = (draw(st.integers(16, 80)), draw(st.integers(16, 80)))
    colour = draw(st.tuples(*[st.integers(0, 255)] * 3))
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


for _content_type, _fmt in PILLOW_FORMATS.items():
    # A list: the strategy's value stands for the whole `images` array, and schemathesis
    # sends list items as files (with a file name) but a lone value as a plain field.
    schemathesis.openapi.media_type(_content_type, st.lists(image_file(_fmt), min_size=1, max_size=2))


def generated_schema() -> dict:
    """The description /api/schema/ serves, made here: the per-operation tests are
    made when pytest collects this module, before any server runs."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


CONFIG = {
    "checks": {"enabled": True},
    "generation": {"mode": "all", "deterministic": True},
    "phases": {name: {"enabled": True} for name in ("examples", "coverage", "fuzzing", "stateful")},
    # A multipart field is text on the wire: a ``tags`` value drawn as null, a number, an
    # object or a lone string arrives as text ("null", "5"...), which is a tag name (or a
    # list of one) the server rightly takes. Such "invalid" cases cannot show a broken
    # contract, so the upload is sent with valid data only; its refusals (bad images,
    # languages, tags, sizes) are asserted in test_api.py, test_uploads.py, test_tags.py.
    "operations": [{"include-path": "/api/v1/notes/", "include-method": "POST", "generation": {"mode": "positive"}}],
}
contract = schemathesis.openapi.from_dict(generated_schema(), config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture
def api_key(user, monkeypatch) -> str:
    # The rate limit counts calls per minute of wall-clock time; it must not decide the outcome.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1000000/minute"})
    return create_token(user=user, name="contract")[1]


@pytest.mark.django_db(transaction=True)
@contract.parametrize()
@EXAMPLES
def test_every_operation_keeps_the_contract(case, live_server, api_key):
    case.call_and_validate(base_url=live_server.url, headers={"Authorization": f"Bearer {api_key}"})


# Ids from 1 whatever ran before (PostgreSQL keeps its sequences across tests): the ids
# schemathesis makes up hit the same notes on every run, so every run draws the same steps
# (otherwise Hypothesis may stop with FlakyStrategyDefinition).
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_sequences_following_the_links_keep_the_contract(live_server, api_key):
    served_at = f"{live_server.url}/api/schema/?format=json"
    assert requests.get(served_at, timeout=30).json() == generated_schema()
    config = schemathesis.Config.from_dict({
        **CONFIG, "base-url": live_server.url, "headers": {"Authorization": f"Bearer {api_key}"}})
    machine = schemathesis.openapi.from_url(served_at, config=config).as_state_machine()
    calls: list[tuple[str, str, int]] = []
    notes_left: list[int] = []  # after each scenario

    class Recording(machine):
        def after_call(self, response, case):
            super().after_call(response, case)
            calls.append((case.method, case.operation.path, response.status_code))

        def teardown(self):
            # Each scenario starts without notes, so the server answers the same steps the same
            # way (Hypothesis replays them): an image an earlier scenario uploaded would be a
            # duplicate here, 200 instead of 201, and other links would be followed.
            notes_left.append(Note.objects.count())
            Note.objects.all().delete()
            super().teardown()

    class Scenarios(Recording.TestCase):
        settings = SCENARIOS

    Scenarios("runTest").runTest()

    # The links were followed: notes were uploaded, then read, and deleted, through their ids.
    assert ("POST", "/api/v1/notes/", 201) in calls, calls
    assert ("GET", "/api/v1/notes/{id}/", 200) in calls, calls
    assert ("DELETE", "/api/v1/notes/{id}/", 204) in calls, calls
    assert any(notes_left), notes_left
