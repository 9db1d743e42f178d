"""The embedded default's stand-in for ``celery beat``: runs the same CELERY_BEAT_SCHEDULE inside the web
server's event loop, so the single ``serve`` process also dispatches broadcasts without Redis.

Production runs real ``celery beat`` and workers instead; this module is only started by ``manage.py serve``
when no broker is configured (tasks then run in-process, see CELERY_TASK_ALWAYS_EAGER).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from asgiref.sync import sync_to_async
from celery.schedules import maybe_schedule
from django.conf import settings
from django.utils import timezone

from oa_platform.celery import app

logger = logging.getLogger(__name__)

# How often the loop wakes to look for due entries; the shortest schedule entry is a few seconds.
TICK_S = 1.0


class EmbeddedBeat:
    def __init__(self, schedule: dict | None = None):
        self.entries = {
            name: {"task": entry["task"], "schedule": maybe_schedule(entry["schedule"]), "last_run": None}
            for name, entry in (settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule).items()
        }

    def due(self, now: datetime) -> list[str]:
        names = []
        for name, entry in self.entries.items():
            last = entry["last_run"]
            if last is None:
                names.append(name)
                continue
            is_due, _next = entry["schedule"].is_due(last)
            if is_due:
                names.append(name)
        return names

    def run_entry(self, name: str) -> None:

        entry = self.entries[name]
        entry["last_run"] = timezone.now()
        try:
            app.tasks[entry["task"]].apply(throw=True)
        except Exception:
            logger.exception("embedded beat: %s failed", name)

    async def run_forever(self) -> None:
        if not self.entries:
            return

        # A worker imports the apps' tasks modules at start; do the same before looking tasks up by name.
        await sync_to_async(app.loader.import_default_modules, thread_sensitive=True)()
        logger.info("embedded beat running %d schedule entries", len(self.entries))
        while True:
            for name in self.due(timezone.now()):
                # Not thread-sensitive: a long fan-out must not block the request threads; group sends made
                # inside the task still run on this event loop, where the in-memory channel layer lives.
                await sync_to_async(self.run_entry, thread_sensitive=False)(name)
            await asyncio.sleep(TICK_S)
