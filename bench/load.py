"""Concurrent uploads against the real server while the OCR worker is busy, with searches.

    .venv/bin/python bench/load.py [--uploads 50] [--seed-lines 20000] [--database-url postgres://...]

The requirement measured: "50 concurrent uploads while the worker is busy -> every
upload stored, every note eventually done, zero 'database is locked' errors, upload
request p95 reported (target <= 150 ms on the embedded default). Search stays
responsive meanwhile."

1. A scratch site (SQLite by default; ``--database-url`` for a PostgreSQL scratch
   database that is created and dropped), one user, and ``--seed-lines`` synthetic lines
   (as ``bench/search.py`` makes them) so that searches have something to search.
2. ``manage.py serve`` on a free port as a subprocess (gunicorn + OCR worker(s), the way
   ``./inkdex run`` serves), its output in a log file; sign-in over HTTP (CSRF token from
   the login page, session cookie).
3. Reference: search requests (``GET /search.json?q=...``) one after another on the
   idle server.
4. A few "primer" uploads, until the worker is recognising one of them (busy).
5. ``--uploads`` uploads at once, one thread each (``POST /upload/`` with ``Accept:
   application/json``, a different generated note image each, multipart encoded by
   hand), released together by a barrier; meanwhile ``--searchers`` threads keep
   searching, until every note is done (the drain).
6. Reports upload latency, search latency before / during the uploads / during the drain,
   HTTP errors, 'database is locked' (and other errors) in the server's and worker's
   output, and the time until every note is done.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from _common import PROJECT_DIR, load_average, machine_summary, median, percentile, print_table, scratch_site, vendor

# --- a tiny HTTP client (no third-party packages) ------------------------------------------


class Client:
    """One signed-in session; safe to share between threads (a connection per request)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 120) -> tuple[int, bytes, float, dict]:
        """(status, body, milliseconds, response headers)."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            ms = (time.perf_counter() - started) * 1000
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            return response.status, data, ms, dict(response.getheaders())
        finally:
            conn.close()

    def csrf_token(self) -> str:
        return self.cookies.get("csrftoken", "")

    def sign_in(self, username: str, password: str) -> None:
        status, page, _, _ = self.request("GET", "/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            raise SystemExit(f"login page: HTTP {status}")
        body = urlencode({"username": username, "password": password,
                          "csrfmiddlewaretoken": match.group(1).decode()}).encode()
        status, _, _, headers = self.request("POST", "/accounts/login/", body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{self.port}/accounts/login/",
        })
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"sign-in failed: HTTP {status}")

    def upload(self, name: str, data: bytes) -> tuple[int, bytes, float]:
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"images\"; filename=\"{name}\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        status, response, ms, _ = self.request("POST", "/upload/", body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
            "X-CSRFToken": self.csrf_token(),
            "Referer": f"http://127.0.0.1:{self.port}/upload/",
        })
        return status, response, ms

    def search(self, query: str) -> tuple[int, float]:
        status, _, ms, _ = self.request("GET", "/search.json?" + urlencode({"q": query}), timeout=60)
        return status, ms

    def statuses(self, ids: list[int]) -> dict[int, str]:
        found = {}
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            status, body, _, _ = self.request("GET", "/notes/status.json?ids=" + ",".join(map(str, chunk)))
            if status != 200:
                raise RuntimeError(f"status.json: HTTP {status}")
            found.update({n["id"]: n["status"] for n in json.loads(body)["notes"]})
        return found


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict, port: int, log_path: Path, web_workers: int, ocr_workers: int) -> subprocess.Popen:
    command = [sys.executable, str(PROJECT_DIR / "manage.py"), "serve", "--no-migrate", "--port", str(port),
               "--web-workers", str(web_workers), "--workers", str(ocr_workers)]
    log = log_path.open("wb")
    # A session of its own: stopping it never signals this process.
    return subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_until_up(client: Client, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}; see its log")
        try:
            if client.request("GET", "/accounts/login/", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not answer in time")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # serve stops gunicorn and the worker(s) itself
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- data ----------------------------------------------------------------------------------


def seed_lines(user, count: int, rng: random.Random) -> list[str]:
    """Synthetic lines for the user (see bench/search.py); returns the vocabulary."""
    from search import TextGenerator, create_notes, line_rows, load_lines, make_vocabulary

    from ocr_app.search.vocabulary import rebuild_vocabulary

    vocabulary = make_vocabulary(4000, rng)
    if count:
        owners = create_notes([user], max(1, count // 25))
        load_lines(line_rows(owners, count, TextGenerator(vocabulary, rng), rng), count)
        rebuild_vocabulary(user.pk)
    return vocabulary


def search_queries(vocabulary: list[str], rng: random.Random, count: int = 400) -> list[str]:
    """One and two words, a prefix, a misread word: from the seeded words and the words of
    the uploaded notes (so the new notes are found as they get done)."""
    note_words = "plumber milk eggs coffee dentist library electricity budget garden train passport invoice".split()
    words = vocabulary[:300] + note_words
    queries = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.45:
            queries.append(rng.choice(words))
        elif kind < 0.8:
            queries.append(" ".join(rng.sample(words, 2)))
        elif kind < 0.9:
            queries.append(rng.choice([w for w in words if len(w) >= 4])[:3] + "*")
        else:
            word = rng.choice([w for w in words if len(w) >= 5])
            i = rng.randrange(1, len(word))
            queries.append(word[:i] + word[i + 1 :])  # a dropped letter: fuzzy lookup
    return queries


# --- the run -------------------------------------------------------------------------------


class Searcher(threading.Thread):
    """Searches one query after another; latencies are tagged with the phase they ran in."""

    def __init__(self, client: Client, queries: list[str], phase: list[str], pause: float) -> None:
        super().__init__(daemon=True)
        self.client, self.queries, self.phase, self.pause = client, queries, phase, pause
        self.samples: list[tuple[str, float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        for query in self._cycle():
            if self.stop.is_set():
                return
            phase = self.phase[0]
            try:
                status, ms = self.client.search(query)
            except OSError:
                status, ms = 0, float("nan")
            self.samples.append((phase, ms, status))
            time.sleep(self.pause)

    def _cycle(self):
        while True:
            yield from self.queries


def reference_searches(client: Client, queries: list[str], count: int) -> list[tuple[str, float, int]]:
    samples = []
    for query in queries[:5]:
        client.search(query)  # warm: each gunicorn worker loads the user's word list once
    for query in queries[5 : 5 + count]:
        status, ms = client.search(query)
        samples.append(("before (idle)", ms, status))
    return samples


def wait_busy(client: Client, ids: list[int], timeout: float = 120) -> float:
    """Until the worker is recognising one of ``ids``; returns seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if "processing" in client.statuses(ids).values():
            return time.monotonic() - started
        time.sleep(0.1)
    raise SystemExit("the worker never started on the primer notes")


