"""The group dashboard (集团门店对比): one row per store, group total, group average, ranks; and trends.

Read from the rollups only (never raw history), through the caller's scope. "Overdue now" is the one
live figure: it is a state, not history, so it is counted from the open items at the moment of asking.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum
from piccolo.querystring import QueryString

from crm import clock
from crm.analytics.access import View, other_stores_named, view_for
from crm.analytics.metrics import (
    CHANNEL_COLUMNS,
    METRICS,
    TABLE_COLUMNS,
    Metric,
    Sums,
    Unit,
    merge,
)
from crm.analytics.periods import Period, months, parse_period, weeks
from crm.analytics.rollups import COUNT_COLUMNS
from crm.analytics.tables import RollupVersion, StoreDay, StoreDayResolution
from crm.callbacks.tables import Callback
from crm.complaints.tables import Complaint
from crm.complaints.workflow import FINAL_STATES
from crm.major.tables import MajorComplaint
from crm.satisfaction.figures import satisfaction_counts
from tenants.errors import Forbidden, InvalidInput, NotFound
from tenants.scope import Scope, timezone_of
from tenants.tables import Store

LIVE_COLUMN = "overdue_now"
SORTABLE = ("store", *TABLE_COLUMNS, *CHANNEL_COLUMNS, LIVE_COLUMN)


@dataclass
class Column:
    key: str
    label_zh: str
    label_en: str
    unit: str
    formula: str
    higher_is_better: bool
    drill: str


@dataclass
class StoreRow:
    store_id: int
    store_name: str
    store_code: str
    division_id: int | None
    division_name: str
    region_id: int | None
    region_name: str
    values: dict[str, float | None]
    ranks: dict[str, int | None]
    own: bool  # a store of the caller's scope: its numbers open the items behind them


@dataclass
class StoreTable:
    view: str
    period_kind: str
    period_label: str
    start: date
    end: date  # exclusive
    division_id: int | None
    region_id: int | None
    sort: str
    descending: bool
    columns: list[Column]
    rows: list[StoreRow]
    total: dict[str, float | None]
    average: dict[str, float | None]
    compared_stores: int  # how many stores the ranks are among
    others_named: bool  # the rows include other stores by name (store view: when the group admin allows it)
    generated_at: datetime
    divisions: list[dict[str, Any]] = field(default_factory=list)
    regions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TrendPoint:
    label: str
    start: date
    end: date
    value: float | None


@dataclass
class Trend:
    metric: str
    label_zh: str
    label_en: str
    unit: str
    formula: str
    scope: str
    scope_id: int | None
    scope_name: str
    by: str
    points: list[TrendPoint]


def _overdue_now(s: Sums) -> float | None:
    """Items past their deadline at the moment of asking (live, not historical): open complaints whose running
    deadline has passed, phone callbacks in the queue past their deadline, and major complaints whose
    early-warning report is missing past its due time."""
    return s.overdue_now


OVERDUE_NOW = Metric(LIVE_COLUMN, "当前逾期事项", "Overdue now", Unit.COUNT, _overdue_now, LIVE_COLUMN,
                     higher_is_better=False)


def columns() -> list[Metric]:
    return [METRICS[key] for key in TABLE_COLUMNS] + [OVERDUE_NOW]


async def store_table(
    *, actor: Scope, period: Period | None = None, division_id: int | None = None, region_id: int | None = None,
    sort: str = "store", descending: bool = False,
) -> StoreTable:
    """One row per store the caller may compare, with the group's total, average and each store's rank."""
    view = view_for(actor)
    if sort not in SORTABLE:
        raise InvalidInput.one("sort", "无法按此列排序", "Unknown sort column")
    period = period or parse_period("month", today=await today_for(actor))
    stores = await _stores(actor)
    divisions, regions = _named(stores, "division"), _named(stores, "region")
    if division_id is not None and division_id not in {d["id"] for d in divisions}:
        raise NotFound("brand_division")
    if region_id is not None and region_id not in {r["id"] for r in regions}:
        raise NotFound("region")
    others_named = await other_stores_named(actor)
    if view == View.STORE:
        compared = await _group_store_ids(actor)
        shown_ids = compared if others_named else [actor.home_store_id]
        if others_named:
            stores = await _stores(actor, group_wide=True)
    else:
        shown_ids = [s["id"] for s in stores if (division_id is None or s["division"] == division_id)
                     and (region_id is None or s["region"] == region_id)]
        compared = shown_ids
    all_metrics = [*columns(), *(METRICS[k] for k in CHANNEL_COLUMNS)]
    figures = await rollup_figures(actor, compared, period.start, period.end)
    live = await overdue_now(actor, compared)
    values = {sid: {**figures.values[sid], LIVE_COLUMN: live.get(sid, 0)} for sid in compared}
    total = {**figures.total, LIVE_COLUMN: sum(live.values())}
    ranks = _ranks(values, all_metrics)
    by_id = {s["id"]: s for s in stores}
    rows = [
        StoreRow(store_id=sid, store_name=by_id[sid]["name"], store_code=by_id[sid]["code"],
                 division_id=by_id[sid]["division"], division_name=by_id[sid]["division.name"] or "",
                 region_id=by_id[sid]["region"], region_name=by_id[sid]["region.name"] or "",
                 values=values[sid], ranks=ranks[sid], own=sid in actor.store_ids)
        for sid in shown_ids
    ]
    if sort == "store":
        rows.sort(key=lambda row: row.store_code, reverse=descending)
    else:
        rows.sort(key=_sort_key(sort, descending))
    return StoreTable(
        view=str(view), period_kind=period.kind, period_label=period.label, start=period.start, end=period.end,
        division_id=division_id, region_id=region_id, sort=sort, descending=descending,
        columns=[_column(m) for m in all_metrics], rows=rows,
        total=total,
        average={m.key: _mean(values[sid][m.key] for sid in compared) for m in all_metrics},
        compared_stores=len(compared), others_named=others_named, generated_at=clock.now(),
        divisions=divisions if view == View.GROUP else [], regions=regions if view == View.GROUP else [],
    )


async def trend(*, actor: Scope, metric: str, scope: str, scope_id: int | None, by: str, start: date,
                end: date) -> Trend:
    """One metric by week or month for a store, a brand division or the group (all its stores: the
    reference every dashboard reader may compare against)."""
    view = view_for(actor)
    if metric not in METRICS:
        raise InvalidInput.one("metric", "指标不存在", "Unknown metric")
    if by not in ("week", "month"):
        raise InvalidInput.one("by", "趋势须按周或按月", "by must be week or month")
    if scope == "store":
        if scope_id is None:
            raise InvalidInput.one("id", "须给出门店", "id (the store) is required")
        store_ids = [actor.require_store(scope_id)]
        name = (await Store.select(Store.name).where(Store.id == scope_id).first() or {}).get("name", "")
    elif scope == "division":
        if view != View.GROUP:
            raise Forbidden()
        if scope_id is None:
            raise InvalidInput.one("id", "须给出品牌事业部", "id (the brand division) is required")
        stores = [s for s in await _stores(actor) if s["division"] == scope_id]
        if not stores:
            raise NotFound("brand_division")
        store_ids, name = [s["id"] for s in stores], stores[0]["division.name"]
    elif scope == "group":
        store_ids, name = await _group_store_ids(actor), "集团"
    else:
        raise InvalidInput.one("scope", "范围须为 store、division 或 group", "scope must be store, division or group")
    buckets = weeks(start, end) if by == "week" else months(start, end)
    daily = await _daily_sums(actor, store_ids, buckets[0].start, buckets[-1].end)
    definition = METRICS[metric]
    points = []
    for bucket in buckets:
        parts = [part for day, part in daily.items() if bucket.start <= day < bucket.end]
        if definition.subject == "satisfaction":  # imported and recorded figures, not in the daily rollups
            counts = await satisfaction_counts(_scoped(actor, store_ids), store_ids, bucket.start, bucket.end)
            parts = [Sums(dict(c)) for c in counts.values()]
        points.append(TrendPoint(bucket.label, bucket.start, bucket.end, definition.value(merge(parts))))
    return Trend(metric=metric, label_zh=definition.label_zh, label_en=definition.label_en,
                 unit=str(definition.unit), formula=definition.formula, scope=scope, scope_id=scope_id,
                 scope_name=name, by=by, points=points)


async def today_for(actor: Scope) -> date:
    """Today in the caller's group's timezone (the dashboard's periods are the group's days)."""
    return clock.now().astimezone(await timezone_of(group=actor.group_id)).date()


@dataclass
class Figures:
    """Every rollup metric (not the live one) per store, and of the stores together, for one period."""

    values: dict[int, dict[str, float | None]]
    total: dict[str, float | None]


_FIGURES: OrderedDict[tuple, tuple[tuple, Figures]] = OrderedDict()
FIGURES_KEPT = 64  # periods × store sets kept per process


async def rollup_figures(actor: Scope, store_ids: list[int], start: date, end: date) -> Figures:
    """The stores' rollup metrics over [start, end), computed once per version of the period's rollups: while no
    store-day of the period's months is recomputed, a repeated dashboard costs a version lookup and the live
    count (the version is read before the rollups, so a change made meanwhile is never kept as current)."""
    key = (actor.group_id, tuple(store_ids), start, end)
    version = await rollup_versions(actor.group_id, start, end)
    # The manufacturer's survey counts are not rollups: read each time, part of what the figures are kept by.
    surveys = await satisfaction_counts(_scoped(actor, store_ids), store_ids, start, end) if store_ids else {}
    version = (version, tuple(sorted((sid, tuple(sorted(c.items()))) for sid, c in surveys.items() if c)))
    kept = _FIGURES.get(key)
    if kept is not None and kept[0] == version:
        _FIGURES.move_to_end(key)
        return kept[1]
    sums = await _rollup_sums(actor, store_ids, start, end)
    for store_id, counts in surveys.items():
        if counts:
            part = _part(sums, store_id)
            part.columns = {**part.columns, **counts}
    metrics = [m for m in (*columns(), *(METRICS[k] for k in CHANNEL_COLUMNS)) if m.key != LIVE_COLUMN]
    values = {}
    for store_id in store_ids:
        part = sums.get(store_id) or Sums({})
        values[store_id] = {m.key: m.value(part) for m in metrics}
    merged = merge(sums.get(sid) or Sums({}) for sid in store_ids)
    figures = Figures(values=values, total={m.key: m.value(merged) for m in metrics})
    _FIGURES[key] = (version, figures)
    while len(_FIGURES) > FIGURES_KEPT:
        _FIGURES.popitem(last=False)
    return figures


async def rollup_versions(group_id: int | None, start: date, end: date) -> tuple:
    """The versions of the group's rollups for the months overlapping [start, end) (`rollups._new_versions`)."""
    rows = await Scope.system(group_id).select(RollupVersion, RollupVersion.month, RollupVersion.version).where(
        RollupVersion.month >= start.replace(day=1), RollupVersion.month < end).order_by(RollupVersion.month)
    return tuple((row["month"], row["version"]) for row in rows)


