"""Initial data for a new installation: the shipped districts, rates and default policy."""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources

from kvcredit.accounts.models import User
from kvcredit.enterprises import policies, selectors, services
from kvcredit.enterprises.models import District
from kvcredit.lending.services import load_shipped_rates
from kvcredit.scoring.policy import POLICY_PACKAGE

PROGRAMME_START = dt.date(2017, 1, 1)


def load_shipped_districts(actor: User, *, since: dt.date = PROGRAMME_START) -> int:
    text = resources.files("kvcredit.data").joinpath("chongqing_districts.csv").read_text("utf-8")
    added = 0
    for row in csv.DictReader(text.splitlines()):
        if District.objects.filter(code=row["code"]).exists():
            continue
        services.create_district(
            actor,
            code=row["code"],
            name=row["name"],
            name_en=row.get("name_en") or "",
            participating_since=since,
        )
        added += 1
    return added


def publish_shipped_policy(actor: User, policy_id: str) -> bool:
    """Publish a shipped policy when no policy is published yet."""
    if selectors.current_policy() is not None:
        return False
    text = resources.files(POLICY_PACKAGE).joinpath(f"{policy_id}.toml").read_text("utf-8")
    policies.publish_policy(actor, source_toml=text)
    return True


def load_initial_data(actor: User, *, policy_id: str) -> dict[str, int]:
    return {
        "districts": load_shipped_districts(actor),
        "rates": load_shipped_rates(actor),
        "policies": int(publish_shipped_policy(actor, policy_id)),
    }
