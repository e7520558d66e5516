"""A store's satisfaction over time (满意度趋势): the manufacturer's SSI, CSI and CS against the regional and
national averages, and the mystery-shopper score rate, per survey period — the last 12 months of the phone
survey (电访) or the last 8 quarters of the face-to-face survey (面访), ending with the latest period
imported for the store (or the current one).

Each point is the dashboard's metric (`crm.analytics.metrics`) of the store for that period, so the page,
the dashboard and the reports show one figure.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from crm import clock
from crm.analytics.metrics import METRICS, Sums
from crm.satisfaction.figures import satisfaction_counts
from crm.satisfaction.manufacturer import SCORE_READERS
from crm.satisfaction.tables import ManufacturerScore
from tenants.errors import Forbidden
from tenants.scope import Scope, timezone_of

PERIODS = {"phone": 12, "visit": 8}
# The metrics of a period's row, in the table's order; each chart draws one line per metric.
KEYS = ("mfr_ssi", "mfr_ssi_regional", "mfr_ssi_national", "mfr_csi", "mfr_csi_regional", "mfr_csi_national",
        "mfr_cs", "mystery_rate")
CHARTS = {
    "ssi": ("mfr_ssi", "mfr_ssi_regional", "mfr_ssi_national"),
    "csi": ("mfr_csi", "mfr_csi_regional", "mfr_csi_national"),
    "mystery": ("mystery_rate",),
}


async def store_trends(*, actor: Scope, store_id: int, survey: str) -> dict[str, Any]:
    """{"survey", "rows": [{"period", <metric key>: value or None}, …] oldest first}."""
    if not actor.has_role(*SCORE_READERS):
        raise Forbidden()
    actor.require_store(store_id)
    latest = await actor.filter(ManufacturerScore.select(ManufacturerScore.period), ManufacturerScore).where(
        ManufacturerScore.store == store_id, ManufacturerScore.survey == survey
    ).order_by(ManufacturerScore.period, ascending=False).first()
    today = clock.now().astimezone(await timezone_of(store=store_id)).date()
    rows = []
    for label, start, end in _periods(survey, latest["period"] if latest else None, today):
        counts = (await satisfaction_counts(actor, [store_id], start, end, survey=survey)).get(store_id, {})
        sums = Sums(dict(counts))
        rows.append({"period": label, **{key: METRICS[key].value(sums) for key in KEYS}})
    return {"survey": survey, "rows": rows}


def _periods(survey: str, latest: str | None, today: date) -> list[tuple[str, date, date]]:
    """The survey's last periods up to `latest` (or today's), oldest first, with their days [start, end)."""
    months = 3 if survey == "visit" else 1
    if latest is None:
        first = date(today.year, (today.month - 1) // months * months + 1, 1)
    elif survey == "visit":
        first = date(int(latest[:4]), 3 * int(latest[-1]) - 2, 1)
    else:
        first = date(int(latest[:4]), int(latest[5:7]), 1)
    found = []
    for back in range(PERIODS[survey] - 1, -1, -1):
        start, end = _add_months(first, -back * months), _add_months(first, (1 - back) * months)
        label = f"{start.year}-Q{(start.month - 1) // 3 + 1}" if survey == "visit" else f"{start:%Y-%m}"
        found.append((label, start, end))
    return found


def _add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)
