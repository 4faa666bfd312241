"""The pipeline's modules import each other in one direction only: no import circle,
not even through an import inside a function."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from tests.conftest import PROJECT_DIR

PIPELINE = Path(PROJECT_DIR) / "ocr_app" / "pipeline"


def imported_pipeline_modules(path: Path) -> set[str]:
    """The modules of ``ocr_app.pipeline`` that the file imports, wherever in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from .tasks import ..., from . import tasks
                found |= {node.module.split(".")[0]} if node.module else {alias.name for alias in node.names}
            elif node.level == 0 and (node.module or "").startswith("ocr_app.pipeline."):
                found.add(node.module.split(".")[2])
            elif node.level == 0 and node.module == "ocr_app.pipeline":
                found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[2] for alias in node.names if alias.name.startswith("ocr_app.pipeline.")}
    return found


def test_no_import_circle_in_the_pipeline():
    modules = {path.stem for path in PIPELINE.glob("*.py") if path.stem != "__init__"}
    graph = {name: imported_pipeline_modules(PIPELINE / f"{name}.py") & modules for name in modules}
    assert graph["tasks"] >= {"recognition", "pdf_splitting"}  # the graph is read at all
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import circle: {' imports '.join(reversed(exc.args[1]))}") from None
    assert set(order) == modules