async def store_sums(actor: Scope, store_ids: list[int], start: date, end: date) -> dict[int, Sums]:
    """Summed rollups per store over [start, end), with the resolution histogram and the live overdue count."""
    if not store_ids:
        return {}
    sums = await _rollup_sums(actor, store_ids, start, end)
    for store_id, n in (await overdue_now(actor, store_ids)).items():
        part = sums.setdefault(store_id, Sums({}))
        part.columns = {**part.columns, LIVE_COLUMN: n}
    for store_id, counts in (await satisfaction_counts(_scoped(actor, store_ids), store_ids, start, end)).items():
        if counts:
            part = sums.setdefault(store_id, Sums({}))
            part.columns = {**part.columns, **counts}
    return sums


async def _rollup_sums(actor: Scope, store_ids: list[int], start: date, end: date) -> dict[int, Sums]:
    if not store_ids:
        return {}
    scope = _scoped(actor, store_ids)
    days = scope.select(StoreDay, StoreDay.store, *(Sum(getattr(StoreDay, c), alias=c) for c in COUNT_COLUMNS)).where(
        StoreDay.day >= start, StoreDay.day < end)
    rows = await _only(scope, store_ids, days, StoreDay).group_by(StoreDay.store)
    sums = {row["store"]: Sums({c: int(row[c] or 0) for c in COUNT_COLUMNS}) for row in rows}
    histogram = _histogram_lists(scope, StoreDayResolution.store).where(
        StoreDayResolution.day >= start, StoreDayResolution.day < end)
    _add_histograms(sums, await _only(scope, store_ids, histogram, StoreDayResolution), "store")
    return sums


