"""The evaluation on Dask distributed equals the in-process path: the engine's frame, the
``kvcredit evaluate --dask`` output file, and the publish re-evaluation with
``KVCREDIT_DASK_ADDRESS`` (a ``LocalCluster`` of two workers, in this process)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from kvcredit import scoring_dask
from kvcredit.cli import app
from kvcredit.errors import EvaluationError
from kvcredit.scoring.io import write_enterprises
from kvcredit.scoring.policy import load_policy
from kvcredit.scoring.synth import generate
from kvcredit.scoring.vector import evaluate_frame

distributed = pytest.importorskip("dask.distributed")
ON = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as c:
        yield c
        scoring_dask.close_clients()


@pytest.mark.parametrize("policy_id", ["chongqing-kvc", "most-tech-sme"])
def test_the_dask_path_returns_the_in_process_frame(cluster, policy_id):
    policy = load_policy(policy_id)
    frame = generate(5_000, seed=20261202)
    local = evaluate_frame(policy, frame, explain=True, on=ON, details=True)
    seen: list[int] = []
    remote = scoring_dask.evaluate_frame(
        policy,
        frame,
        explain=True,
        on=ON,
        details=True,
        dask_address=cluster.scheduler_address,
        partition_rows=700,
        progress=seen.append,
    )
    assert remote.schema == local.schema
    assert remote.equals(local)
    assert sum(seen) == 5_000 and len(seen) == 8  # eight partitions, each reported once
    workers = cluster.scheduler_info["workers"]
    assert len(workers) == 2


def test_an_empty_frame_and_no_address(cluster):
    policy = load_policy("chongqing-kvc")
    empty = generate(3, seed=1).head(0)
    local = evaluate_frame(policy, empty, explain=True, on=ON)
    remote = scoring_dask.evaluate_frame(
        policy, empty, explain=True, on=ON, dask_address=cluster.scheduler_address
    )
    assert remote.schema == local.schema and remote.height == 0
    same = scoring_dask.evaluate_frame(policy, generate(10, seed=2), on=ON, dask_address=None)
    assert same.equals(evaluate_frame(policy, generate(10, seed=2), on=ON))


def test_an_unreachable_scheduler_is_an_evaluation_error(monkeypatch):
    monkeypatch.setattr(scoring_dask, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(EvaluationError, match="cannot reach the Dask scheduler"):
        scoring_dask.evaluate_frame(
            load_policy("chongqing-kvc"),
            generate(5, seed=3),
            on=ON,
            dask_address="tcp://127.0.0.1:9",
        )


def test_kvcredit_evaluate_dask_writes_the_same_results(cluster, tmp_path: Path):
    source = tmp_path / "enterprises.parquet"
    write_enterprises(generate(3_000, seed=7), source)
    runner = CliRunner()
    outs = {}
    for name, extra in (("local", []), ("dask", ["--dask", cluster.scheduler_address])):
        out = tmp_path / f"{name}.parquet"
        args = ["evaluate", str(source), "--out", str(out), "--explain", "--on", "2026-06-30"]
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        outs[name] = pl.read_parquet(out)
    assert outs["dask"].equals(outs["local"])


def _source(version: str) -> str:
    text = resources.files("kvcredit.scoring.policies").joinpath("chongqing-kvc.toml").read_text()
    return text.replace('version = "', f'version = "{version}', 1)


@pytest.mark.django_db
def test_the_publish_reevaluation_on_dask_stores_what_the_in_process_one_does(
    cluster, world, settings
):
    from kvcredit.enterprises import policies
    from kvcredit.enterprises.models import CreditLine, Evaluation

    def outcome(pub):  # type: ignore[no-untyped-def]
        evs = Evaluation.objects.filter(policy=pub).order_by("enterprise_id")
        return [
            (e.enterprise_id, e.eligible, e.score, e.grade, e.limit_fen, e.explanation) for e in evs
        ]

    settings.KVCREDIT_DASK_ADDRESS = None
    local = policies.publish_policy(world.system, source_toml=_source("9."))
    settings.KVCREDIT_DASK_ADDRESS = cluster.scheduler_address
    remote = policies.publish_policy(world.system, source_toml=_source("10."))
    assert remote.reevaluation.status == "DONE" and remote.reevaluated == 2
    assert outcome(remote) == outcome(local) and len(outcome(local)) == 2
    for line in CreditLine.objects.all():
        assert line.evaluation.policy == remote
