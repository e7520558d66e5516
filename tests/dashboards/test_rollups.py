"""Rollups equal the figures counted from raw rows, on generated data with edits, reopenings, re-routings and
deletions: the trigger-queued refresh gives exactly what a full rebuild gives, and both match plain SQL counts."""

from __future__ import annotations

import random
from datetime import date, timedelta

import time_machine

from crm.analytics.rollups import rebuild, working_minutes
from crm.analytics.tables import RollupDirty, StoreDay, StoreDayResolution
from crm.calendar.service import BusinessCalendar
from crm.complaints.tables import Complaint
from crm.customers.tables import ServiceVisit
from crm.db import engine
from tests.support.builders import (
    SHANGHAI,
    at,
    callback_row,
    complaint_row,
    customer_with_car,
    major_row,
    score_rows,
    visit_row,
)
from tests.support.dashboards import settle

NOW = at(date(2026, 12, 2), 10)
FIRST, LAST = date(2026, 9, 1), date(2026, 12, 1)


async def _snapshot(tenant) -> tuple[dict, dict]:
    days = {(r["store"], r["day"]): {k: v for k, v in r.items() if k not in ("id", "computed_at")}
            for r in await StoreDay.select().where(StoreDay.group == tenant.group_id)}
    resolutions = {}
    for r in await StoreDayResolution.select().where(StoreDayResolution.group == tenant.group_id):
        resolutions[(r["store"], r["day"], r["minutes"])] = r["complaints"]
    return days, resolutions


async def _generate(tenant, rng: random.Random) -> None:
    cars = {store: await customer_with_car(tenant, label) for label, store in zip("ABC", tenant.store_ids)}
    for _ in range(60):
        store = rng.choice(tenant.store_ids)
        received = at(FIRST + timedelta(days=rng.randrange(80)), rng.randrange(0, 24), rng.randrange(60))
        done = {k: received + timedelta(hours=h) for k, h in
                (("accepted_at", 1), ("handled_at", 5), ("resolved_at", 30), ("fed_back_at", 40))}
        steps = rng.randrange(5)
        columns = {k: v for k, v in list(done.items())[:steps]}
        cid = await complaint_row(tenant, cars[store], store, received, channel=rng.choice(["walk_in", "hotline_400"]),
                              state=rng.choice(["received", "accepted", "resolved", "closed", "voided"]),
                              liability=rng.choice(["", "liable", "not_liable"]),
                              missed=tuple(k for k in ("accept", "handle", "report") if rng.random() < 0.3),
                              reopen_count=rng.choice([0, 0, 1]), **columns)
        if rng.random() < 0.2:
            await major_row(tenant, cid, store, received, filed=received + timedelta(hours=rng.choice([2, 30])))
    for _ in range(80):
        store = rng.choice(tenant.store_ids)
        due = at(FIRST + timedelta(days=rng.randrange(80)), rng.randrange(8, 20))
        attempts = rng.randrange(3)
        cb = await callback_row(tenant, cars[store], store, due, attempts=attempts,
                            state=rng.choice(["due", "done", "unreachable", "skipped", "cancelled"]),
                            first_attempt=due + timedelta(hours=rng.choice([1, 60])),
                            satisfied=rng.choice([None, True, False]))
        if rng.random() < 0.3:
            await score_rows(tenant, cb, store, rng.choice(["ssi", "csi"]), [rng.randrange(1, 11) for _ in range(3)], due)
    for _ in range(60):
        store = rng.choice(tenant.store_ids)
        await visit_row(tenant, cars[store], store, at(FIRST + timedelta(days=rng.randrange(80)), 16),
                    cancelled=rng.random() < 0.1)


async def _edit(tenant, rng: random.Random) -> None:
    """Edits the services make (accept, resolve, reopen, re-route, move a day) and deletions."""
    ids = [r["id"] for r in await Complaint.select(Complaint.id).where(Complaint.group == tenant.group_id)]
    rng.shuffle(ids)
    for cid in ids[:8]:  # reopened: the resolution is cleared, the count goes up
        await Complaint.update({Complaint.reopen_count: Complaint.reopen_count + 1, Complaint.resolved_at: None,
                                Complaint.state: "reopened"}).where(Complaint.id == cid)
    for cid in ids[8:14]:  # resolved now
        row = await Complaint.select(Complaint.received_at).where(Complaint.id == cid).first()
        await Complaint.update({Complaint.resolved_at: row["received_at"] + timedelta(hours=50),
                                Complaint.state: "resolved"}).where(Complaint.id == cid)
    for cid in ids[14:18]:  # re-routed to another store
        await Complaint.update({Complaint.store: rng.choice(tenant.store_ids)}).where(Complaint.id == cid)
    for cid in ids[18:21]:  # received on another day (a corrected intake time)
        await Complaint.update({Complaint.received_at: Complaint.received_at + timedelta(days=3)}).where(
            Complaint.id == cid)
    for cid in ids[21:24]:  # deleted, with what hangs off them
        await engine()._run_in_new_connection(f"DELETE FROM complaint_deadline_miss WHERE complaint = {cid}")
        await engine()._run_in_new_connection(f"DELETE FROM major_complaint WHERE complaint = {cid}")
        await Complaint.delete().where(Complaint.id == cid)
    visits = [r["id"] for r in await ServiceVisit.select(ServiceVisit.id).where(ServiceVisit.group == tenant.group_id)]
    await ServiceVisit.delete().where(ServiceVisit.id.is_in(visits[:5]))


