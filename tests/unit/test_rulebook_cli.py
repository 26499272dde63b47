"""``kvcredit rulebook check|show|diff``: Rich output and the exit codes of ``kvcredit policy``
(0 fine, 1 differences with --exit-code, 2 an invalid rulebook)."""

from __future__ import annotations

from typer.testing import CliRunner

from kvcredit.cli import app
from kvcredit.rulebook.domain import builtin_text, load_rulebook

runner = CliRunner()


def test_check_answers_ok_with_the_hash():
    r = runner.invoke(app, ["rulebook", "check", "chongqing-2022"])
    assert r.exit_code == 0, r.output
    assert load_rulebook("chongqing-2022").content_hash in r.output.replace("\n", "")


def test_check_lists_errors_by_key_path_and_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        builtin_text("chongqing-2022").replace("max_term_months = 12", "max_term_months = 0"),
        encoding="utf-8",
    )
    r = runner.invoke(app, ["rulebook", "check", str(bad)])
    assert r.exit_code == 2
    assert "loan.max_term_months" in r.output


def test_show_marks_the_rules_that_are_ours():
    r = runner.invoke(app, ["rulebook", "show", "hubei-2025"], terminal_width=200)
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if "fund.breaker.min_book_loans" in x)
    assert "ours" in line
    line = next(x for x in r.output.splitlines() if "loan.max_amount_yuan" in x)
    assert "ours" not in line and "10000000" in line


def test_diff_lists_the_rules_that_differ():
    r = runner.invoke(
        app, ["rulebook", "diff", "chongqing-2017", "chongqing-2022"], terminal_width=200
    )
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if "loan.rate_basis" in x)
    assert "pboc_benchmark" in line and "lpr_1y" in line
    r = runner.invoke(app, ["rulebook", "diff", "chongqing-2017", "chongqing-2022", "--exit-code"])
    assert r.exit_code == 1
    r = runner.invoke(app, ["rulebook", "diff", "hubei-2025", "hubei-2025", "--exit-code"])
    assert r.exit_code == 0 and "no differences" in r.output
