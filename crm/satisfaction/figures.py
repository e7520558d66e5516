"""The satisfaction figures of a store and period as counts, for the dashboard metrics (`crm.analytics.metrics`).

The metrics only sum and divide counts, so the manufacturer scores and the mystery-shopper audits are
turned into whole-number columns here (scores in hundredths), per store:

- manufacturer phone survey (电访, monthly): every month overlapping the period counts once per store
  and metric — `mfr_ssi_centi` (score × 100) and `mfr_ssi_n`, the same for the regional and national
  averages, the rank (`mfr_ssi_rank_sum`, `mfr_ssi_ranked`), CS (SSI + CSI, when both are published),
  CS standing above both averages (`mfr_cs_above_both` of `mfr_cs_standings`) and 电访落实率;
- mystery shopper: the checkpoints scored and lost in the audits dated in the period.

A store with one month has its own figures; a group, quarter or year sums them, so the metrics give the
mean over the stores' months (and the pooled mystery-shopper rate). These figures are imported or
recorded, not counted from history, so they are read from their own tables (no rollup to keep).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from crm.analytics.periods import months
from crm.satisfaction.manufacturer import METRICS as SCORE_METRICS
from crm.satisfaction.standing import position
from crm.satisfaction.tables import ManufacturerScore, MysteryAudit
from tenants.scope import Scope

# The columns this module adds to a store's sums (the metrics read them; no rollup table holds them).
COLUMNS = (
    *(f"mfr_{m}_{part}" for m in SCORE_METRICS for part in (
        "centi", "n", "regional_centi", "regional_n", "national_centi", "national_n", "rank_sum", "ranked")),
    "mfr_cs_centi", "mfr_cs_n", "mfr_cs_standings", "mfr_cs_above_both", "mfr_completion_centi", "mfr_completion_n",
    "mystery_scored", "mystery_lost",
)


async def satisfaction_counts(
    scope: Scope, store_ids: list[int], start: date, end: date, *, survey: str = "phone"
) -> dict[int, Counter]:
    """The columns above per store, for the days [start, end): the survey's periods overlapping them (the
    dashboard reads the monthly phone survey; a store's page may ask for the quarterly face-to-face one)."""
    if not store_ids:
        return {}
    counts: dict[int, Counter] = {store_id: Counter() for store_id in store_ids}
    periods = survey_periods(survey, start, end)
    rows = await scope.select(
        ManufacturerScore, ManufacturerScore.store, ManufacturerScore.period, ManufacturerScore.metric,
        ManufacturerScore.score, ManufacturerScore.regional_average, ManufacturerScore.national_average,
        ManufacturerScore.national_rank, ManufacturerScore.completion_rate,
    ).where(ManufacturerScore.store.is_in(store_ids), ManufacturerScore.survey == survey,
            ManufacturerScore.period.is_in(periods or ["-"]))
    by_month: dict[tuple[int, str], dict[str, dict]] = {}
    for row in rows:
        by_month.setdefault((row["store"], row["period"]), {})[row["metric"]] = row
    for (store_id, _period), metrics in by_month.items():
        _add_month(counts[store_id], metrics)
    audits = await scope.select(MysteryAudit, MysteryAudit.store, MysteryAudit.scored, MysteryAudit.lost).where(
        MysteryAudit.store.is_in(store_ids), MysteryAudit.audited_on >= start, MysteryAudit.audited_on < end)
    for audit in audits:
        counts[audit["store"]].update(mystery_scored=audit["scored"], mystery_lost=audit["lost"])
    return counts


def survey_periods(survey: str, start: date, end: date) -> list[str]:
    """The survey's periods overlapping [start, end): months ("2026-11") or, for 面访, quarters ("2026-Q4")."""
    labels = [m.label for m in months(start, end)]
    if survey == "phone":
        return labels
    return sorted({f"{label[:4]}-Q{(int(label[5:7]) - 1) // 3 + 1}" for label in labels})


def _add_month(counts: Counter, metrics: dict[str, dict]) -> None:
    """One store-month of the phone survey: each metric's score, averages and rank; CS and its standing."""
    for metric, row in metrics.items():
        for part, column in (("", "score"), ("regional_", "regional_average"), ("national_", "national_average")):
            if row[column] is not None:
                counts[f"mfr_{metric}_{part}centi"] += _centi(row[column])
                counts[f"mfr_{metric}_{part}n"] += 1
        if row["national_rank"] is not None:
            counts[f"mfr_{metric}_rank_sum"] += row["national_rank"]
            counts[f"mfr_{metric}_ranked"] += 1
    completion = next((r["completion_rate"] for r in metrics.values() if r["completion_rate"] is not None), None)
    if completion is not None:
        counts["mfr_completion_centi"] += _centi(completion)
        counts["mfr_completion_n"] += 1
    if set(SCORE_METRICS) <= metrics.keys():
        ssi, csi = metrics["ssi"], metrics["csi"]
        counts["mfr_cs_centi"] += _centi(ssi["score"]) + _centi(csi["score"])
        counts["mfr_cs_n"] += 1
        averages = [None if ssi[k] is None or csi[k] is None else Decimal(ssi[k]) + Decimal(csi[k])
                    for k in ("regional_average", "national_average")]
        standing = position(Decimal(ssi["score"]) + Decimal(csi["score"]), *averages)
        if standing is not None:
            counts["mfr_cs_standings"] += 1
            counts["mfr_cs_above_both"] += standing == "above_both"


def _centi(value: Decimal | float | str) -> int:
    return int((Decimal(value) * 100).to_integral_value())
