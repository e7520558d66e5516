"""How one store-day is counted from raw rows — the one place — and how the rollups are kept current.

A store-day is always recomputed whole from the raw rows (never incremented), so an edit, a reopening,
a re-routing or a deletion can never leave a rollup wrong: `refresh` recomputes the store-days the
triggers queued in `analytics_dirty`; `rebuild` recomputes every day of a range (`dealerdesk rollups
rebuild`). What each column counts is decided by the `*_counts` functions below; the dashboard's
metrics (`crm.analytics.metrics`) only sum and divide those columns.

Anchors (which local day a row belongs to, in the group's timezone): a complaint and everything about
it (deadlines, major mark, resolution, reopenings) belongs to the day it was received; a callback and
its survey scores to the day it was due (as in the callback statistics of attachments 3 and 4); a
service visit to the day the customer left.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import structlog

from crm import clock
from crm.analytics.tables import (
    RollupDirty,
    RollupVersion,
    StoreDay,
    StoreDayResolution,
)
from crm.calendar.service import BusinessCalendar, calendar_for_store
from crm.callbacks.surveys import SATISFIED_LEVELS
from crm.callbacks.tables import Callback, CallbackScore
from crm.complaints.tables import Complaint, ComplaintDeadlineMiss
from crm.customers.tables import ServiceVisit
from crm.db import transaction
from crm.major.tables import MajorComplaint
from tenants.scope import Scope, timezone_of
from tenants.tables import Store

log = structlog.get_logger()

# A deadline kind of crm.complaints.deadlines → the complaint column saying the step was done.
# When each deadline's step counts as done: accepted; handling complete (resolved); the result report
# reached the CR department (submitted, or already checked); the result fed back to the group.
STEP_DONE: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "accept": lambda c: c["accepted_at"] is not None,
    "handle": lambda c: c["resolved_at"] is not None,
    "report": lambda c: c["report_state"] in ("submitted", "accepted"),
    "feedback": lambda c: c["fed_back_at"] is not None,
}
COUNT_COLUMNS = tuple(
    c._meta.name for c in StoreDay._meta.columns if c._meta.name not in ("id", "group", "store", "day", "computed_at")
)
# Recomputing a long range reads its raw rows in slices of this many days.
_SLICE_DAYS = 92


def complaint_counts(complaint: Mapping[str, Any], missed: set[str], major: Mapping[str, Any] | None) -> Counter:
    """What one complaint adds to the day it was received. Voided complaints (a successful appeal) count nothing.

    A deadline is *due* once its step was done or its deadline was missed (a miss is recorded once per
    kind and handling cycle by the timers); it is *on time* when the step is done and no miss of that kind
    was ever recorded for the complaint.
    """
    counts: Counter = Counter()
    if complaint["state"] == "voided":
        return counts
    counts["complaints"] += 1
    counts[f"complaints_{complaint['channel']}"] += 1
    for kind, is_done in STEP_DONE.items():
        done = is_done(complaint)
        if done or kind in missed:
            counts[f"{kind}_due"] += 1
            counts[f"{kind}_on_time"] += done and kind not in missed
    resolved_once = complaint["resolved_at"] is not None or complaint["reopen_count"] > 0
    counts["resolved"] += complaint["resolved_at"] is not None
    counts["resolved_once"] += resolved_once
    counts["reopened"] += complaint["reopen_count"] > 0
    counts["liable"] += complaint["liability"] == "liable"
    if major is not None:
        counts["major_complaints"] += 1
        filed = major["report_filed_at"]
        if filed is not None or major["report_overdue"]:
            counts["major_report_due"] += 1
            counts["major_report_on_time"] += filed is not None and filed <= major["report_due_at"]
    return counts


def callback_counts(callback: Mapping[str, Any]) -> Counter:
    """What one phone callback adds to the day it was due (the rules of crm.callbacks.statistics):
    due = not cancelled and not skipped as do-not-call; done = at least one call made; on time = first call
    by the deadline; unreachable = given up after the retries; answered = the overall satisfaction was answered
    (any of the five levels), satisfied = answered 非常满意 or 满意 (crm.callbacks.surveys.SATISFIED_LEVELS)."""
    counts: Counter = Counter()
    if callback["channel"] != "phone" or callback["state"] in ("cancelled", "skipped"):
        return counts
    counts["callbacks_due"] += 1
    if callback["attempts"] > 0:
        counts["callbacks_done"] += 1
        first = callback["first_attempt_at"]
        counts["callbacks_on_time"] += first is not None and first <= callback["deadline_at"]
    counts["callbacks_unreachable"] += callback["state"] == "unreachable"
    if callback["satisfaction"] is not None:
        counts["callbacks_answered"] += 1
        counts["callbacks_satisfied"] += callback["satisfaction"] in SATISFIED_LEVELS
    return counts


def score_counts(score: Mapping[str, Any]) -> Counter:
    """One factor score (1–10) of an SSI or CSI survey; a factor answered "not applicable" has no score."""
    if score["score"] is None or score["survey"] not in ("ssi", "csi"):
        return Counter()
    return Counter({f"{score['survey']}_score_sum": score["score"], f"{score['survey']}_scores": 1})


def visit_counts(visit: Mapping[str, Any]) -> Counter:
    """A service visit (维修/保养) whose customer left that day; cancelled visits count nothing."""
    return Counter() if visit["cancelled_at"] is not None else Counter({"service_visits": 1})


def working_minutes(calendar: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Opening minutes of working days between two instants (the store's calendar), rounded down."""
    if end <= start:
        return 0
    local_start, local_end = calendar.local(start), calendar.local(end)
    total = timedelta()
    day = local_start.date()
    while day <= local_end.date():
        if calendar.is_working_day(day):
            opens = datetime.combine(day, calendar.open_time, tzinfo=calendar.tz)
            closes = datetime.combine(day, calendar.close_time, tzinfo=calendar.tz)
            overlap = min(closes, local_end) - max(opens, local_start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


# ---------------------------------------------------------------- recomputing


async def recompute(store_id: int, days: Iterable[date]) -> int:
    """Recompute the rollups of one store for the given local days from raw rows; returns rows written."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    store = await Store.select(Store.id, Store.group).where(Store.id == store_id).first()
    if store is None:
        return 0
    zone = await timezone_of(group=store["group"])
    calendar = await calendar_for_store(store_id)
    written = 0
    for start, end in _slices(wanted):
        written += await _recompute_slice(store["group"], store_id, zone, calendar,
                                          {d for d in wanted if start <= d < end}, start, end)
    return written


async def refresh(limit: int = 20_000) -> dict[str, int]:
    """Recompute the store-days queued by the triggers, then drop those queue rows (one transaction)."""
    async with transaction():
        queued = await RollupDirty.select(RollupDirty.id, RollupDirty.store_id, RollupDirty.at).order_by(
            RollupDirty.id).limit(limit)
        if not queued:
            return {"store_days": 0}
        zones = await _store_zones({row["store_id"] for row in queued})
        touched: dict[int, set[date]] = defaultdict(set)
        for row in queued:
            if row["at"] is not None and row["store_id"] in zones:
                touched[row["store_id"]].add(row["at"].astimezone(zones[row["store_id"]]).date())
        for store_id, days in touched.items():
            await recompute(store_id, days)
        await RollupDirty.delete().where(RollupDirty.id <= queued[-1]["id"])
    return {"store_days": sum(len(days) for days in touched.values()), "queued": len(queued)}


async def rebuild(*, start: date, end: date, group_id: int | None = None) -> dict[str, int]:
    """Recompute every store-day from `start` to `end` (inclusive) for one group or all groups."""
    query = Store.select(Store.id).order_by(Store.id)
    if group_id is not None:
        query = query.where(Store.group == group_id)
    stores = [row["id"] for row in await query]
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    rows = 0
    for store_id in stores:
        async with transaction():
            rows += await recompute(store_id, days)
    return {"stores": len(stores), "days": len(days), "rows": rows}


def _slices(days: list[date]) -> list[tuple[date, date]]:
    """[start, end) ranges covering `days`, split at gaps and at `_SLICE_DAYS`, so raw reads stay small."""
    slices: list[tuple[date, date]] = []
    start = previous = days[0]
    for day in days[1:]:
        if (day - previous).days > 7 or (day - start).days >= _SLICE_DAYS:
            slices.append((start, previous + timedelta(days=1)))
            start = day
        previous = day
    slices.append((start, previous + timedelta(days=1)))
    return slices


async def _recompute_slice(group_id: int, store_id: int, zone: ZoneInfo, calendar: BusinessCalendar,
                           days: set[date], start: date, end: date) -> int:
    lo = datetime.combine(start, time(0), tzinfo=zone).astimezone(timezone.utc)
    hi = datetime.combine(end, time(0), tzinfo=zone).astimezone(timezone.utc)
    counts: dict[date, Counter] = defaultdict(Counter)
    resolutions: dict[date, Counter] = defaultdict(Counter)

    def local_day(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    store = Scope.system(group_id, store_id)

    for row in await raw_complaints(store, lo, hi):
        day = local_day(row["received_at"])
        counts[day] += complaint_counts(row, row["missed"], row["major"])
        if row["state"] != "voided" and row["resolved_at"] is not None:
            resolutions[day][working_minutes(calendar, row["received_at"], row["resolved_at"])] += 1
    for row in await raw_callbacks(store, lo, hi):
        counts[local_day(row["due_at"])] += callback_counts(row)
    for row in await raw_scores(store, lo, hi):
        counts[local_day(row["due_at"])] += score_counts(row)
    for row in await raw_visits(store, lo, hi):
        counts[local_day(row["left_at"])] += visit_counts(row)

    await store.delete(StoreDay).where(StoreDay.day.is_in(sorted(days)))
    await store.delete(StoreDayResolution).where(StoreDayResolution.day.is_in(sorted(days)))
    now = clock.now()
    day_rows = [
        StoreDay(group=group_id, store=store_id, day=day, computed_at=now,
                 **{column: counts[day][column] for column in COUNT_COLUMNS})
        for day in sorted(days) if +counts[day]
    ]
    resolution_rows = [
        StoreDayResolution(group=group_id, store=store_id, day=day, minutes=minutes, complaints=n)
        for day in sorted(days) for minutes, n in sorted(resolutions[day].items())
    ]
    if day_rows:
        await StoreDay.insert(*day_rows)
    if resolution_rows:
        await StoreDayResolution.insert(*resolution_rows)
    await _new_versions(group_id, {day.replace(day=1) for day in days})
    return len(day_rows)


async def _new_versions(group_id: int, months: set[date]) -> None:
    """Mark the group's rollups of these months changed (in the recomputing transaction): figures the dashboard
    kept for a period overlapping them are computed again (`crm.analytics.dashboard.rollup_versions`)."""
    rows = [RollupVersion(group=group_id, month=month, version=uuid4().hex) for month in sorted(months)]
    await RollupVersion.insert(*rows).on_conflict(
        target=(RollupVersion.group, RollupVersion.month), action="DO UPDATE", values=[RollupVersion.version])


# ---------------------------------------------------------------- raw rows (also read by the drill-down lists)


async def raw_complaints(store: Scope, lo: datetime, hi: datetime, *, ids: list[int] | None = None) -> list[dict]:
    """A store's complaints received in [lo, hi), each with its missed deadline kinds and its major mark.

    `store` is the scope of one store: the system job's, or the store a caller's scope allows.
    """
    query = store.select(
        Complaint, Complaint.id, Complaint.store, Complaint.channel, Complaint.state, Complaint.received_at,
        Complaint.accepted_at, Complaint.handled_at, Complaint.resolved_at, Complaint.fed_back_at, Complaint.report_state,
        Complaint.reopen_count, Complaint.liability, Complaint.complainant_name, Complaint.due_at,
    ).where(Complaint.received_at >= lo, Complaint.received_at < hi)
    if ids is not None:
        query = query.where(Complaint.id.is_in(ids or [-1]))
    complaints = await query.order_by(Complaint.received_at)
    if not complaints:
        return []
    complaint_ids = [c["id"] for c in complaints]
    missed: dict[int, set[str]] = defaultdict(set)
    in_group = store.group_wide()  # a re-routed complaint's misses keep their old store
    for miss in await in_group.select(ComplaintDeadlineMiss, ComplaintDeadlineMiss.complaint, ComplaintDeadlineMiss.kind).where(
            ComplaintDeadlineMiss.complaint.is_in(complaint_ids)):
        missed[miss["complaint"]].add(miss["kind"])
    majors = {m["complaint"]: m for m in await in_group.select(
        MajorComplaint, MajorComplaint.id, MajorComplaint.complaint, MajorComplaint.report_filed_at, MajorComplaint.report_due_at,
        MajorComplaint.report_overdue,
    ).where(MajorComplaint.complaint.is_in(complaint_ids))}
    for c in complaints:
        c["missed"] = missed.get(c["id"], set())
        c["major"] = majors.get(c["id"])
    return complaints


async def raw_callbacks(store: Scope, lo: datetime, hi: datetime) -> list[dict]:
    return await store.select(
        Callback, Callback.id, Callback.kind, Callback.channel, Callback.state, Callback.attempts, Callback.first_attempt_at,
        Callback.deadline_at, Callback.due_at, Callback.satisfaction, Callback.customer.name, Callback.outcome,
    ).where(Callback.due_at >= lo, Callback.due_at < hi).order_by(Callback.due_at)


async def raw_scores(store: Scope, lo: datetime, hi: datetime) -> list[dict]:
    return await store.select(
        CallbackScore, CallbackScore.callback, CallbackScore.survey, CallbackScore.score,
        CallbackScore.callback.due_at.as_alias("due_at"),
    ).where(CallbackScore.callback.due_at >= lo,
            CallbackScore.callback.due_at < hi)


async def raw_visits(store: Scope, lo: datetime, hi: datetime) -> list[dict]:
    return await store.select(
        ServiceVisit, ServiceVisit.id, ServiceVisit.left_at, ServiceVisit.cancelled_at, ServiceVisit.repair_order_no,
    ).where(ServiceVisit.left_at >= lo, ServiceVisit.left_at < hi)


async def _store_zones(store_ids: set[int]) -> dict[int, ZoneInfo]:
    """The group's timezone of each store: the day boundaries of every rollup and period."""
    rows = await Store.select(Store.id, Store.group).where(Store.id.is_in(sorted(store_ids) or [-1]))
    return {row["id"]: await timezone_of(group=row["group"]) for row in rows}
