"""Every figure of the group dashboard, defined once: key, Chinese and English label, unit, formula.

Each metric is one function of `Sums` — the rollup columns of `crm.analytics.tables.StoreDay` summed
over the stores and days asked for, plus the resolution-time histogram — and its docstring is its
formula. The dashboard, the exports, the trends and the PDF reports all read these objects, so a
changed rule (a new deadline step, five satisfaction levels) is an edit of one count in
`crm.analytics.rollups` and at most one function here.

`drill` names the rollup column whose rows are the items behind the number (for a rate: its
denominator), so the drill-down list is made by the same counting code as the figure itself.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from crm.complaints.service import CHANNELS
from crm.satisfaction.pay import pay_multiplier, score_rate


class Unit(StrEnum):
    COUNT = "count"
    PERCENT = "percent"  # a share 0–1, shown as %
    PER_100 = "per_100"
    HOURS = "hours"
    SCORE = "score"  # an internal survey's 1–10 mean
    INDEX = "index"  # a manufacturer's score, on the manufacturer's scale
    MULTIPLIER = "multiplier"  # a performance-pay multiplier, shown ×0.8


@dataclass
class Sums:
    """Rollup columns summed over a set of store-days, and the merged resolution histogram (minutes → count)."""

    columns: Mapping[str, int]
    resolution_minutes: Counter = field(default_factory=Counter)

    def __getattr__(self, name: str) -> int:
        try:
            return int(self.columns.get(name) or 0)
        except AttributeError:  # `columns` itself not set yet (copy, pickle)
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Metric:
    key: str
    label_zh: str
    label_en: str
    unit: Unit
    compute: Callable[[Sums], float | None]
    drill: str  # the rollup column whose items are behind the number
    higher_is_better: bool = True
    subject: str = "complaint"  # complaint | callback | visit | satisfaction (no items: the store's page)
    part: str = ""  # for a rate: the rollup column of its numerator (marked in the drill-down list)

    @property
    def formula(self) -> str:
        return (self.compute.__doc__ or "").strip()

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh

    def value(self, sums: Sums) -> float | None:
        return self.compute(sums)


METRICS: dict[str, Metric] = {}


def metric(key: str, zh: str, en: str, unit: Unit, *, drill: str, higher_is_better: bool = True,
           subject: str = "complaint", part: str = "") -> Callable[[Callable[[Sums], float | None]], Callable]:
    def register(compute: Callable[[Sums], float | None]) -> Callable:
        METRICS[key] = Metric(key, zh, en, unit, compute, drill, higher_is_better, subject, part)
        return compute

    return register


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def nearest_rank(histogram: Mapping[int, int], q: float) -> int | None:
    """The q-quantile by nearest rank: the smallest value with at least ceil(q·n) values at or below it."""
    n = sum(histogram.values())
    if n == 0:
        return None
    rank, seen = max(1, math.ceil(q * n)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None


# ---------------------------------------------------------------- complaints


@metric("complaints", "投诉数", "Complaints", Unit.COUNT, drill="complaints", higher_is_better=False)
def complaints(s: Sums) -> float | None:
    """Complaints received in the period, not voided (a successful appeal voids a complaint)."""
    return s.complaints


@metric("complaints_per_100_visits", "每百台次投诉", "Complaints per 100 service visits", Unit.PER_100,
        drill="complaints", higher_is_better=False)
def complaints_per_100_visits(s: Sums) -> float | None:
    """complaints × 100 / service visits (visits whose customer left in the period, not cancelled)."""
    return ratio(100 * s.complaints, s.service_visits)


def _channel_metric(code: str, zh: str, en: str) -> None:
    def by_channel(s: Sums) -> float | None:
        return getattr(s, f"complaints_{code}")

    by_channel.__doc__ = f"Complaints received in the period through the channel {zh} ({code}), not voided."
    metric(f"complaints_{code}", f"投诉·{zh}", f"Complaints: {en}", Unit.COUNT, drill=f"complaints_{code}",
           higher_is_better=False)(by_channel)


for _code, (_zh, _en) in CHANNELS.items():
    _channel_metric(_code, _zh, _en)


@metric("major_complaints", "重大投诉", "Major complaints", Unit.COUNT, drill="major_complaints",
        higher_is_better=False)
def major_complaints(s: Sums) -> float | None:
    """Complaints received in the period that are (or became) major (重大投诉), not voided."""
    return s.major_complaints


@metric("accept_on_time_rate", "受理及时率", "Accepted within deadline", Unit.PERCENT, drill="accept_due", part="accept_on_time")
def accept_on_time_rate(s: Sums) -> float | None:
    """accept_on_time / accept_due: of the complaints whose acceptance was done or missed, those accepted
    with no acceptance deadline miss recorded."""
    return ratio(s.accept_on_time, s.accept_due)


@metric("handle_on_time_rate", "处理及时率", "Handled within deadline", Unit.PERCENT, drill="handle_due", part="handle_on_time")
def handle_on_time_rate(s: Sums) -> float | None:
    """handle_on_time / handle_due: countermeasure recorded with no handling deadline miss, over complaints
    whose countermeasure was recorded or whose handling deadline was missed."""
    return ratio(s.handle_on_time, s.handle_due)


@metric("report_on_time_rate", "结果报告及时率", "Result report within deadline", Unit.PERCENT, drill="report_due", part="report_on_time")
def report_on_time_rate(s: Sums) -> float | None:
    """report_on_time / report_due: result and improvement measures reported (resolved) with no result-report
    deadline miss, over complaints reported or missed."""
    return ratio(s.report_on_time, s.report_due)


@metric("feedback_on_time_rate", "24小时反馈集团及时率", "Group feedback within 24 h", Unit.PERCENT,
        drill="feedback_due", part="feedback_on_time")
def feedback_on_time_rate(s: Sums) -> float | None:
    """feedback_on_time / feedback_due: complaints taken by the group whose result was fed back to group
    customer service with no feedback deadline miss, over those fed back or missed."""
    return ratio(s.feedback_on_time, s.feedback_due)


@metric("major_report_on_time_rate", "24小时重大投诉报备及时率", "Major report within 24 h", Unit.PERCENT,
        drill="major_report_due", part="major_report_on_time")
def major_report_on_time_rate(s: Sums) -> float | None:
    """major_report_on_time / major_report_due: major complaints whose early-warning report was filed by its
    due time (24 h after marking), over those filed or overdue."""
    return ratio(s.major_report_on_time, s.major_report_due)


@metric("resolution_median_hours", "处理时长中位数（工时）", "Median resolution (working hours)", Unit.HOURS,
        drill="resolved", higher_is_better=False)
def resolution_median_hours(s: Sums) -> float | None:
    """Median (nearest rank) of the working minutes from receipt to resolution of the resolved complaints,
    in hours; exact, from the per-minute histogram of the rollups."""
    value = nearest_rank(s.resolution_minutes, 0.5)
    return None if value is None else value / 60


@metric("resolution_p90_hours", "处理时长P90(工时)", "P90 resolution (working hours)", Unit.HOURS,
        drill="resolved", higher_is_better=False)
def resolution_p90_hours(s: Sums) -> float | None:
    """90th percentile (nearest rank) of the working minutes from receipt to resolution, in hours."""
    value = nearest_rank(s.resolution_minutes, 0.9)
    return None if value is None else value / 60


@metric("reopen_rate", "重开率", "Reopen rate", Unit.PERCENT, drill="resolved_once", higher_is_better=False,
        part="reopened")
def reopen_rate(s: Sums) -> float | None:
    """reopened / resolved_once: complaints reopened at least once (the customer was not satisfied at the
    revisit), over complaints resolved at least once (resolved now, or reopened since)."""
    return ratio(s.reopened, s.resolved_once)


@metric("liable", "有责投诉数", "Liable (有责)", Unit.COUNT, drill="liable", higher_is_better=False)
def liable(s: Sums) -> float | None:
    """Complaints received in the period judged 有责 (staff responsible), not voided."""
    return s.liable


# ---------------------------------------------------------------- callbacks and satisfaction


@metric("callback_rate", "回访率", "Callback rate", Unit.PERCENT, drill="callbacks_due", subject="callback",
        part="callbacks_done")
def callback_rate(s: Sums) -> float | None:
    """callbacks_done / callbacks_due: phone callbacks due in the period with at least one call made, over
    those due (not cancelled, not skipped as do-not-call). Target 100 %."""
    return ratio(s.callbacks_done, s.callbacks_due)


@metric("callback_on_time_rate", "回访及时率", "On-time callbacks", Unit.PERCENT, drill="callbacks_due",
        subject="callback", part="callbacks_on_time")
def callback_on_time_rate(s: Sums) -> float | None:
    """callbacks_on_time / callbacks_due: first call made by the callback's deadline, over callbacks due."""
    return ratio(s.callbacks_on_time, s.callbacks_due)