def generate(folder: Path, count: int) -> list[Path]:
    from throughput import generate_images

    return generate_images(folder, count, seed=11)


ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'


def server_upload_ms(log_path: Path) -> list[float]:
    """gunicorn's time for each successful POST /upload/ (from reading the request to
    sending the response; not the wait for a free thread), in ms, in log order."""
    text = log_path.read_text(errors="replace")
    return [int(us) / 1000 for us in re.findall(r'"POST /upload/ HTTP/1\.1" 201 .* (\d+)$', text, re.M)]


def log_findings(log_path: Path) -> dict[str, int]:
    text = log_path.read_text(errors="replace")
    return {
        "'database is locked'": len(re.findall(r"database is locked", text, re.I)),
        "Traceback": text.count("Traceback (most recent call last)"),
        "ERROR / CRITICAL lines": len(re.findall(r"\b(ERROR|CRITICAL)\b", text)),
        "HTTP 5xx in the access log": len(re.findall(r'" 5\d\d ', text)),
    }


def summarise(values: list[float]) -> tuple[str, str, str]:
    if not values:
        return "–", "–", "–"
    return f"{median(values):.0f}", f"{percentile(values, 95):.0f}", f"{max(values):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=50, help="concurrent uploads (default 50)")
    parser.add_argument("--primers", type=int, default=5,
                        help="notes uploaded one at a time first, to make the worker busy (default 5)")
    parser.add_argument("--seed-lines", type=int, default=20_000, help="synthetic lines to search (default 20000)")
    parser.add_argument("--searchers", type=int, default=1, help="threads searching during the load (default 1)")
    parser.add_argument("--search-pause", type=float, default=0.05, help="seconds between one searcher's requests")
    parser.add_argument("--reference-searches", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (serve's default 2, 4 threads each)")
    parser.add_argument("--workers", type=int, default=1, help="OCR worker processes (serve's default 1)")
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--database-url", help="PostgreSQL scratch database (created and dropped); default SQLite")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch data dir / database (and the log)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="inkdex-bench-load-") as folder, scratch_site(
        args.database_url, keep=args.keep
    ) as env:
        from django.contrib.auth import get_user_model
        from django.db import connections

        folder = Path(folder)
        print(f"{machine_summary()}\ndatabase: {vendor()}, {args.uploads} concurrent uploads, "
              f"{args.seed_lines:,} seeded lines, {args.web_workers} web worker(s) x 4 threads, "
              f"{args.workers} OCR worker(s)")
        password = secrets.token_urlsafe(16)
        user = get_user_model().objects.create_user("loadbench", password=password)
        vocabulary = seed_lines(user, args.seed_lines, rng)
        connections.close_all()
        queries = search_queries(vocabulary, rng)
        paths = generate(folder, args.primers + args.uploads)
        images = [(p.name, p.read_bytes()) for p in paths]
        primers, uploads = images[: args.primers], images[args.primers :]
        print(f"{len(images)} note images, {sum(len(d) for _, d in uploads) / len(uploads) / 1024:.0f} KB each on average")

        port = free_port()
        log_path = Path(env["INKDEX_DATA_DIR"]) / "serve.log"
        server_env = {**env, "INKDEX_LOG_LEVEL": "INFO",
                      # gunicorn's own access log, plus the time it spent on each request (%(D)s, us).
                      "GUNICORN_CMD_ARGS": f"--access-logformat '{ACCESS_LOG_FORMAT}'"}
        server = start_server(server_env, port, log_path, args.web_workers, args.workers)
        try:
            client = Client(port)
            wait_until_up(client, server)
            client.sign_in("loadbench", password)

            # Reference: searches on the idle server.
            samples = reference_searches(client, queries, args.reference_searches)

            # Make the worker busy.
            primer_ids, primer_ms = [], []
            for name, data in primers:
                status, body, ms = client.upload(name, data)
                primer_ms.append(ms)
                if status != 201:
                    raise SystemExit(f"primer upload: HTTP {status} {body[:200]!r}")
                primer_ids.append(json.loads(body)["results"][0]["note"]["id"])
            busy_after = wait_busy(client, primer_ids)

            # The burst, with searches running meanwhile.
            phase = ["during the uploads"]
            searchers = [Searcher(client, queries[i::args.searchers], phase, args.search_pause)
                         for i in range(args.searchers)]
            for s in searchers:
                s.start()
            barrier = threading.Barrier(len(uploads))
            results: list[tuple[int, float, int | None, str]] = [None] * len(uploads)  # type: ignore[list-item]

            def upload(index: int) -> None:
                name, data = uploads[index]
                barrier.wait()
                try:
                    status, body, ms = client.upload(name, data)
                    note_id = json.loads(body)["results"][0]["note"]["id"] if status == 201 else None
                    results[index] = (status, ms, note_id, "" if status == 201 else body[:200].decode(errors="replace"))
                except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the others
                    results[index] = (0, float("nan"), None, repr(exc))

            threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(uploads))]
            burst_started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            burst_seconds = time.monotonic() - burst_started

            # The drain: until every note is done (or failed), searches still running.
            phase[0] = "during the drain (OCR)"
            ids = [r[2] for r in results if r[2] is not None] + primer_ids
            final: dict[int, str] = {}
            while time.monotonic() - burst_started < args.drain_timeout:
                final = client.statuses(ids)
                if all(s in ("done", "failed") for s in final.values()) and len(final) == len(ids):
                    break
                time.sleep(0.5)
            drain_seconds = time.monotonic() - burst_started
            phase[0] = "after (idle again)"
            time.sleep(3)
            for s in searchers:
                s.stop.set()
            for s in searchers:
                s.join(timeout=60)
                samples += s.samples
        finally:
            stop_server(server)

        # --- report ---
        from ocr_app.models import Line, Note

        upload_ms = [r[1] for r in results if r[0] == 201]
        failed_uploads = [r for r in results if r[0] != 201]
        stored = Note.objects.filter(pk__in=[r[2] for r in results if r[2]]).count()
        by_status: dict[str, int] = {}
        for status in final.values():
            by_status[status] = by_status.get(status, 0) + 1
        new_lines = Line.objects.filter(note_id__in=ids).count()
        findings = log_findings(log_path)

        server_ms = server_upload_ms(log_path)[len(primers):]  # the primers come first in the log
        rows = [
            [f"upload one at a time, before the burst ({len(primers)} primers)", len(primer_ms),
             *summarise(primer_ms), 0],
            [f"upload (POST /upload/, {len(uploads)} at once)", len(upload_ms), *summarise(upload_ms),
             len(failed_uploads)],
            ["  the same, gunicorn's time per request (without waiting for a thread)", len(server_ms),
             *summarise(server_ms), ""],
        ]
        for name in ("before (idle)", "during the uploads", "during the drain (OCR)", "after (idle again)"):
            ms = [m for p, m, s in samples if p == name and s == 200]
            errors = sum(1 for p, _, s in samples if p == name and s != 200)
            rows.append([f"search (GET /search.json), {name}", len(ms), *summarise(ms), errors])
        print_table(["request", "count", "median ms", "p95 ms", "max ms", "HTTP errors"], rows,
                    title="Latency (client side, includes queueing for gunicorn's threads)")

        reference = [m for p, m, s in samples if p == "before (idle)" and s == 200]
        outcome = [
            ["uploads stored", f"{stored}/{len(uploads)}"],
            ["notes done (uploads + primers)", f"{by_status.get('done', 0)}/{len(ids)}"
             + (f" (others: {by_status})" if set(by_status) - {"done"} else "")],
            ["lines recognised in them", f"{new_lines:,}"],
            ["burst: first upload sent -> last response", f"{burst_seconds:.1f} s"],
            ["drain: first upload sent -> every note done", f"{drain_seconds:.1f} s "
             f"({len(ids) / drain_seconds * 60:.0f} notes/min)"],
            ["worker busy before the burst", f"yes, recognising a primer note {busy_after:.1f} s after upload"],
            *[[f"server + worker output: {k}", v] for k, v in findings.items()],
        ]
        print_table(["outcome", ""], outcome, title="Outcome")

        p95 = percentile(upload_ms, 95) if upload_ms else float("nan")
        during = [m for p, m, s in samples if p != "before (idle)" and p != "after (idle again)" and s == 200]
        targets = [
            ["every upload stored", "met" if stored == len(uploads) and not failed_uploads else "NOT met"],
            ["every note eventually done", "met" if by_status.get("done", 0) == len(ids) else "NOT met"],
            ["zero 'database is locked'", "met" if findings["'database is locked'"] == 0 else "NOT met"],
            ["upload p95 <= 150 ms" + (" (target set for SQLite)" if vendor() != "sqlite" else ""),
             f"{p95:.0f} ms " + ("met" if p95 <= 150 else "NOT met")],
            ["search during the load: p95 vs idle p95",
             f"{percentile(during, 95):.0f} ms vs {percentile(reference, 95):.0f} ms "
             f"({percentile(during, 95) / percentile(reference, 95):.1f}x)" if during and reference else "–"],
        ]
        print_table(["target", ""], targets, title="Targets")
        if failed_uploads:
            print("failed uploads:", failed_uploads[:5])
        if args.keep:
            print(f"server log: {log_path}")
        print(f"at the end: {load_average()}")


if __name__ == "__main__":
    main()