async def _plain_sql_counts(tenant) -> dict[tuple[int, date], dict[str, int]]:
    """A few columns counted by one plain SQL statement per table over the raw rows (local days)."""
    counts: dict[tuple[int, date], dict[str, int]] = {}
    queries = {
        "complaints": "SELECT store, (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n "
                      "FROM complaint WHERE \"group\" = {g} AND state <> 'voided' GROUP BY 1, 2",
        "liable": "SELECT store, (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n "
                  "FROM complaint WHERE \"group\" = {g} AND state <> 'voided' AND liability = 'liable' GROUP BY 1, 2",
        "callbacks_due": "SELECT store, (due_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n "
                         "FROM callback WHERE \"group\" = {g} AND channel = 'phone' "
                         "AND state NOT IN ('cancelled', 'skipped') GROUP BY 1, 2",
        "service_visits": "SELECT store, (left_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS n "
                          "FROM service_visit WHERE \"group\" = {g} AND cancelled_at IS NULL GROUP BY 1, 2",
    }
    for column, sql in queries.items():
        for row in await Complaint.raw(sql.format(g=int(tenant.group_id))):
            counts.setdefault((row["store"], row["day"]), {})[column] = row["n"]
    return counts


async def test_refreshed_rollups_equal_a_rebuild_and_the_raw_counts(tenant):
    rng = random.Random(11)
    with time_machine.travel(NOW, tick=False):
        await _generate(tenant, rng)
        await settle()
        await _edit(tenant, rng)
        assert await RollupDirty.count() > 0  # the edits queued their store-days
        await settle()
        refreshed = await _snapshot(tenant)
        await rebuild(start=FIRST, end=LAST, group_id=tenant.group_id)
        rebuilt = await _snapshot(tenant)
    assert refreshed == rebuilt
    days, _ = rebuilt
    raw = await _plain_sql_counts(tenant)
    for key in set(days) | set(raw):
        for column in ("complaints", "liable", "callbacks_due", "service_visits"):
            assert days.get(key, {}).get(column, 0) == raw.get(key, {}).get(column, 0), (key, column)
    assert sum(d["complaints"] for d in days.values()) > 20 and sum(d["reopened"] for d in days.values()) >= 8


def test_working_minutes_count_opening_hours_of_working_days_only():
    calendar = BusinessCalendar()
    friday_5pm = at(date(2026, 11, 27), 17)
    assert working_minutes(calendar, friday_5pm, at(date(2026, 11, 30), 9)) == 60 + 30  # weekend skipped
    assert working_minutes(calendar, at(date(2026, 9, 30), 17), at(date(2026, 10, 8), 9)) == 60 + 30  # 国庆
    assert working_minutes(calendar, at(date(2026, 10, 9), 17), at(date(2026, 10, 12), 9)) == 60 + 570 + 30  # 调休
    assert working_minutes(calendar, at(date(2026, 11, 30), 7), at(date(2026, 11, 30), 8, 30)) == 0
    assert SHANGHAI.key == "Asia/Shanghai"


async def test_dashboard_figures_are_reused_until_a_store_day_of_the_period_is_recomputed(tenant):
    """The figures of a period are kept per version of its months' rollups: reused while nothing changed,
    computed again after a refresh touched one of those months — and only those."""
    from crm.analytics.dashboard import rollup_figures, store_table
    from crm.analytics.periods import parse_period

    hq = await tenant.scope("hq_viewer")
    november = parse_period("month", today=date(2026, 12, 2), month="2026-11")
    october = parse_period("month", today=date(2026, 12, 2), month="2026-10")
    with time_machine.travel(NOW, tick=False):
        car = await customer_with_car(tenant, "A")
        await complaint_row(tenant, car, tenant.store_a, at(date(2026, 11, 5), 10))
        await settle()
        first = await rollup_figures(hq, tenant.store_ids, november.start, november.end)
        kept_october = await rollup_figures(hq, tenant.store_ids, october.start, october.end)
        assert await rollup_figures(hq, tenant.store_ids, november.start, november.end) is first
        assert first.values[tenant.store_a]["complaints"] == 1

        await complaint_row(tenant, car, tenant.store_a, at(date(2026, 11, 20), 10))
        await settle()
        table = await store_table(actor=hq, period=november)
        assert table.total["complaints"] == 2
        assert await rollup_figures(hq, tenant.store_ids, october.start, october.end) is kept_october