@metric("unreachable_rate", "未接通率", "Unreachable", Unit.PERCENT, drill="callbacks_due",
        higher_is_better=False, subject="callback", part="callbacks_unreachable")
def unreachable_rate(s: Sums) -> float | None:
    """callbacks_unreachable / callbacks_due: marked unreachable after the retries, over callbacks due."""
    return ratio(s.callbacks_unreachable, s.callbacks_due)


@metric("satisfaction_rate", "满意率", "Satisfaction rate", Unit.PERCENT, drill="callbacks_answered",
        subject="callback", part="callbacks_satisfied")
def satisfaction_rate(s: Sums) -> float | None:
    """callbacks_satisfied / callbacks_answered: answers 满意 or 非常满意 over callbacks where the customer
    answered the satisfaction question."""
    return ratio(s.callbacks_satisfied, s.callbacks_answered)


@metric("ssi", "内部SSI均分", "Internal SSI", Unit.SCORE, drill="ssi_scores", subject="callback")
def ssi(s: Sums) -> float | None:
    """ssi_score_sum / ssi_scores: mean of every SSI factor score (1–10) of the sales callbacks due in the
    period; factors answered "not applicable" are not scores."""
    return ratio(s.ssi_score_sum, s.ssi_scores)


@metric("csi", "内部CSI均分", "Internal CSI", Unit.SCORE, drill="csi_scores", subject="callback")
def csi(s: Sums) -> float | None:
    """csi_score_sum / csi_scores: mean of every CSI factor score (1–10) of the service callbacks due."""
    return ratio(s.csi_score_sum, s.csi_scores)


