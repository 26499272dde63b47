"""Two requests racing on PostgreSQL, made to meet: each waits on a lock the test holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, connections


def start_waiting(calls: Sequence[Callable[[], Any]]) -> tuple[list[threading.Thread], list[Any]]:
    """Start ``calls`` in threads while the caller holds a row lock; return once every call
    waits for a lock (``pg_stat_activity``), so all have done their reads before it. Release
    the lock, then ``joined`` gives each call's result or exception."""
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
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
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def joined(threads: list[threading.Thread], results: list[Any]) -> list[Any]:
    for t in threads:
        t.join()
    return results
