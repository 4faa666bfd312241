"""The Inkdex worker: django-tasks-db's ``db_worker`` plus stale-note recovery.

It takes every option of ``db_worker`` (``--batch`` drains the queue and exits).
Besides running tasks it checks, every so often, for notes whose worker died
(kill -9, power loss) or whose task was lost, and queues them again; PDFs
that were being split into pages too.
"""

import logging
import threading
import time

from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from ocr_app.checks import broken_index_message
from ocr_app.conf import inkdex
from ocr_app.pipeline.recovery import prune_finished_tasks, recover_stale_notes, recover_stale_splits

logger = logging.getLogger("ocr_app.worker")
PRUNE_EVERY_SECONDS = 3600.0


class Command(DbWorkerCommand):
    help = "Run the Inkdex background worker (OCR queue plus recovery of stalled notes)."
    _next_prune = 0.0

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False)
        parser.add_argument(
            "--no-recovery", action="store_false", dest="recovery", help="Do not look for stalled notes."
        )

    def handle(self, *args, recovery: bool = True, batch: bool = False, **options) -> None:
        # Lines written into a broken search index would be missing from searches: refuse.
        problem = broken_index_message()
        if problem:
            raise CommandError(problem)
        if recovery:
            # Once now (a restart after a crash finds its own dead notes at once)...
            self._recover()
            if not batch:
                # ...and then periodically, in the background.
                stop = threading.Event()
                interval = max(1.0, inkdex().stale_after_seconds / 3)
                threading.Thread(target=self._recover_every, args=(interval, stop), daemon=True).start()
        super().handle(*args, batch=batch, **options)

    def _recover(self) -> None:
        try:
            recovered = recover_stale_notes() + recover_stale_splits()
            if recovered:
                logger.warning("Queued again notes whose worker stopped: %s", recovered)
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                pruned = prune_finished_tasks()
                if pruned:
                    logger.info("Deleted %s records of long finished tasks", pruned)
        except Exception:
            logger.exception("Looking for stalled notes failed")

    def _recover_every(self, interval: float, stop: threading.Event) -> None:
        try:
            while not stop.wait(interval):
                self._recover()
        finally:
            connection.close()
