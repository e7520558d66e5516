"""What each report shows: its figures gathered through a scope, from the dashboards' metric definitions.

A report's data is plain JSON-able tables (title, column headers, rows of display strings, rows to
highlight) plus SVG charts, so the PDF template and the XLSX file show the same figures and the data
can be hashed: an unchanged period reuses its file. Every rate, count and rank is read from
`crm.analytics` (the metrics of `metrics.py` over the rollups, `dashboard.store_table`, `charts.trend_svg`),
never counted a second way; only the month's list of complaints and its breakdowns by cause, department
and status are read from the complaints themselves. A report's independent queries run at once
(`asyncio.gather`): gathering should cost almost nothing next to the PDF.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from crm.analytics import dashboard
from crm.analytics.charts import trend_svg
from crm.analytics.metrics import CHANNEL_COLUMNS, METRICS, SATISFACTION_COLUMNS, Sums, display
from crm.analytics.periods import Period, parse_period
from crm.callbacks.rules import DEFAULT_RULES, SALES_KINDS, SERVICE_KINDS
from crm.callbacks.statistics import Figures, callback_statistics, callback_targets
from crm.complaints.service import CAUSES, CHANNELS, DEPARTMENTS, LIABILITY
from crm.complaints.tables import Complaint
from crm.complaints.workflow import STATE_TITLES, State
from crm.major.tables import MajorComplaint
from tenants.scope import Scope, timezone_of
from tenants.tables import DealerGroup, Store

STORE_SUMMARY = ("complaints", "complaints_per_100_visits", "major_complaints", "accept_on_time_rate",
                 "handle_on_time_rate", "report_on_time_rate", "feedback_on_time_rate", "major_report_on_time_rate",
                 "resolution_median_hours", "resolution_p90_hours", "reopen_rate", "liable", "service_visits")
COMPARISON_COLUMNS = ("complaints", "complaints_per_100_visits", "major_complaints", "handle_on_time_rate",
                      "reopen_rate", "liable", "callback_rate", "satisfaction_rate", "ssi", "csi")
RANKED = ("complaints_per_100_visits", "handle_on_time_rate", "callback_rate", "satisfaction_rate")
TRENDS = ("complaints", "satisfaction_rate")
CR_CENTER_CALLBACKS = ("callback_rate", "callback_on_time_rate", "unreachable_rate", "satisfaction_rate", "ssi", "csi")
CR_CENTER_COMPLAINTS = ("complaints", "major_complaints", "accept_on_time_rate", "handle_on_time_rate", "reopen_rate",
                        "liable")
# Targets measured in the group comparison: the group's callback targets (crm.callbacks.statistics).
TARGETED = ("callback_rate", "satisfaction_rate")


@dataclass(frozen=True)
class Kind:
    key: str
    title: str  # the form's Chinese title
    for_group: bool  # the group's report (HQ) rather than one store's
    template: str
    gather: Callable[[Scope, int | None, Period], Awaitable[dict[str, Any]]]
    monthly: bool = True  # made by the monthly cron for every store (or the group), not only on request


def month_period(month: str) -> Period:
    """The month `2026-11` as a dashboard period (validated like the dashboard's)."""
    return parse_period("month", today=date.today(), month=month)


async def store_complaint_month(actor: Scope, store_id: int | None, period: Period) -> dict[str, Any]:
    """月份客户投诉处理统计月报表 (attachment 7): one store's month of complaints."""
    assert store_id is not None
    all_sums, complaints, header = await asyncio.gather(
        dashboard.store_sums(actor, [store_id], period.start, period.end), _month_complaints(actor, store_id, period),
        _header(actor, store_id, period))
    sums = all_sums.get(store_id, Sums({}))
    tables = [
        _table("投诉处理概况", ["指标", "本月"],
               [[METRICS[k].label_zh, display(METRICS[k].value(sums), METRICS[k].unit)] for k in STORE_SUMMARY]),
        _table("按投诉渠道", ["渠道", "投诉数"],
               [[METRICS[k].label_zh.removeprefix("投诉·"), display(METRICS[k].value(sums), METRICS[k].unit)]
                for k in CHANNEL_COLUMNS]),
        _breakdown("按原因分类", "原因", complaints, "cause_category", CAUSES),
        _breakdown("按责任部门", "责任部门", complaints, "cause_department", DEPARTMENTS),
        _breakdown("按处理状态", "状态", complaints, "state", {s.value: t for s, t in STATE_TITLES.items()}),
        _table("本月投诉明细", ["编号", "受理日期", "渠道", "投诉人", "车牌", "投诉内容", "原因", "责任部门", "有责", "状态",
                          "重开"],
               [[str(c["id"]), c["day"], _name(CHANNELS, c["channel"]), c["complainant_name"], c["plate"],
                 _short(c["content"]), _name(CAUSES, c["cause_category"]), _name(DEPARTMENTS, c["cause_department"]),
                 _name(LIABILITY, c["liability"]), _name({s.value: t for s, t in STATE_TITLES.items()}, c["state"]),
                 str(c["reopen_count"])] for c in complaints]),
    ]
    return {**header, "tables": tables, "charts": []}


async def group_comparison_month(actor: Scope, store_id: int | None, period: Period) -> dict[str, Any]:
    """集团门店对比月报 (HQ): the dashboard's store table for the month, manufacturer scores and mystery shopper,
    rankings, trends, major complaints."""
    first = period.start.replace(year=period.start.year - 1)
    table, group_targets, majors, header, *trends = await asyncio.gather(
        dashboard.store_table(actor=actor, period=period),
        callback_targets(group_id=actor.group_id or -1, store_id=None), _month_majors(actor, period),
        _header(actor, None, period),
        *(dashboard.trend(actor=actor, metric=key, scope="group", scope_id=None, by="month",
                          start=_next_month(first), end=period.end) for key in TRENDS))
    targets = {"callback_rate": group_targets.callback_rate, "satisfaction_rate": group_targets.satisfaction_rate}
    rows = sorted(table.rows, key=lambda r: r.store_code)
    below = [i for i, row in enumerate(rows) if _below_target(row.values, targets)]
    comparison = _table(
        "门店指标对比", ["门店", *(METRICS[k].label_zh for k in COMPARISON_COLUMNS)],
        [[row.store_name, *(display(row.values[k], METRICS[k].unit) for k in COMPARISON_COLUMNS)] for row in rows]
        + [["集团合计", *(display(table.total[k], METRICS[k].unit) for k in COMPARISON_COLUMNS)],
           ["集团平均", *(display(table.average[k], METRICS[k].unit) for k in COMPARISON_COLUMNS)]],
        highlight=below)
    rankings = []
    for key in RANKED:
        ranked = sorted((r for r in rows if r.ranks[key] is not None), key=lambda r: (r.ranks[key], r.store_code))
        rankings.append(_table(
            f"排名：{METRICS[key].label_zh}", ["名次", "门店", METRICS[key].label_zh],
            [[str(r.ranks[key]), r.store_name, display(r.values[key], METRICS[key].unit)] for r in ranked],
            highlight=[i for i, r in enumerate(ranked) if _below_target(r.values, targets)]))
    charts = [trend_svg(trend) for trend in trends]
    scores = _table(
        "厂家满意度与神秘客户（电访）", ["门店", *(METRICS[k].label_zh for k in SATISFACTION_COLUMNS)],
        [[row.store_name, *(display(row.values[k], METRICS[k].unit) for k in SATISFACTION_COLUMNS)] for row in rows]
        + [["集团平均", *(display(table.average[k], METRICS[k].unit) for k in SATISFACTION_COLUMNS)]])
    tables = [comparison, scores, *rankings, _table(
        "本月重大投诉", ["编号", "门店", "标记时间", "投诉内容", "报备状态"],
        [[str(m["complaint"]), m["store_name"], m["marked"], _short(m["content"]), m["report"]] for m in majors])]
    wanted = "；".join(f"{METRICS[k].label_zh}≥{v * 100:.0f}%" for k, v in targets.items())
    return {**header, "tables": tables, "charts": charts,
            "note": f"低于目标（{wanted}）的门店以底色标出。", "stores_below_target": len(below)}


async def store_cr_center_month(actor: Scope, store_id: int | None, period: Period) -> dict[str, Any]:
    """客户关系中心月报表 (attachment 9): a store's month of callbacks by kind, satisfaction, SSI/CSI, care calls,
    complaints and major complaints, the manufacturer's scores and the mystery-shopper audits."""
    assert store_id is not None
    all_sums, stats, header = await asyncio.gather(
        dashboard.store_sums(actor, [store_id], period.start, period.end),
        callback_statistics(actor=actor, store_id=store_id, period="month", day=period.start),
        _header(actor, store_id, period))
    sums = all_sums.get(store_id, Sums({}))
    tables = [
        _metric_table("回访与满意度", CR_CENTER_CALLBACKS, sums),
        _figures_table("按回访类型", stats.by_kind),
        _factors_table(stats.factors),
        _metric_table("投诉与重大投诉", CR_CENTER_COMPLAINTS, sums),
        _metric_table("厂家满意度（电访）与神秘客户", SATISFACTION_COLUMNS, sums),
    ]
    return {**header, "tables": tables, "charts": []}


async def store_sales_callbacks_month(actor: Scope, store_id: int | None, period: Period) -> dict[str, Any]:
    """新购车用户回访记录统计表 (attachment 3): the sales callbacks of a store's month and the SSI factors."""
    return await _callback_report(actor, store_id, period, SALES_KINDS, "ssi")


async def store_service_callbacks_month(actor: Scope, store_id: int | None, period: Period) -> dict[str, Any]:
    """维修用户回访记录统计表 (attachment 4): the service callbacks of a store's month and the CSI factors."""
    return await _callback_report(actor, store_id, period, SERVICE_KINDS, "csi")


KINDS: dict[str, Kind] = {
    "complaint_month": Kind("complaint_month", "月份客户投诉处理统计月报表", False, "complaint_month.html",
                            store_complaint_month),
    "group_comparison": Kind("group_comparison", "集团门店对比月报", True, "group_comparison.html",
                             group_comparison_month),
    "cr_center_month": Kind("cr_center_month", "客户关系中心月报表", False, "cr_center_month.html",
                            store_cr_center_month),
    "sales_callbacks_month": Kind("sales_callbacks_month", "新购车用户回访记录统计表", False, "callbacks_month.html",
                                  store_sales_callbacks_month, monthly=False),
    "service_callbacks_month": Kind("service_callbacks_month", "维修用户回访记录统计表", False, "callbacks_month.html",
                                    store_service_callbacks_month, monthly=False),
}
FIGURE_COLUMNS = (("planned", "应回访"), ("called", "已回访"), ("on_time", "及时"), ("reached", "接通"),
                  ("unreachable", "无法联系"), ("answered", "答满意度"), ("satisfied", "满意"))
FIGURE_RATES = (("callback_rate", "回访率"), ("on_time_rate", "及时率"), ("reach_rate", "接通率"),
                ("satisfaction_rate", "满意率"))


# ---------------------------------------------------------------- helpers


def _table(title: str, columns: list[str], rows: list[list[str]], *, highlight: list[int] | None = None) -> dict:
    return {"title": title, "columns": columns, "rows": rows, "highlight": highlight or []}


def _breakdown(title: str, header: str, complaints: list[dict], column: str,
               names: dict[str, tuple[str, str]]) -> dict:
    counts = Counter(c[column] for c in complaints)
    rows = [[zh, str(counts[code])] for code, (zh, _en) in names.items() if counts[code]]
    if counts[""]:
        rows.append(["未判定", str(counts[""])])
    return _table(title, [header, "投诉数"], rows)


def _name(names: dict, code: str) -> str:
    return names[code][0] if code in names else ("—" if not code else code)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _below_target(values: dict[str, float | None], targets: dict[str, float]) -> bool:
    return any(values.get(k) is not None and values[k] < target for k, target in targets.items())


def _metric_table(title: str, keys: tuple[str, ...], sums: Sums) -> dict:
    return _table(title, ["指标", "本月"],
                  [[METRICS[k].label_zh, display(METRICS[k].value(sums), METRICS[k].unit)] for k in keys])


def _figures_table(title: str, by_kind: dict[str, Figures]) -> dict:
    """Callback statistics per kind (crm.callbacks.statistics: the counting rules of attachments 3 and 4)."""
    rows = []
    for kind, figures in by_kind.items():
        label = DEFAULT_RULES[kind].label_zh if kind in DEFAULT_RULES else kind
        rows.append([label, *(str(getattr(figures, k)) for k, _ in FIGURE_COLUMNS),
                     *(display(getattr(figures, k), "percent") for k, _ in FIGURE_RATES)])
    return _table(title, ["回访类型", *(t for _, t in FIGURE_COLUMNS), *(t for _, t in FIGURE_RATES)], rows)


def _factors_table(factors, survey: str | None = None) -> dict:
    rows = [[f.survey.upper(), f.label_zh, display(f.average, "score"), str(f.answers)] for f in factors
            if survey is None or f.survey == survey]
    return _table("满意度因子均分", ["问卷", "因子", "均分", "答题数"], rows)


async def _callback_report(actor: Scope, store_id: int | None, period: Period, kinds: frozenset[str],
                           survey: str) -> dict[str, Any]:
    assert store_id is not None
    stats = await callback_statistics(actor=actor, store_id=store_id, period="month", day=period.start)
    total = stats.sales if survey == "ssi" else stats.service
    tables = [
        _figures_table("本月合计", {"合计": total}),
        _figures_table("按回访类型", {k: v for k, v in stats.by_kind.items() if k in kinds}),
        _factors_table(stats.factors, survey),
    ]
    return {**await _header(actor, store_id, period), "tables": tables, "charts": []}


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


async def _bounds(actor: Scope, period: Period) -> tuple[datetime, datetime, Any]:
    zone = await timezone_of(group=actor.group_id or -1)
    return (datetime.combine(period.start, time(0), tzinfo=zone), datetime.combine(period.end, time(0), tzinfo=zone),
            zone)


async def _month_complaints(actor: Scope, store_id: int, period: Period) -> list[dict]:
    """The store's complaints received in the month, not voided (the same set the complaint count counts)."""
    start, end, zone = await _bounds(actor, period)
    rows = await actor.filter(Complaint.select(
        Complaint.id, Complaint.received_at, Complaint.channel, Complaint.complainant_name, Complaint.plate,
        Complaint.content, Complaint.cause_category, Complaint.cause_department, Complaint.liability,
        Complaint.state, Complaint.reopen_count), Complaint).where(
        Complaint.store == store_id, Complaint.received_at >= start, Complaint.received_at < end,
        Complaint.state != State.VOIDED.value).order_by(Complaint.received_at)
    return [{**row, "day": row["received_at"].astimezone(zone).strftime("%m-%d")} for row in rows]


async def _month_majors(actor: Scope, period: Period) -> list[dict]:
    start, end, zone = await _bounds(actor, period)
    rows = await actor.filter(MajorComplaint.select(
        MajorComplaint.complaint, MajorComplaint.marked_at, MajorComplaint.report_status,
        MajorComplaint.report_overdue, MajorComplaint.store.name.as_alias("store_name"),
        MajorComplaint.complaint.content.as_alias("content")), MajorComplaint).where(
        MajorComplaint.marked_at >= start, MajorComplaint.marked_at < end).order_by(MajorComplaint.marked_at)
    status = {"missing": "未报备", "filed": "已报备", "forwarded": "已转报"}
    return [{**row, "marked": row["marked_at"].astimezone(zone).strftime("%m-%d %H:%M"),
             "report": status.get(row["report_status"], row["report_status"]) + ("（逾期）" if row["report_overdue"]
                                                                                 else "")} for row in rows]


async def _header(actor: Scope, store_id: int | None, period: Period) -> dict[str, Any]:
    group = await DealerGroup.select(DealerGroup.name).where(DealerGroup.id == (actor.group_id or -1)).first()
    store = None
    if store_id is not None:
        store = await Store.select(Store.name).where(Store.id == actor.require_store(store_id)).first()
    return {"group_name": (group or {}).get("name", ""), "store_name": (store or {}).get("name", ""),
            "period": f"{period.start.year}年{period.start.month}月", "month": period.label}
