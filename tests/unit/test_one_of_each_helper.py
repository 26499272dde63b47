"""One of each helper: one rounding rule, one rate unit, one error tree, one row-error shape."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvcredit import errors
from kvcredit.lending.domain import rates
from kvcredit.money import FEN, div_half_up, quantize, round_half_up


@given(st.integers(0, 10**15), st.integers(1, 10**9))
def test_integer_rounding_is_the_decimal_rounding_half_up(num: int, den: int) -> None:
    expected = int(quantize(Decimal(num) / Decimal(den), Decimal(1)))
    assert div_half_up(num, den) == round_half_up(Fraction(num, den)) == expected


def test_a_half_rounds_up_for_ints_fractions_and_arrays() -> None:
    assert div_half_up(5, 2) == 3 and div_half_up(7, 2) == 4 and round_half_up(Fraction(1, 2)) == 1
    assert div_half_up(np.array([5, 4, 6], dtype=np.int64), 4).tolist() == [1, 1, 2]
    assert quantize(Decimal("0.125")) == Decimal("0.13") == quantize(Decimal("0.125"), FEN)


def test_a_rate_has_one_unit_and_every_conversion_lives_with_it() -> None:
    assert rates.percent_to_units(Decimal("4.35")) == 4_350_000
    assert rates.units_to_percent(4_350_000) == Decimal("4.35")
    assert format(rates.units_to_percent(10_000_000), "f") == "10"
    assert rates.percent_to_ppm(Decimal("4.35")) == 43_500
    assert rates.ppm_to_percent(43_500) == Decimal("4.35")
    assert rates.percent_to_ppm(Decimal("4.35")) * rates.UNITS_PER_PPM == 4_350_000
    for bad in (Decimal("4.00001"), Decimal("-1"), Decimal("100.01"), Decimal("Infinity")):
        with pytest.raises(ValueError):
            rates.percent_to_ppm(bad)


@pytest.mark.parametrize(
    ("name", "home", "builtin"),
    [
        ("UnbalancedEntry", "kvcredit.fund.domain.ledger", ValueError),
        ("InsufficientFunds", "kvcredit.fund.domain.entries", ValueError),
        ("ClaimRefused", "kvcredit.fund.domain.rules", ValueError),
        ("Overpayment", "kvcredit.lending.domain.aging", ValueError),
        ("RateNotFound", "kvcredit.lending.domain.rates", LookupError),
        ("DayAlreadyRun", "kvcredit.lending.domain.eod", ValueError),
        ("DaySkipped", "kvcredit.lending.domain.eod", ValueError),
    ],
)
def test_every_domain_error_is_in_the_tree_drawn_in_its_docstring(
    name: str, home: str, builtin: type[Exception]
) -> None:
    import importlib

    cls = getattr(errors, name)
    assert issubclass(cls, errors.DomainError) and issubclass(cls, errors.KvcreditError)
    assert issubclass(cls, builtin)  # callers catching the built-in class still catch it
    assert getattr(importlib.import_module(home), name) is cls
    assert f"── {name} " in (errors.__doc__ or "")


def test_money_in_a_domain_message_is_exact_yuan() -> None:
    assert "123,456,789,012,345.67 yuan" in str(errors.Overpayment(12_345_678_901_234_567, 1))
    assert "0.05 yuan" in str(errors.InsufficientFunds(needed_fen=10, available_fen=5))


def test_every_importer_reports_rows_in_one_shape() -> None:
    from kvcredit.scoring.io import ERROR_COLUMNS

    assert ERROR_COLUMNS == ("row", "uscc", "field", "value", "message_zh", "message_en")
    e = errors.RowError(row=2, field="amount", message_zh="金额", message_en="amount")
    assert (e.uscc, e.value) == ("", None)
