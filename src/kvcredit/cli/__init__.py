"""The ``kvcredit`` command line (Typer): one app, its commands in one module per area.

- ``evaluate``: evaluate files, check and compare policies, make synthetic data (no Django);
- ``platform``: init, serve, user, audit, enterprises import, policy publish;
- ``lending``: the end of day (``kvcredit eod``);
- ``fund``: the fund's books (``kvcredit fund export``);
- ``subsidy``: interest subsidies (``kvcredit subsidy run|notice``);
- ``rulebook``: check, show, diff, list and publish programme rulebooks;
- ``console``: translation catalogues, the demo programme, the programme report;
- ``views``: the Rich renderings the commands print.

The service's commands set Django up with ``kvcredit.site.bootstrap.django_setup``.
"""

from __future__ import annotations

import typer

from kvcredit.cli import console, evaluate, fund, lending, platform, rulebook, subsidy

app = typer.Typer(
    help="kvcredit: knowledge-value credit evaluation. 知识价值信用评价。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
evaluate.register(app)
platform.register(app)
app.add_typer(fund.app, name="fund")
app.add_typer(subsidy.app, name="subsidy")
app.add_typer(rulebook.app, name="rulebook")
app.add_typer(console.app, name="i18n")
app.add_typer(console.demo_app, name="demo")
app.command("report")(console.report)
lending.register(app)

__all__ = ["app"]
