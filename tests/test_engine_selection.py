"""Engines know nothing of Django: the pipeline picks them and builds them from the settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from ocr_app.engines.aspose import AsposeEngine
from ocr_app.engines.rapidocr_engine import RapidOcrEngine
from ocr_app.pipeline.engine_selection import engine_classes, engine_options, get_engine
from tests.conftest import PROJECT_DIR

ENGINES_DIR = Path(PROJECT_DIR) / "ocr_app" / "engines"

IMPORT_EVERY_ENGINE_MODULE = """
import importlib, json, pkgutil, sys
import ocr_app.engines as engines
names = [engines.__name__] + [f"{engines.__name__}.{m.name}" for m in pkgutil.iter_modules(engines.__path__)]
for name in names:
    importlib.import_module(name)
django = sorted(name for name in sys.modules if name.split(".")[0] == "django")
print(json.dumps({"imported": names, "django": django}))
"""


def test_every_engine_module_imports_without_django():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_ENGINE_MODULE], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    files = {f"ocr_app.engines.{path.stem}" for path in ENGINES_DIR.glob("*.py") if path.stem != "__init__"}
    assert set(report["imported"]) == {"ocr_app.engines", *files}
    assert report["django"] == []


def test_the_engine_process_gets_plain_options_from_the_settings_and_runs_without_django(settings, tmp_path):
    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "process-reporting": "tests.fake_engines.ProcessReportingEngine"},
        "OCR_THREADS": 3,
        "OCR_RESCAN": False,
    }
    engine = get_engine("process-reporting", isolated=True)
    try:
        pdf = tmp_path / "one.pdf"
        Image.new("RGB", (200, 100), "white").save(pdf, "PDF")
        # The child's other job, rendering PDF pages, loads its renderer without Django too.
        assert engine.render_pdf("ocr_app.pdf_render.PdfiumRenderer", "page_count", str(pdf), timeout=60) == 1
        line = engine.recognize(Image.new("RGB", (40, 40), "white")).lines[0]
    finally:
        engine.stop()
    assert line.text == "threads 3 rescan False django none"


def test_engine_options_come_from_the_settings_each_engine_names(settings):
    settings.INKDEX = {**settings.INKDEX, "OCR_THREADS": 2, "OCR_RESCAN": False, "ASPOSE_LICENSE_FILE": "/etc/aspose.lic"}
    assert engine_options(RapidOcrEngine) == {"threads": 2, "rescan": False}
    assert engine_options(AsposeEngine) == {"license_path": "/etc/aspose.lic", "libssl_dir": settings.INKDEX["ASPOSE_LIBSSL_DIR"]}


@pytest.mark.parametrize(
    "name,path,engine_class",
    [
        ("rapidocr", "ocr_app.engines.rapidocr_engine.RapidOcrEngine", RapidOcrEngine),
        ("aspose", "ocr_app.engines.aspose.AsposeEngine", AsposeEngine),
    ],
)
def test_engine_paths_of_earlier_settings_still_name_the_engines(settings, name, path, engine_class):
    # An install's own INKDEX_EXTRA_ENGINES or settings file may spell them out.
    settings.INKDEX = {**settings.INKDEX, "OCR_ENGINES": {name: path}}
    assert engine_classes() == {name: engine_class}
