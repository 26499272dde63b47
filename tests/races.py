"""Two requests racing on PostgreSQL, made to meet: each waits on a lock the test holds, or all
start together at a barrier."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, connections


def _started(
    calls: Sequence[Callable[[], Any]], barrier: threading.Barrier | None = None
) -> tuple[list[threading.Thread], list[Any]]:
    """``calls`` started in threads, each on its own connection (closed when it ends), each
    first waiting at ``barrier`` if one is given; the threads and the list of their results."""
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            if barrier is not None:
                barrier.wait()
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    return threads, results


def start_waiting(calls: Sequence[Callable[[], Any]]) -> tuple[list[threading.Thread], list[Any]]:
    """Start ``calls`` in threads while the caller holds a row lock; return once every call
    waits for a lock (``pg_stat_activity``), so all have done their reads before it. Release
    the lock, then ``joined`` gives each call's result or exception."""
    threads, results = _started(calls)
    with connections["default"].cursor() as cur:
        for _ in range(500):
            cur.execute("SELECT pg_stat_clear_snapshot()")  # a transaction caches the view
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            if cur.fetchone()[0] >= len(calls):
                break
            time.sleep(0.02)
    return threads, results


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads, each on its own connection, released together by a barrier;
    return each call's result or exception, in order."""
    return joined(*_started(calls, threading.Barrier(len(calls))))


def joined(threads: list[threading.Thread], results: list[Any]) -> list[Any]:
    for t in threads:
        t.join()
    return results
