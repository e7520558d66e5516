"""The mystery-shopper score rate and the performance-pay multiplier it gives (seed 001 §8, DOMAIN.md).

Score rate = scored checkpoints / (scored + lost checkpoints) × 100, counting checkpoints, not points.
The rate is an exact fraction: the band is chosen by comparing that fraction with the band edges, so
75 % exactly is ×0.7 and anything above it (75.01 %, or 75.004 %) is ×0.8 — no float, no rounding.
Only the displayed rate is rounded (two decimals, half up); a displayed "75.00 %" may therefore
belong to ×0.8 when the exact rate is 75.004 %. An audit of no checkpoint has no rate and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


@dataclass(frozen=True)
class PayBand:
    """Rates above `floor` (or at it, when `floor_included`) earn `multiplier`; bands are tried top down."""

    floor: Decimal
    floor_included: bool
    multiplier: Decimal
    label_zh: str
    label_en: str

    def holds(self, rate: Fraction) -> bool:
        floor = Fraction(self.floor)
        return rate >= floor if self.floor_included else rate > floor


# below 60 → 0; 60 to below 70 → 0.6; 70 to 75 inclusive → 0.7; above 75 to 80 inclusive → 0.8;
# above 80 to 85 inclusive → 0.9; above 85 → 1.0
PAY_BANDS: tuple[PayBand, ...] = (
    PayBand(Decimal(85), False, Decimal("1.0"), "85%以上，全额绩效", "above 85 %: full pay"),
    PayBand(Decimal(80), False, Decimal("0.9"), "80%以上至85%，绩效×0.9", "above 80 % to 85 %: ×0.9"),
    PayBand(Decimal(75), False, Decimal("0.8"), "75%以上至80%，绩效×0.8", "above 75 % to 80 %: ×0.8"),
    PayBand(Decimal(70), True, Decimal("0.7"), "70%至75%，绩效×0.7", "70 % to 75 %: ×0.7"),
    PayBand(Decimal(60), True, Decimal("0.6"), "60%至不足70%，绩效×0.6", "60 % to below 70 %: ×0.6"),
)
NO_PAY = PayBand(Decimal(0), True, Decimal(0), "低于60%，取消绩效", "below 60 %: pay cancelled")


class NoCheckpoints(ValueError):
    """An audit of no checkpoint has no score rate."""


def score_rate(scored: int, lost: int) -> Fraction:
    """The exact score rate in percent: scored / (scored + lost) × 100."""
    if scored < 0 or lost < 0:
        raise ValueError("checkpoint counts cannot be negative")
    if scored + lost == 0:
        raise NoCheckpoints()
    return Fraction(scored * 100, scored + lost)


def pay_band(rate: Fraction | Decimal | int) -> PayBand:
    """The band of an exact rate in percent (a Decimal is exact too: Decimal("75.01"))."""
    exact = Fraction(rate)
    return next((band for band in PAY_BANDS if band.holds(exact)), NO_PAY)


def pay_multiplier(rate: Fraction | Decimal | int) -> Decimal:
    return pay_band(rate).multiplier


def shown_rate(rate: Fraction) -> Decimal:
    """The rate as displayed: two decimals, half up (display only; the band uses the exact rate)."""
    return (Decimal(rate.numerator) / Decimal(rate.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
