"""Run Inkdex: the web server (gunicorn) and background worker(s) together.

A small supervisor: a worker that exits (crash, out of memory, kill -9) is
started again; Ctrl+C or SIGTERM stops everything cleanly.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ocr_app.checks import broken_index_message


class Command(BaseCommand):
    help = "Serve Inkdex: web server plus OCR worker(s), restarted if they die."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("INKDEX_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("INKDEX_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("INKDEX_WEB_WORKERS", "2")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("INKDEX_OCR_WORKERS", "1")),
            help="OCR worker processes (each holds the models, ~1 GB).",
        )
        parser.add_argument("--no-migrate", action="store_false", dest="migrate")

    def handle(self, *args, host, port, web_workers, workers, migrate, **options) -> None:
        if migrate:
            call_command("migrate", interactive=False, verbosity=0)
        # A broken search index would make searches miss notes without a word: refuse instead.
        problem = broken_index_message()
        if problem:
            raise CommandError(problem)
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        web_cmd = [
            python, "-m", "gunicorn", "notes_site.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(web_workers), "--threads", "4",
            "--timeout", "120", "--access-logfile", "-",
        ]
        worker_cmds = [[python, manage, "run_worker", "--worker-id", f"{os.uname().nodename}-{os.getpid()}-{i}"]
                       for i in range(workers)]
        procs: dict[str, tuple[list[str], subprocess.Popen]] = {}
        environment = dict(os.environ)
        if workers > 1 and "INKDEX_OCR_THREADS" not in environment:
            # Each worker's OCR gets its share of the cores instead of all of them.
            environment["INKDEX_OCR_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))

        def start(name: str, cmd: list[str]) -> None:
            # A process group of its own: Ctrl+C in the terminal reaches only this
            # supervisor, which then stops each child in order (SIGTERM), instead of
            # interrupting a child that is still starting up.
            procs[name] = (cmd, subprocess.Popen(cmd, cwd=settings.BASE_DIR, process_group=0, env=environment))

        stopping = False
        web_exit_code = None

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)

        start("web", web_cmd)
        for i, cmd in enumerate(worker_cmds):
            start(f"worker-{i}", cmd)
        self.stdout.write(self.style.SUCCESS(f"Inkdex is running at http://{host}:{port}/  (Ctrl+C to stop)"))

        try:
            while not stopping:
                time.sleep(0.5)
                for name, (cmd, proc) in list(procs.items()):
                    code = proc.poll()
                    if code is None or stopping:
                        continue
                    if name == "web":
                        self.stderr.write(f"The web server exited with code {code}; stopping.")
                        web_exit_code = code
                        stopping = True
                        break
                    self.stderr.write(f"{name} exited with code {code}; starting it again.")
                    time.sleep(1)
                    start(name, cmd)
        finally:
            for _, proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 30
            for _, proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
        if web_exit_code is not None:
            # Not a requested stop: scripts and service managers must see the failure.
            raise CommandError(f"The web server stopped unexpectedly (exit code {web_exit_code}); see its messages above.")
