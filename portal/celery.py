"""The Celery app, configured from Django settings (CELERY_ namespace).

Queues are split by kind so slow Azure calls never starve the rest:
``default`` (mail, bookkeeping), ``stores`` (the host app's own stores) and
``azure`` (calls to Azure services). A task picks its queue by its name prefix:
``stores.*`` and ``azure.*``; everything else goes to ``default``.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler
from celery.signals import worker_init, worker_ready

from portal import schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

QUEUES = ("default", "stores", "azure")
logger = logging.getLogger(__name__)


@worker_init.connect
def _refuse_to_start_if_unmet(**kwargs: Any) -> None:
    """A production worker without what it needs (the receipt key...) exits before taking any message."""
    from portal import startup  # this module loads with the portal package, before Django's apps

    startup.refuse_to_start_if_unmet("celery worker")


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> dict[str, str]:
    prefix = name.split(".", 1)[0]
    if prefix in ("stores", "azure"):
        return {"queue": prefix}
    return {"queue": "default"}


def enqueue(name: str, *args: Any, countdown: float | None = None) -> None:
    """Send the task registered as ``name`` (e.g. ``abuse.deliver_webhook``) with ``args``.

    By name, so that a services module need not import the tasks module that imports it (an import
    circle). The app's ``AppConfig.ready()`` imports its tasks module, so the name is registered in
    every process; ``delay`` keeps routing, eager mode and tests' patches of ``task.delay``.
    """
    try:
        task = app.tasks[name]
    except KeyError:
        raise LookupError(
            f"no Celery task is registered as {name!r}: does its app's ready() import its tasks module?"
        ) from None
    if countdown is None:
        task.delay(*args)
    else:
        task.apply_async(args, countdown=countdown)


class HeartbeatScheduler(PersistentScheduler):
    """The default beat scheduler, plus a row in the database saying beat is alive.

    /healthz reads that row; writing it from beat itself (not from a task the
    worker runs) lets the page tell a dead beat from a dead worker.
    """

    _last_beat = 0.0
    app: Celery  # set by celery.beat.Scheduler.__init__ (its stubs do not declare it)

    def setup_schedule(self) -> None:
        """Schedule the entries of ``portal.schedule`` (the kernel's and those the apps registered)."""
        self.app.conf.beat_schedule = {**schedule.entries(), **(self.app.conf.beat_schedule or {})}
        super().setup_schedule()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        now = time.monotonic()
        if now - self._last_beat >= 10:
            self._last_beat = now
            try:
                from portal.models import Heartbeat  # models need the app registry; this module loads first

                Heartbeat.record("beat")
            except Exception:  # beat must keep scheduling even if the database blips
                logger.warning("beat heartbeat could not be recorded", exc_info=True)
        return min(float(super().tick(*args, **kwargs)), 10.0)  # type: ignore[misc]


def queue_depth(queue: str) -> int | None:
    """Messages waiting in ``queue`` (not those a worker holds), or None if the broker cannot tell.

    kombu's virtual transports (Redis, filesystem, memory) count a queue with
    ``_size`` (which honours Redis' ``global_keyprefix``); AMQP brokers answer a
    passive declare, "no such queue" meaning empty.
    """
    # Only AMQP brokers need these: a worker on Redis or the filesystem never loads amqp.
    from amqp.exceptions import NotFound  # type: ignore[attr-defined]
    from kombu.exceptions import OperationalError

    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            channel: Any = conn.default_channel  # type: ignore[attr-defined]
            if hasattr(channel, "_size"):
                return int(channel._size(queue))
            try:
                return int(channel.queue_declare(queue=queue, passive=True).message_count)
            except NotFound:  # AMQP: no such queue, so nothing waiting
                return 0
    except (OperationalError, OSError, ConnectionError):
        return None
    except Exception:  # an exotic transport that cannot count: callers fall back to time alone
        logger.warning("queue depth of %s unknown", queue, exc_info=True)
        return None


@worker_ready.connect
def _freeze_startup_objects(**kwargs: Any) -> None:
    """Move everything loaded at start-up out of the collector's sight.

    At exit CPython's final collection walked the whole start-up heap (Django, DRF, Celery, the
    stores): 4 s of a stopping worker, past honcho's 5 s before SIGKILL (`make run`, Ctrl-C).
    """
    gc.freeze()