def _histogram_lists(scope: Scope, key: Any) -> Any:
    """The resolution histogram rows grouped by `key`, each group as two lists (minutes, complaints): a year of
    200 stores is ~85,000 histogram rows, which as one row each cost more to fetch and convert than every other
    dashboard query together; as lists they are one row per key, decoded by the driver."""
    return scope.select(StoreDayResolution, key, _listed(StoreDayResolution.minutes, "minutes"),
                        _listed(StoreDayResolution.complaints, "n")).group_by(key)


def _listed(column: Any, alias: str) -> QueryString:
    """An aggregate collecting the column's values into a list (PostgreSQL array; SQLite JSON array)."""
    function = "json_group_array" if column._meta.engine_type == "sqlite" else "array_agg"
    return QueryString(f"{function}({{}})", column, alias=alias)


def _add_histograms(sums: dict, rows: list[dict[str, Any]], key: str) -> None:
    """Adds each row's (minutes, complaints) lists to the resolution histogram of the row's key."""
    for row in rows:
        minutes, counts = row["minutes"], row["n"]
        if isinstance(minutes, str):  # SQLite's JSON array
            minutes, counts = json.loads(minutes), json.loads(counts)
        histogram = _part(sums, row[key]).resolution_minutes
        for value, n in zip(minutes, counts):
            histogram[value] += n


