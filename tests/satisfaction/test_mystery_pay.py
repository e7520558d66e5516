"""The mystery-shopper score rate and pay multiplier at every band edge, on exact decimals."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from crm.satisfaction.pay import NoCheckpoints, pay_multiplier, score_rate, shown_rate


@pytest.mark.parametrize(
    ("rate", "multiplier"),
    [
        ("0", "0"),
        ("59.99", "0"),
        ("60", "0.6"),
        ("69.99", "0.6"),
        ("70", "0.7"),
        ("75", "0.7"),
        ("75.00", "0.7"),
        ("75.01", "0.8"),
        ("80", "0.8"),
        ("80.01", "0.9"),
        ("85", "0.9"),
        ("85.01", "1.0"),
        ("100", "1.0"),
    ],
)
def test_multiplier_at_every_band_edge(rate, multiplier):
    assert pay_multiplier(Decimal(rate)) == Decimal(multiplier)


@pytest.mark.parametrize(
    ("scored", "lost", "multiplier"),
    [
        (5999, 4001, "0"),  # 59.99 %
        (3, 2, "0.6"),  # 60 %
        (6999, 3001, "0.6"),  # 69.99 %
        (7, 3, "0.7"),  # 70 %
        (3, 1, "0.7"),  # 75 %
        (7501, 2499, "0.8"),  # 75.01 %
        (4, 1, "0.8"),  # 80 %
        (8001, 1999, "0.9"),  # 80.01 %
        (17, 3, "0.9"),  # 85 %
        (8501, 1499, "1.0"),  # 85.01 %
        (12, 0, "1.0"),  # 100 %
        (0, 12, "0"),  # 0 %
    ],
)
def test_multiplier_from_checkpoint_counts(scored, lost, multiplier):
    assert pay_multiplier(score_rate(scored, lost)) == Decimal(multiplier)


def test_the_band_uses_the_exact_rate_not_the_shown_one():
    # 75.004 %: shown as 75.00 %, but above 75 % it is ×0.8.
    rate = score_rate(18751, 6249)
    assert rate == Fraction(75004, 1000)
    assert shown_rate(rate) == Decimal("75.00")
    assert pay_multiplier(rate) == Decimal("0.8")
    # Floats would disagree on one-third rates; the fraction is exact: 2/3 = 66.666… % → ×0.6.
    assert shown_rate(score_rate(2, 1)) == Decimal("66.67")
    assert pay_multiplier(score_rate(2, 1)) == Decimal("0.6")


def test_an_audit_of_no_checkpoint_has_no_rate():
    with pytest.raises(NoCheckpoints):
        score_rate(0, 0)
