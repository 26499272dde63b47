"""The nightly day: at ``KVCREDIT_NIGHTLY_AT`` (local time) close every business day up to
yesterday, as one end-of-day job (``eod``, catch-up), and on start catch up the days missed.

Never a day after today (``kvcredit.clock.today()``: ``domain.nightly_target`` and the end of
day's own refusal). Idempotent: a day already run is not run again (``endofday.days_to_run``),
a second scheduler finds the job queued, and jobs of the ``eod`` lock run one at a time. A
failed nightly run is not queued again by itself: it shows on the administrator's and the
trustee's pages with its reason, and is retried there (or ``kvcredit jobs retry``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from kvcredit import clock
from kvcredit.jobs.domain import OPEN, JobState, nightly_target, parse_at
from kvcredit.jobs.models import Job

log = logging.getLogger(__name__)


def due(now: dt.datetime | None = None) -> dt.date | None:
    """The day the nightly run should close now, or None (off, nothing to run, or a run is
    queued, running, or failed and waiting for someone to look)."""
    from kvcredit.lending import endofday

    if not settings.KVCREDIT_NIGHTLY_AT:
        return None
    at = parse_at(settings.KVCREDIT_NIGHTLY_AT)
    now_local = timezone.localtime(now or timezone.now())
    target = nightly_target(now_local, at, clock.today())
    if not endofday.days_to_run(target, catch_up=True):
        return None
    last = Job.objects.filter(kind="eod").only("state").order_by("-id").first()
    if last is not None and (last.state in OPEN or last.state == JobState.FAILED):
        return None
    return target


def tick(now: dt.datetime | None = None) -> Job | None:
    """Queue the nightly run if one is due; the job queued, or None."""
    from kvcredit.jobs import services

    target = due(now)
    if target is None:
        return None
    log.info("nightly day: closing every day up to %s", target)
    return services.queue_eod(None, as_of=target, catch_up=True)


def housekeeping(now: dt.datetime | None = None) -> None:
    """One round of what every worker does beside its jobs: take over stale jobs, and queue
    the nightly day when it is due."""
    from kvcredit.jobs import runner

    runner.take_over_stale(now)
    tick(now)


class Housekeeper:
    """``housekeeping`` every ``every`` seconds in a thread of the worker."""

    def __init__(self, every: float, nightly: bool = True) -> None:
        self.every, self.nightly = every, nightly
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="housekeeping", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from kvcredit.jobs import runner

        while not self._stop.is_set():
            try:
                if self.nightly:
                    housekeeping()
                else:
                    runner.take_over_stale()
            except Exception:
                log.exception("housekeeping failed; trying again")
            finally:
                close_old_connections()
            self._stop.wait(self.every)