def _part(sums: dict, key: Any) -> Sums:
    """The Sums of `key`, made when first needed (not once per histogram row)."""
    part = sums.get(key)
    if part is None:
        part = sums[key] = Sums({})
    return part


def _only(scope: Scope, store_ids: list[int], query: Any, table: Any) -> Any:
    """`query` kept to `store_ids`; when they are the scope's own stores, the scope's condition already does it
    (no second list of the same ids)."""
    if scope.whole_group or set(store_ids) != scope.store_ids:
        return query.where(table.store.is_in(store_ids))
    return query


async def overdue_now(actor: Scope, store_ids: list[int]) -> dict[int, int]:
    """Open items past their deadline right now, per store (the live column)."""
    if not store_ids:
        return {}
    now = clock.now()
    counts: Counter = Counter()
    scope = _scoped(actor, store_ids)
    complaints = scope.select(Complaint, Complaint.store, Count(Complaint.id, alias="n")).where(
        Complaint.due_at < now, Complaint.state.not_in([str(s) for s in FINAL_STATES]))
    callbacks = scope.select(Callback, Callback.store, Count(Callback.id, alias="n")).where(
        Callback.state == "due", Callback.channel == "phone", Callback.deadline_at < now)
    majors = scope.select(MajorComplaint, MajorComplaint.store, Count(MajorComplaint.id, alias="n")).where(
        MajorComplaint.report_status == "missing", MajorComplaint.report_due_at < now,
        MajorComplaint.closed_at.is_null())
    for query, table in ((complaints, Complaint), (callbacks, Callback), (majors, MajorComplaint)):
        for row in await _only(scope, store_ids, query, table).group_by(table.store):
            counts[row["store"]] += row["n"]
    return dict(counts)


