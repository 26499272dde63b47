"""`kvcredit subsidy run|notice`, run as a user would, on a fresh database."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from test_cli_service import database_url, env, kvcredit  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_subsidy_run_and_notice(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    assert kvcredit(env, "init").returncode == 0
    r = kvcredit(env, "subsidy", "run", "--date", "2022-08-15")
    assert r.returncode == 0, r.stderr
    assert "0 subsidies paid" in r.stdout and "chongqing-2022@" in r.stdout
    assert kvcredit(env, "subsidy", "run", "--date", "2022-13-01").returncode == 2
    assert kvcredit(env, "subsidy", "run", "--date", "2999-01-01").returncode == 1  # ahead
    out = tmp_path / "notice.xlsx"
    r = kvcredit(env, "subsidy", "notice", "--from", "2022-01-01", "--out", str(out))
    assert r.returncode == 0, r.stderr
    ws = openpyxl.load_workbook(out).active
    assert ws.cell(2, 2).value == "enterprise 企业名称"
    assert ws.cell(3, 2).value == "total 合计"