@metric("service_visits", "维修台次", "Service visits", Unit.COUNT, drill="service_visits", subject="visit")
def service_visits(s: Sums) -> float | None:
    """Service visits whose customer left in the period, not cancelled."""
    return s.service_visits


# ---------------------------------------------------------------- manufacturer scores and mystery shopper
# Counted by crm.satisfaction.figures: the phone survey's (电访) months overlapping the period, per store.


def _mean_centi(total: int, n: int) -> float | None:
    return total / (100 * n) if n else None


def _manufacturer_metrics(code: str, name: str) -> None:
    def score(s: Sums) -> float | None:
        return _mean_centi(getattr(s, f"mfr_{code}_centi"), getattr(s, f"mfr_{code}_n"))

    def regional(s: Sums) -> float | None:
        return _mean_centi(getattr(s, f"mfr_{code}_regional_centi"), getattr(s, f"mfr_{code}_regional_n"))

    def national(s: Sums) -> float | None:
        return _mean_centi(getattr(s, f"mfr_{code}_national_centi"), getattr(s, f"mfr_{code}_national_n"))

    def rank(s: Sums) -> float | None:
        return ratio(getattr(s, f"mfr_{code}_rank_sum"), getattr(s, f"mfr_{code}_ranked"))

    score.__doc__ = (f"mfr_{code}_centi / (100 × mfr_{code}_n): the manufacturer's {name} of the phone survey (电访) "
                     "for the months of the period, the mean over the stores' months.")
    regional.__doc__ = f"The regional average the manufacturer published with the {name}, the mean over the stores' months."
    national.__doc__ = f"The national average the manufacturer published with the {name}, the mean over the stores' months."
    rank.__doc__ = f"The national rank in the {name}, the mean over the stores' months (1 = best)."
    common = {"drill": f"mfr_{code}_n", "subject": "satisfaction"}
    metric(f"mfr_{code}", f"厂家{name}", f"Manufacturer {name}", Unit.INDEX, **common)(score)
    metric(f"mfr_{code}_regional", f"{name}区域平均", f"{name} regional average", Unit.INDEX, **common)(regional)
    metric(f"mfr_{code}_national", f"{name}全国平均", f"{name} national average", Unit.INDEX, **common)(national)
    metric(f"mfr_{code}_rank", f"{name}全国排名", f"{name} national rank", Unit.COUNT, higher_is_better=False,
           **common)(rank)


for _code in ("ssi", "csi"):
    _manufacturer_metrics(_code, _code.upper())


@metric("mfr_cs", "厂家CS(SSI+CSI)", "Manufacturer CS (SSI+CSI)", Unit.INDEX, drill="mfr_cs_n", subject="satisfaction")
def mfr_cs(s: Sums) -> float | None:
    """mfr_cs_centi / (100 × mfr_cs_n): CS = SSI + CSI of the phone survey, for the months where both were
    published, the mean over the stores' months."""
    return _mean_centi(s.mfr_cs_centi, s.mfr_cs_n)


