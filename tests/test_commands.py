"""The management commands, run for real: the engine on generated notes, the real
queue and worker, the real search index, and ``serve`` as a real process tree."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ocr_app.models import Line, Note, NoteStatus, VocabularyVersion, Word
from ocr_app.search import search_notes
from ocr_app.search.index import index_drift, rebuild_search_index
from ocr_app.search.vocabulary import record_words
from ocr_app.services.uploads import create_note
from tests.conftest import PROJECT_DIR, image_upload, run_worker_until_idle, wait_for, worker_environment
from tests.notegen import SAMPLE_LINES, encode, note_bytes, render_note

MANAGE = str(PROJECT_DIR / "manage.py")
VERDICT_LINE = re.compile(r"^\s+(?P<confidence>\d+\.\d)%\s+(?P<verdict>Accepted|Low-confidence)\s+(?P<text>.+)$")
NOT_AN_IMAGE = "This file is not an image Inkdex can read"


def run(*args, **options) -> tuple[str, str]:
    """Run a command in this process; returns what it wrote to stdout and stderr."""
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, no_color=True, **options)
    return out.getvalue(), err.getvalue()


def run_process(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``manage.py`` as a user would, to see the exit status and what reaches the terminal."""
    return subprocess.run(
        [sys.executable, MANAGE, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


def verdict_lines(output: str) -> list[tuple[float, str, str]]:
    return [
        (float(m["confidence"]), m["verdict"], m["text"])
        for m in map(VERDICT_LINE.match, output.splitlines())
        if m
    ]


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- ocr ---------------------------------------------------------------------------------


@pytest.fixture
def note_file(tmp_path):
    image, drawn = render_note([SAMPLE_LINES[0], SAMPLE_LINES[3], SAMPLE_LINES[7]])
    path = tmp_path / "todo.jpg"
    path.write_bytes(encode(image))
    return path, image.size, drawn


@pytest.mark.django_db
def test_ocr_prints_each_line_with_confidence_and_verdict(note_file, settings):
    path, (width, height), drawn = note_file

    data = json.loads(run("ocr", str(path), "--json")[0])
    [result] = data
    assert result["file"] == str(path) and result["engine"]
    lines = result["lines"]
    assert [words(line["text"]) for line in lines] == [words(d.text) for d in drawn], "each drawn line, in order"
    for line, drawn_line in zip(lines, drawn):
        assert set(line) == {"text", "confidence", "accepted", "box"}
        assert 0 < line["confidence"] <= 100
        assert line["accepted"] == (line["confidence"] >= 75)  # the default review threshold
        box = line["box"]
        assert set(box) == {"x", "y", "width", "height"}
        # The box is where the line was drawn, in the image's own pixels.
        assert 0 <= box["x"] and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
        dx, dy, dw, dh = drawn_line.box
        assert dy <= box["y"] + box["height"] / 2 <= dy + dh
        assert abs(box["x"] - dx) < 30 and abs(box["width"] - dw) < 60

    out, err = run("ocr", str(path))
    assert out.splitlines()[0] == str(path) and err == ""
    printed = verdict_lines(out)
    assert [(c, t) for c, _, t in printed] == [(line["confidence"], line["text"]) for line in lines]
    assert [v for _, v, _ in printed] == ["Accepted" if line["accepted"] else "Low-confidence" for line in lines]

    # A threshold between the lines' confidences splits them.
    confidences = sorted(line["confidence"] for line in lines)
    assert confidences[-1] - confidences[0] >= 0.2, "fixture should give lines of different confidence"
    threshold = (confidences[0] + confidences[-1]) / 2
    verdicts = [(c, v) for c, v, _ in verdict_lines(run("ocr", str(path), "--threshold", str(threshold))[0])]
    assert verdicts == [(c, "Accepted" if c >= threshold else "Low-confidence") for c, _ in verdicts]
    assert {v for _, v in verdicts} == {"Accepted", "Low-confidence"}

    # Nothing is stored: no note, no line, no task, no file.
    assert not Note.objects.exists() and not Line.objects.exists() and not DBTaskResult.objects.exists()
    assert stored_files(settings) == []


@pytest.fixture
def short_note(tmp_path):
    """A one-line note: quick to recognise."""
    path = tmp_path / "short.png"
    path.write_bytes(note_bytes(SAMPLE_LINES[7:8], fmt="PNG", width=700))
    return path


def test_ocr_threshold_decides_the_verdict(short_note):
    path = short_note
    for threshold, verdict in (("101", "Low-confidence"), ("0", "Accepted")):
        [(confidence, printed, text)] = verdict_lines(run("ocr", str(path), "--threshold", threshold)[0])
        assert words(text) == ["book", "train", "tickets", "to", "lyon"]
        assert printed == verdict, (threshold, confidence)


@pytest.mark.django_db
def test_ocr_reports_a_bad_file_and_goes_on_with_the_others(short_note, tmp_path):
    path = short_note
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("not an image, whatever the name says")

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 2 files could not be recognised"):
        call_command("ocr", str(text_file), str(path), stdout=out, stderr=err, no_color=True)
    [message] = err.getvalue().splitlines()
    assert message.startswith(f"{text_file}: {NOT_AN_IMAGE}")
    assert "lyon" in out.getvalue().lower() and str(text_file) not in out.getvalue()

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("ocr", str(text_file), str(path), "--json", stdout=out, stderr=StringIO())
    data = json.loads(out.getvalue())
    assert [r["file"] for r in data] == [str(text_file), str(path)]
    assert NOT_AN_IMAGE in data[0]["error"] and "lines" not in data[0]
    assert data[1]["lines"] and "error" not in data[1]


def test_ocr_unreadable_files_exit_non_zero_without_traceback(tmp_path, settings):
    text_file = tmp_path / "readme.txt"
    text_file.write_text("hello")
    missing = tmp_path / "missing.jpg"
    env = worker_environment(settings)

    done = run_process("ocr", str(text_file), str(missing), env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"{text_file}: {NOT_AN_IMAGE}" in done.stderr
    assert f"{missing}: " in done.stderr and "No such file or directory" in done.stderr
    assert done.stderr.rstrip().endswith("CommandError: No file could be recognised.")
    assert "Traceback" not in done.stderr

    done = run_process("ocr", "--json", str(missing), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [entry] = json.loads(done.stdout)
    assert entry["file"] == str(missing) and "No such file or directory" in entry["error"]


# --- import_notes ------------------------------------------------------------------------


@pytest.fixture
def notes_folder(tmp_path):
    folder = tmp_path / "scans"
    (folder / "2026").mkdir(parents=True)
    (folder / "groceries.jpg").write_bytes(note_bytes(SAMPLE_LINES[:2]))
    (folder / "Errands.PNG").write_bytes(note_bytes(SAMPLE_LINES[3:5], fmt="PNG"))
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    (folder / "readme.txt").write_text("scanned on Tuesday")
    (folder / "2026" / "trip.jpg").write_bytes(note_bytes(SAMPLE_LINES[7:8]))
    return folder


@pytest.mark.django_db(transaction=True)
def test_import_notes_queues_a_folder_for_the_worker(user, other_user, notes_folder):
    out, err = run("import_notes", str(notes_folder), "--owner", "alice")

    assert out.strip() == "Imported 2 note(s) for alice; 1 file(s) refused."
    assert f"{notes_folder / 'broken.jpg'}: {NOT_AN_IMAGE}" in err
    assert "Skipping 1 file(s) without an image or PDF extension: readme.txt" in err
    notes = list(Note.objects.order_by("original_name"))
    assert [n.original_name for n in notes] == ["Errands.PNG", "groceries.jpg"]  # not the sub-folder's
    assert {(n.owner_id, n.status) for n in notes} == {(user.pk, NoteStatus.QUEUED)}
    assert [n.image_format for n in notes] == ["PNG", "JPEG"]
    assert DBTaskResult.objects.filter(status="READY").count() == 2

    run_worker_until_idle()

    errands, groceries = Note.objects.order_by("original_name")
    assert errands.status == groceries.status == NoteStatus.DONE
    assert "plumber" in " ".join(groceries.lines.values_list("text", flat=True)).lower()
    assert "library" in " ".join(errands.lines.values_list("text", flat=True)).lower()

    # ...and what was imported is found by the search command, for its owner only.
    data = json.loads(run("search", "plumber", "--owner", "alice", "--json")[0])
    assert [n["id"] for n in data["notes"]] == [groceries.pk]
    assert json.loads(run("search", "plumber", "--owner", "bob", "--json")[0])["notes"] == []


@pytest.mark.django_db
def test_import_notes_recursive_includes_sub_folders(user, notes_folder):
    out, err = run("import_notes", str(notes_folder), "--owner", "alice", "--recursive", "--language", "de")
    assert out.strip() == "Imported 3 note(s) for alice; 1 file(s) refused."
    assert sorted(Note.objects.values_list("original_name", flat=True)) == ["Errands.PNG", "groceries.jpg", "trip.jpg"]
    assert set(Note.objects.values_list("language", flat=True)) == {"de"}
    assert "readme.txt" in err


@pytest.mark.django_db
def test_reimporting_a_folder_adds_only_new_files(user, other_user, notes_folder):
    run("import_notes", str(notes_folder), "--owner", "alice")
    (notes_folder / "later.jpg").write_bytes(note_bytes(["Added later"]))
    out, _ = run("import_notes", str(notes_folder), "--owner", "alice")
    assert out.strip() == "Imported 1 note(s) for alice; 1 file(s) refused; 2 already imported."
    assert Note.objects.count() == 3
    # Another user's identical files are theirs to import.
    out, _ = run("import_notes", str(notes_folder), "--owner", "bob")
    assert out.strip() == "Imported 3 note(s) for bob; 1 file(s) refused."
    # On request, duplicates are stored again, each under its own name.
    out, _ = run("import_notes", str(notes_folder), "--owner", "alice", "--allow-duplicates")
    assert out.strip() == "Imported 3 note(s) for alice; 1 file(s) refused."
    assert Note.objects.filter(owner=user).count() == 6
    assert Note.objects.filter(owner=user).values("image").distinct().count() == 6


@pytest.mark.django_db(transaction=True)
def test_import_notes_takes_scanned_pdfs_a_note_per_page(user, notes_folder, settings):
    from ocr_app.pipeline.engine_selection import get_engine
    from tests.test_pdf import pdf_of

    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], "fixed": "tests.fake_engines.FixedReadingEngine"},
        "OCR_ENGINE": "fixed",
    }
    scan = pdf_of([["Renew passport before June"], ["Book train tickets to Lyon"]])
    (notes_folder / "scan.pdf").write_bytes(scan)
    (notes_folder / "broken.pdf").write_bytes(b"%PDF-1.4 and then nothing")

    out, err = run("import_notes", str(notes_folder), "--owner", "alice")

    assert out.strip() == (
        "Imported 2 note(s) and 2 PDF(s), that the worker splits into a note per page, for alice; 1 file(s) refused."
    )
    assert "Skipping 1 file(s) without an image or PDF extension: readme.txt" in err
    run_worker_until_idle()
    get_engine("fixed", isolated=True).stop()
    scan_note = Note.objects.get(original_name="scan.pdf", page_number=None)
    assert scan_note.status == NoteStatus.SPLIT and scan_note.sha256 == hashlib.sha256(scan).hexdigest()
    assert [(p.page_number, p.page_count, p.status) for p in scan_note.pages.order_by("page_number")] == [
        (1, 2, NoteStatus.DONE), (2, 2, NoteStatus.DONE)
    ]
    broken = Note.objects.get(original_name="broken.pdf", page_number=None)
    assert (broken.status, broken.error) == (NoteStatus.FAILED, "This PDF is damaged or incomplete and cannot be read.")
    # The PDF keeps its own hash: importing the folder again adds nothing.
    out, _ = run("import_notes", str(notes_folder), "--owner", "alice")
    assert out.strip() == "Imported 0 note(s) for alice; 1 file(s) refused; 4 already imported."
    assert Note.objects.count() == 6


@pytest.mark.django_db
def test_import_notes_refuses_bad_arguments(user, notes_folder, tmp_path):
    with pytest.raises(CommandError, match="language must be a code"):
        run("import_notes", str(notes_folder), "--owner", "alice", "--language", "x" * 40)
    # Exactly a code the engine lists, as the pages and the API take it.
    with pytest.raises(CommandError, match="Inkdex cannot read pt-BR notes"):
        run("import_notes", str(notes_folder), "--owner", "alice", "--language", "pt-BR")
    with pytest.raises(CommandError, match="No user called 'mallory'"):
        run("import_notes", str(notes_folder), "--owner", "mallory")
    with pytest.raises(CommandError, match="is not a folder"):
        run("import_notes", str(notes_folder / "groceries.jpg"), "--owner", "alice")
    with pytest.raises(CommandError, match="is not a folder"):
        run("import_notes", str(tmp_path / "nowhere"), "--owner", "alice")
    only_text = tmp_path / "texts"
    only_text.mkdir()
    (only_text / "a.txt").write_text("a")
    with pytest.raises(CommandError, match="No images or PDFs in"):
        run("import_notes", str(only_text), "--owner", "alice")
    assert not Note.objects.exists()


# --- search and the index ------------------------------------------------------------------


def make_note(owner, texts, *, name):
    """A recognised note made directly (no OCR), so search results are known exactly."""
    note = Note.objects.create(
        owner=owner, image=f"notes/{owner.pk}/{name}", original_name=name, sha256="0" * 64, size_bytes=1,
        width=1000, height=100 * len(texts), image_format="JPEG", content_type="image/jpeg", status="done",
    )
    Line.objects.bulk_create(
        Line(note=note, owner=owner, order=i, text=text, confidence=91.5, x=10, y=10 + 100 * i, width=900, height=60)
        for i, text in enumerate(texts)
    )
    record_words(owner.pk, texts)
    return note


@pytest.fixture
def notes(user, other_user):
    return {
        "todo": make_note(user, ["Call the plumber on Monday", "Buy milk and eggs"], name="todo.jpg"),
        "budget": make_note(user, ["Email Sarah about the budget"], name="budget.jpg"),
        "bobs": make_note(other_user, ["Call the plumber about coffee"], name="bob.jpg"),
    }


@pytest.mark.django_db
def test_search_command_finds_only_the_owners_notes(notes):
    out, _ = run("search", "plumber", "--owner", "alice")
    assert out.splitlines() == [f"#{notes['todo'].pk} todo.jpg", "   91.5%  Call the plumber on Monday"]

    out, _ = run("search", "plumber", "--owner", "bob")
    assert out.splitlines()[0] == f"#{notes['bobs'].pk} bob.jpg" and "Monday" not in out

    data = json.loads(run("search", "plumber", "--owner", "alice", "--json")[0])
    assert data["query"] == "plumber" and data["page"] == 1 and data["has_next"] is False
    [hit] = data["notes"]
    assert (hit["id"], hit["name"], hit["approximate"]) == (notes["todo"].pk, "todo.jpg", False)
    assert [line["text"] for line in hit["lines"]] == ["Call the plumber on Monday"]
    # Where the word is, as offsets: the command prints data, never markup.
    assert hit["lines"][0]["highlights"] == [[9, 16]] and hit["title_highlights"] == []
    assert "highlighted_html" not in hit["lines"][0]

    # A misspelt word finds the note through the owner's vocabulary, marked as approximate.
    out, _ = run("search", "plumbr", "--owner", "alice")
    assert out.splitlines()[0] == f"#{notes['todo'].pk} todo.jpg (approximate)"

    assert run("search", "zeppelin", "--owner", "alice")[0] == "No matching notes.\n"
    # Words on different lines of a note; the search page's filters and sort.
    out, err = run("search", "plumber eggs", "--owner", "alice")
    assert out.splitlines()[0] == f"#{notes['todo'].pk} todo.jpg" and err.strip() == "1 note matches"
    assert run("search", "plumber", "--owner", "alice", "--review")[0] == "No matching notes.\n"
    assert run("search", "plumber", "--owner", "alice", "--from", "2999-01-01")[0] == "No matching notes.\n"
    assert run("search", "plumber", "--owner", "alice", "--to", "2999-01-01")[0] != "No matching notes.\n"
    data = json.loads(run("search", "sarah OR plumber", "--owner", "alice", "--sort", "date", "--json")[0])
    assert (data["sort"], data["count"], data["count_capped"]) == ("date", 2, False)
    with pytest.raises(CommandError, match="not a date"):
        run("search", "plumber", "--owner", "alice", "--to", "yesterday")
    with pytest.raises(CommandError, match="language must be a code"):
        run("import_notes", str(notes_folder), "--owner", "alice", "--language", "x" * 40)
    with pytest.raises(CommandError, match="No user called 'mallory'"):
        run("search", "plumber", "--owner", "mallory")


def found(user, query):
    return [(r.note.pk, r.fuzzy) for r in search_notes(user, query).notes]


@pytest.fixture
def repair_index_afterwards():
    yield
    rebuild_search_index()  # whatever happened in the test, later tests get a whole index


# Committed for real: on PostgreSQL the index's DDL cannot share a transaction with
# the rows just written (deferred foreign-key triggers), and in use it never does.
@pytest.mark.django_db(transaction=True)
def test_rebuild_search_index_repairs_a_broken_index_and_vocabulary(user, notes, repair_index_afterwards):
    todo, budget = notes["todo"], notes["budget"]
    assert found(user, "sarah") == [(budget.pk, False)]
    assert found(user, "plumbr") == [(todo.pk, True)]
    words_before = sorted(Word.objects.filter(owner=user).values_list("word", "count"))

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Empty the FTS5 index behind the triggers' back.
            cursor.execute("INSERT INTO ocr_app_note_fts(ocr_app_note_fts) VALUES ('delete-all')")
        else:
            # The notes' documents lost (a generated column cannot go stale by itself).
            cursor.execute("DELETE FROM ocr_app_note_text")
    Word.objects.all().delete()
    VocabularyVersion.objects.all().delete()  # the word lists lost altogether
    assert index_drift() is not None
    assert found(user, "sarah") == []
    assert found(user, "plumbr") == []  # no vocabulary, no fuzzy match

    out, err = run("rebuild_search_index")

    distinct_words = Word.objects.count()
    assert out.strip() == f"Search index rebuilt; {distinct_words} distinct words."
    assert "Rebuilding the full-text index" in err and "] 2/2 user" in err  # progress per user
    assert index_drift() is None
    assert sorted(Word.objects.filter(owner=user).values_list("word", "count")) == words_before
    assert found(user, "sarah") == [(budget.pk, False)]
    assert found(user, "plumbr") == [(todo.pk, True)]
    assert found(user, "coffee") == []  # bob's word stays bob's


def damage(**sql_by_vendor: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql_by_vendor[connection.vendor])


def drop_a_trigger() -> None:
    """What Django's SQLite table rebuild does silently: one of the index's triggers goes."""
    damage(sqlite="DROP TRIGGER ocr_app_note_text_fts_ai",
           postgresql="DROP TRIGGER ocr_app_line_document_ai ON ocr_app_line")


def lose_the_documents() -> None:
    """Damage migrate cannot repair: the index's content out of step with the lines."""
    damage(sqlite="INSERT INTO ocr_app_note_fts(ocr_app_note_fts) VALUES ('delete-all')",
           postgresql="DELETE FROM ocr_app_note_text")


@pytest.mark.django_db(transaction=True)
def test_plain_check_reports_a_dropped_trigger(notes, repair_index_afterwards):
    out, _ = run("check")
    assert "no issues" in out
    drop_a_trigger()
    with pytest.raises(SystemCheckError) as raised:
        run("check")
    assert "inkdex.E001" in str(raised.value) and "rebuild_search_index" in str(raised.value)
    # With the database named, the full comparison reports it once (not once per check).
    with pytest.raises(SystemCheckError) as raised:
        run("check", "--database", "default")
    assert str(raised.value).count("inkdex.E001") == 1


@pytest.mark.django_db(transaction=True)
def test_serve_and_the_worker_refuse_to_start_on_a_broken_index(notes, repair_index_afterwards, monkeypatch):
    from ocr_app.management.commands import serve

    def no_processes(*args, **kwargs):
        raise AssertionError("serve started its processes on a broken index")

    monkeypatch.setattr(serve.subprocess, "Popen", no_processes)
    lose_the_documents()  # migrate, which serve runs first, cannot repair this
    for command in (("serve",), ("run_worker", "--batch", "--no-startup-delay")):
        with pytest.raises(CommandError, match=r"search index is broken: .* Run 'manage.py rebuild_search_index', "
                                               r"then start Inkdex again\."):
            run(*command)
    run("rebuild_search_index")
    run("run_worker", "--batch", "--no-startup-delay")  # starts (and drains the queue) once repaired


# --- recover_notes -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_recover_notes_requeues_a_note_whose_worker_died(user):
    stuck = create_note(owner=user, uploaded_file=image_upload("stuck.jpg", note_bytes(SAMPLE_LINES[:2])))
    busy = create_note(owner=user, uploaded_file=image_upload("busy.jpg"))
    DBTaskResult.objects.all().delete()
    # A worker claimed ``stuck`` and died long ago; ``busy``'s worker is alive and beating.
    Note.objects.filter(pk=stuck.pk).update(status="processing", run_token="dead", attempts=1,
                                            heartbeat_at="2020-01-01T00:00:00Z")
    Note.objects.filter(pk=busy.pk).update(status="processing", run_token="alive", attempts=1,
                                           heartbeat_at=timezone.now())

    out, _ = run("recover_notes")

    assert out.strip() == f"Recovered 1 note(s): {stuck.pk}."
    stuck.refresh_from_db()
    assert stuck.status == NoteStatus.QUEUED and "stopped" in stuck.error
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert Note.objects.get(pk=busy.pk).status == NoteStatus.PROCESSING
    assert run("recover_notes")[0].strip() == "Recovered 0 note(s)."  # nothing twice

    Note.objects.filter(pk=busy.pk).delete()
    run_worker_until_idle()
    stuck.refresh_from_db()
    assert stuck.status == NoteStatus.DONE and stuck.attempts == 2 and stuck.error == ""
    assert "plumber" in " ".join(stuck.lines.values_list("text", flat=True)).lower()


# --- serve ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def process_table() -> dict[int, tuple[int, str, list[str]]]:
    """pid -> (parent pid, state, command line) of every live process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        table[int(entry.name)] = (int(ppid), state, cmdline)
    return table


def descendants(pid: int) -> dict[int, list[str]]:
    table = process_table()
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, state, cmdline) in table.items():
            if ppid == parent and state != "Z" and child not in found:
                found[child] = cmdline
                todo.append(child)
    return found


def is_running(pid: int) -> bool:
    entry = process_table().get(pid)
    return entry is not None and entry[1] != "Z"


def worker_pids(serve_pid: int) -> list[int]:
    return [pid for pid, cmdline in descendants(serve_pid).items() if "run_worker" in cmdline]


class ServeProcess:
    def __init__(self, settings, tmp_path, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = tmp_path / "serve.log"
        env = {**worker_environment(settings), "INKDEX_DATA_DIR": str(tmp_path / "data")}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, MANAGE, "serve", "--port", str(self.port), "--web-workers", "1", *args],
                cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as in a terminal
            )
        self.pid = self.proc.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill_all(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)


@pytest.fixture
def serve(settings, tmp_path):
    started: list[ServeProcess] = []

    def start(*args: str, port: int | None = None) -> ServeProcess:
        started.append(ServeProcess(settings, tmp_path, *args, port=port))
        return started[-1]

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.kill_all()


def wait_done(note: Note, server: ServeProcess, timeout: float = 90) -> None:
    wait_for(lambda: Note.objects.filter(pk=note.pk, status=NoteStatus.DONE).exists(), timeout, 0.25,
             f"note {note.pk} to be recognised; serve log:\n{server.log()}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_serve_runs_web_and_worker_restarts_a_dead_worker_and_stops_cleanly(user, serve):
    server = serve()
    wait_for(lambda: http_status(server.url("/accounts/login/")) == 200, 60, 0.25,
             f"the web server to answer; serve log:\n{server.log()}")
    tree = descendants(server.pid)
    assert any("gunicorn" in " ".join(cmdline) for cmdline in tree.values()), tree
    [worker] = wait_for(lambda: worker_pids(server.pid), 60, 0.2, "the OCR worker")

    # The worker serve started recognises an upload.
    first = create_note(owner=user, uploaded_file=image_upload("first.jpg", note_bytes(SAMPLE_LINES[:2])))
    wait_done(first, server)
    assert first.lines.exists()

    # kill -9 the worker: serve starts another, and that one works too.
    os.kill(worker, signal.SIGKILL)
    [restarted] = wait_for(lambda: [p for p in worker_pids(server.pid) if p != worker], 60, 0.2,
                           f"serve to restart the worker; serve log:\n{server.log()}")
    assert not is_running(worker)
    assert f"worker-0 exited with code {-signal.SIGKILL}; starting it again." in server.log()
    second = create_note(owner=user, uploaded_file=image_upload("second.jpg", note_bytes(SAMPLE_LINES[4:6])))
    wait_done(second, server)
    assert http_status(server.url("/accounts/login/")) == 200

    # SIGTERM (what a service manager sends): everything stops, cleanly and soon.
    tree = descendants(server.pid)
    assert restarted in tree and len(tree) >= 3  # gunicorn master + its worker + the OCR worker
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(40) == 0, server.log()
    wait_for(lambda: not any(is_running(pid) for pid in tree), 60, 0.1, "serve's children to exit")
    assert "Traceback" not in server.log()
    assert http_status(server.url("/accounts/login/")) is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_serve_stops_on_ctrl_c(serve):
    server = serve("--no-migrate")
    wait_for(lambda: http_status(server.url("/accounts/login/")) == 200, 60, 0.25,
             f"the web server to answer; serve log:\n{server.log()}")
    wait_for(lambda: worker_pids(server.pid), 60, 0.2, "the OCR worker")
    tree = descendants(server.pid)
    # Ctrl+C in a terminal: SIGINT to the whole foreground process group at once.
    os.killpg(server.pid, signal.SIGINT)
    assert server.proc.wait(40) == 0, server.log()
    wait_for(lambda: not any(is_running(pid) for pid in tree), 60, 0.1, "serve's children to exit")
    log = server.log()
    assert "starting it again" not in log and "The web server exited" not in log, log
    assert "Traceback" not in log, log


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_serve_exits_non_zero_when_the_web_server_cannot_run(serve):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = serve("--no-migrate", port=taken.getsockname()[1])
        code = server.proc.wait(60)  # gunicorn tries to bind for about 5 s
    log = server.log()
    assert code == 1, log
    assert "The web server exited with code 1; stopping." in log
    assert "CommandError: The web server stopped unexpectedly (exit code 1)" in log
    assert "Traceback" not in log
