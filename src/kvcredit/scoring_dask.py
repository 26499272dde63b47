"""The vectorised evaluation beyond one machine: Parquet partitions on a Dask cluster.

``evaluate_frame(policy, frame, ..., dask_address=ADDRESS)`` cuts the frame into partitions of
``partition_rows`` rows, sends each to the cluster as Parquet bytes (no shared file system is
needed), evaluates it there with ``kvcredit.scoring.vector.evaluate_frame`` and returns the
partitions' results, in order, as one frame: the same frame the in-process path returns (the
engine is the same function; Parquet keeps every column's type). Without an address it is the
in-process call itself, so a caller (the CLI, the publish re-evaluation) switches with one
setting.

The workers need kvcredit installed (the same version: the policy travels pickled). The
client of an address is made once per process and kept (connecting costs a round trip or
two); ``close_clients`` closes them.

Not part of the pure ``kvcredit.scoring`` package on purpose: this module talks to the
network. It imports no Django either (``kvcredit evaluate --dask`` runs without a database).
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable
from typing import Any

import polars as pl

from kvcredit.errors import EvaluationError
from kvcredit.scoring.policy import Policy
from kvcredit.scoring.vector import evaluate_frame as evaluate_in_process

PARTITION_ROWS = 100_000
CONNECT_TIMEOUT_S = 10
_clients: dict[str, Any] = {}
_lock = threading.Lock()


def _to_parquet(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="lz4", statistics=False)
    return buf.getvalue()


def _from_parquet(data: bytes) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(data))


def _evaluate_partition(
    data: bytes,
    policy: Policy,
    explain: bool,
    on: dt.date | None,
    details: bool,
) -> bytes:
    """Run on a worker: one Parquet partition in, its results as Parquet out."""
    result = evaluate_in_process(
        policy, _from_parquet(data), explain=explain, on=on, details=details
    )
    return _to_parquet(result)


def client_for(address: str) -> Any:
    """The (kept) Dask client of a scheduler address; raises EvaluationError if unreachable."""
    with _lock:
        client = _clients.get(address)
        if client is not None and client.status == "running":
            return client
        from dask.distributed import Client

        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise EvaluationError(f"cannot reach the Dask scheduler {address}: {exc}") from exc
        _clients[address] = client
        return client


def close_clients() -> None:
    """Close every kept client (tests, a process about to exit)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def check_reachable(address: str) -> int:
    """The number of workers the scheduler at ``address`` has (``kvcredit check``)."""
    client = client_for(address)
    return len(client.scheduler_info(n_workers=-1).get("workers", {}))


def evaluate_frame(
    policy: Policy,
    frame: pl.DataFrame,
    *,
    explain: bool = False,
    on: dt.date | None = None,
    details: bool = False,
    dask_address: str | None = None,
    partition_rows: int = PARTITION_ROWS,
    progress: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """``kvcredit.scoring.vector.evaluate_frame``, on a Dask cluster when given its address.

    ``progress`` is called with the number of rows of each partition as it completes.
    """
    if not dask_address:
        result = evaluate_in_process(policy, frame, explain=explain, on=on, details=details)
        if progress:
            progress(frame.height)
        return result
    if policy.uses_dates and on is None:
        raise EvaluationError("this policy tests dates within a window: give the evaluation date")
    from dask.distributed import as_completed

    client = client_for(dask_address)
    step = max(partition_rows, 1)
    starts = list(range(0, frame.height, step)) or [0]
    parts = [frame.slice(k, step) for k in starts]
    [remote_policy] = client.scatter([policy], broadcast=True, hash=False)
    futures = [
        client.submit(
            _evaluate_partition, _to_parquet(p), remote_policy, explain, on, details, pure=False
        )
        for p in parts
    ]
    rows = {f.key: p.height for f, p in zip(futures, parts, strict=True)}
    done: dict[str, bytes] = {}
    try:
        for future, data in as_completed(futures, with_results=True, loop=client.loop):
            done[future.key] = data
            if progress:
                progress(rows[future.key])
    except Exception as exc:
        for f in futures:
            f.cancel()
        if isinstance(exc, EvaluationError):
            raise
        raise EvaluationError(f"the Dask evaluation failed: {exc}") from exc
    return pl.concat([_from_parquet(done[f.key]) for f in futures], rechunk=False)
