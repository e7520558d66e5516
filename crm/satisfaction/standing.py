"""A store's standing in a manufacturer survey period (seed 001 §6–7): CS, position against the averages,
national rank band and the change against the previous period.

- CS = SSI + CSI (001 §2); its averages are the sums of the SSI and CSI averages.
- Position against the regional and national averages: `above_both` / `below_one` / `below_both`.
  A score equal to an average is **not below** it (a store exactly at the national average stands with
  the stores above it, as the seeds' "低于平均" reads).
- National rank band: `top20` (rank ≤ 20), `top30`, `top50`, else `below50`.
- Change: this period's score minus the previous period's (previous month for 电访, quarter for 面访).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from crm.satisfaction.manufacturer import METRICS, SCORE_READERS, previous_period
from crm.satisfaction.tables import ManufacturerScore
from tenants.errors import Forbidden, InvalidInput
from tenants.scope import Scope

POSITIONS = {
    "above_both": ("高于区域和全国平均", "Above both averages"),
    "below_one": ("低于区域或全国平均之一", "Below one average"),
    "below_both": ("低于区域和全国平均", "Below both averages"),
}
RANK_BANDS = ((20, "top20", "全国前20名", "National top 20"), (30, "top30", "全国前30名", "National top 30"),
              (50, "top50", "全国前50名", "National top 50"))
BELOW_TOP50 = ("below50", "全国50名以后", "Below the national top 50")


@dataclass
class MetricStanding:
    metric: str  # ssi | csi | cs
    score: Decimal | None
    regional_average: Decimal | None
    national_average: Decimal | None
    position: str | None
    national_rank: int | None = None
    stores_ranked: int | None = None
    rank_band: str | None = None
    previous_score: Decimal | None = None
    change: Decimal | None = None


def position(score: Decimal, regional: Decimal | None, national: Decimal | None) -> str | None:
    """above_both / below_one / below_both; equality with an average is not below it. None without both averages."""
    if regional is None or national is None:
        return None
    below = (score < regional) + (score < national)
    return ("above_both", "below_one", "below_both")[below]


def rank_band(rank: int | None) -> str | None:
    if rank is None:
        return None
    return next((code for limit, code, _zh, _en in RANK_BANDS if rank <= limit), BELOW_TOP50[0])


async def store_standing(*, actor: Scope, store_id: int, survey: str, period: str | None = None) -> dict[str, Any]:
    """SSI, CSI and CS standing of a store in a survey's period (default: its latest imported period)."""
    if not actor.has_role(*SCORE_READERS):
        raise Forbidden()
    actor.require_store(store_id)
    if survey not in ("phone", "visit"):
        raise InvalidInput.one("survey", "调查方式应为 phone(电访)或 visit(面访)", "survey is phone or visit")
    rows = await actor.filter(ManufacturerScore.select(), ManufacturerScore).where(
        ManufacturerScore.store == store_id, ManufacturerScore.survey == survey
    )
    periods = sorted({r["period"] for r in rows}, reverse=True)
    period = period or (periods[0] if periods else None)
    by_key = {(r["period"], r["metric"]): r for r in rows}
    metrics = {m: _metric(m, by_key.get((period, m)), by_key.get((previous_period(period), m)) if period else None)
               for m in METRICS}
    completion = next((r["completion_rate"] for m in METRICS if (r := by_key.get((period, m)))
                       and r["completion_rate"] is not None), None)
    return {
        "store_id": store_id, "survey": survey, "period": period, "periods": periods,
        "ssi": asdict(metrics["ssi"]), "csi": asdict(metrics["csi"]), "cs": asdict(_cs(metrics["ssi"], metrics["csi"])),
        "completion_rate": completion,
    }


def _metric(metric: str, row: dict | None, previous: dict | None) -> MetricStanding:
    if row is None:
        return MetricStanding(metric, None, None, None, None)
    score = Decimal(row["score"])
    previous_score = Decimal(previous["score"]) if previous else None
    return MetricStanding(
        metric=metric, score=score, regional_average=row["regional_average"],
        national_average=row["national_average"],
        position=position(score, row["regional_average"], row["national_average"]),
        national_rank=row["national_rank"], stores_ranked=row["stores_ranked"],
        rank_band=rank_band(row["national_rank"]), previous_score=previous_score,
        change=None if previous_score is None else score - previous_score,
    )


def _cs(ssi: MetricStanding, csi: MetricStanding) -> MetricStanding:
    """CS = SSI + CSI, against the sums of the averages; no rank (manufacturers rank SSI and CSI)."""

    def total(a: Decimal | None, b: Decimal | None) -> Decimal | None:
        return None if a is None or b is None else Decimal(a) + Decimal(b)

    score = total(ssi.score, csi.score)
    if score is None:
        return MetricStanding("cs", None, None, None, None)
    regional, national = total(ssi.regional_average, csi.regional_average), total(ssi.national_average, csi.national_average)
    previous = total(ssi.previous_score, csi.previous_score)
    return MetricStanding("cs", score, regional, national, position(score, regional, national),
                          previous_score=previous, change=None if previous is None else score - previous)