@metric("mfr_cs_above_both", "CS高于区域及全国平均", "CS above both averages", Unit.PERCENT,
        drill="mfr_cs_standings", subject="satisfaction")
def mfr_cs_above_both(s: Sums) -> float | None:
    """mfr_cs_above_both / mfr_cs_standings: store-months whose CS is at or above both the regional and the
    national average (sums of the SSI and CSI averages; equal is not below), over the store-months with
    both averages. One store and month: 100 % or 0 %."""
    return ratio(s.mfr_cs_above_both, s.mfr_cs_standings)


@metric("phone_survey_completion", "电访落实率", "Phone-survey completion", Unit.PERCENT, drill="mfr_completion_n",
        subject="satisfaction")
def phone_survey_completion(s: Sums) -> float | None:
    """mfr_completion_centi / (100 × 100 × mfr_completion_n): the 电访落实率 the manufacturer published for the
    months of the period, the mean over the stores' months."""
    return s.mfr_completion_centi / (10_000 * s.mfr_completion_n) if s.mfr_completion_n else None


@metric("mystery_rate", "神秘客户得分率", "Mystery-shopper score rate", Unit.PERCENT, drill="mystery_lost",
        subject="satisfaction")
def mystery_rate(s: Sums) -> float | None:
    """mystery_scored / (mystery_scored + mystery_lost): checkpoints scored over checkpoints scored or lost in
    the mystery-shopper audits dated in the period (counts of checkpoints, not points)."""
    return ratio(s.mystery_scored, s.mystery_scored + s.mystery_lost)


@metric("mystery_multiplier", "神秘客户绩效系数", "Mystery-shopper pay multiplier", Unit.MULTIPLIER,
        drill="mystery_lost", subject="satisfaction")
def mystery_multiplier(s: Sums) -> float | None:
    """The performance-pay multiplier of the exact score rate above (crm.satisfaction.pay: below 60 % → 0,
    60 % to below 70 % → 0.6, 70–75 % → 0.7, above 75–80 % → 0.8, above 80–85 % → 0.9, above 85 % → 1.0)."""
    if s.mystery_scored + s.mystery_lost == 0:
        return None
    return float(pay_multiplier(score_rate(s.mystery_scored, s.mystery_lost)))


SATISFACTION_COLUMNS: tuple[str, ...] = (
    "mfr_ssi", "mfr_ssi_regional", "mfr_ssi_national", "mfr_ssi_rank", "mfr_csi", "mfr_csi_regional",
    "mfr_csi_national", "mfr_csi_rank", "mfr_cs", "mfr_cs_above_both", "phone_survey_completion", "mystery_rate",
    "mystery_multiplier",
)
# The dashboard's columns, in order (by-channel counts are offered as a detail, not as columns).
TABLE_COLUMNS: tuple[str, ...] = (
    "complaints", "complaints_per_100_visits", "major_complaints", "accept_on_time_rate", "handle_on_time_rate",
    "report_on_time_rate", "feedback_on_time_rate", "major_report_on_time_rate", "resolution_median_hours",
    "resolution_p90_hours", "reopen_rate", "liable", "callback_rate", "callback_on_time_rate", "unreachable_rate",
    "satisfaction_rate", "ssi", "csi", "service_visits", *SATISFACTION_COLUMNS,
)
CHANNEL_COLUMNS: tuple[str, ...] = tuple(f"complaints_{code}" for code in CHANNELS)


def merge(parts: Iterable[Sums]) -> Sums:
    """Sums of several stores (a group or division total)."""
    columns: Counter = Counter()
    histogram: Counter = Counter()
    for part in parts:
        columns.update({k: int(v or 0) for k, v in part.columns.items()})
        histogram.update(part.resolution_minutes)
    return Sums(dict(columns), histogram)


def display(value: float | None, unit: str | Unit) -> str:
    """A figure as the screens, exports and PDFs show it (— when there is nothing to count)."""
    if value is None:
        return "—"
    unit = Unit(unit)
    if unit == Unit.PERCENT:
        return f"{value * 100:.1f}%"
    if unit == Unit.COUNT:
        return f"{value:,.0f}"
    if unit in (Unit.SCORE, Unit.INDEX):
        return f"{value:.2f}"
    if unit == Unit.MULTIPLIER:
        return f"×{value:.2f}"
    return f"{value:.1f}" if unit == Unit.HOURS else f"{value:.2f}"