def _scoped(actor: Scope, store_ids: list[int]) -> Scope:
    """The caller's scope for its own stores; for other stores of the group (the reference figures a store
    role compares against, shown without names, see _group_store_ids) the caller's group."""
    return actor if set(store_ids) <= actor.store_ids else actor.group_wide()


async def _daily_sums(actor: Scope, store_ids: list[int], start: date, end: date) -> dict[date, Sums]:
    scope = _scoped(actor, store_ids)
    rows = await scope.select(StoreDay, StoreDay.day, *(Sum(getattr(StoreDay, c), alias=c) for c in COUNT_COLUMNS)).where(
        StoreDay.store.is_in(store_ids), StoreDay.day >= start, StoreDay.day < end).group_by(StoreDay.day)
    daily = {row["day"]: Sums({c: int(row[c] or 0) for c in COUNT_COLUMNS}) for row in rows}
    _add_histograms(daily, await _histogram_lists(scope, StoreDayResolution.day).where(
        StoreDayResolution.store.is_in(store_ids), StoreDayResolution.day >= start, StoreDayResolution.day < end), "day")
    return daily


async def _stores(actor: Scope, *, group_wide: bool = False) -> list[dict[str, Any]]:
    """The stores the caller may see (or, `group_wide`, every store of its group), with division and region
    names."""
    query = Store.select(
        Store.id, Store.name, Store.code, Store.brand_division.as_alias("division"),
        Store.brand_division.name.as_alias("division.name"), Store.region,
        Store.region.name.as_alias("region.name"),
    ).where(Store.group == (actor.group_id or -1))
    if not group_wide:
        query = query.where(Store.id.is_in(sorted(actor.store_ids) or [-1]))
    return await query.order_by(Store.code)


async def _group_store_ids(actor: Scope) -> list[int]:
    """Every active store of the caller's group: the reference figures are the group's."""
    rows = await Store.select(Store.id).where(Store.group == (actor.group_id or -1), Store.active.eq(True))
    return sorted({row["id"] for row in rows} | set(actor.store_ids))


def _named(stores: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    seen = {s[kind]: s[f"{kind}.name"] for s in stores if s[kind] is not None}
    return [{"id": k, "name": v} for k, v in sorted(seen.items(), key=lambda kv: kv[1] or "")]


def _ranks(values: dict[int, dict[str, float | None]], metrics: list[Metric]) -> dict[int, dict[str, int | None]]:
    """Competition ranking (1, 2, 2, 4) per column, best first; stores without a value have no rank."""
    ranks: dict[int, dict[str, int | None]] = defaultdict(dict)
    for m in metrics:
        ordered = sorted((v[m.key] for v in values.values() if v[m.key] is not None), reverse=m.higher_is_better)
        first: dict[float, int] = {}
        for position, value in enumerate(ordered, start=1):
            first.setdefault(value, position)
        for sid, v in values.items():
            ranks[sid][m.key] = None if v[m.key] is None else first[v[m.key]]
    return ranks


def _sort_key(sort: str, descending: bool):
    def key(row: StoreRow):
        value = row.values.get(sort)
        if value is None:
            return (1, 0, row.store_code)  # no figure: always last
        return (0, -value if descending else value, row.store_code)

    return key


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _column(m: Metric) -> Column:
    return Column(key=m.key, label_zh=m.label_zh, label_en=m.label_en, unit=str(m.unit), formula=m.formula,
                  higher_is_better=m.higher_is_better, drill=m.drill)
