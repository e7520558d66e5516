"""Turning deliveries, service visits and resolved complaints into callbacks, each with its timer.

Every callback is created `scheduled` with a `callback.due` timer at its due time;
when the timer fires the call enters the agents' queue (or the SMS is sent). A
callback whose customer is do-not-call is created `skipped`, without a timer, so the
statistics can say why nobody called. Editing a delivery or visit moves the callbacks
nobody has worked on yet; cancelling it cancels them. Only what can still be done is
planned: a callback whose on-time window has already passed is not created, which is
what makes importing a year of history cheap.

Two paths compute identical plans (`crm.callbacks.planning`): one event at a time,
inside the recording transaction (`schedule_for_sale` …), and `schedule_bulk` for
imports, which writes callbacks and timers with multi-row statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from crm import clock
from crm.callbacks.planning import Plan, catch_up, plan, plans_for_sale, plans_for_visit
from crm.callbacks.rules import effective_rules
from crm.callbacks.tables import Callback
from crm.customers.tables import Customer, Sale, ServiceVisit
from crm.db import is_postgres, transaction
from crm.timers.service import cancel_timers, schedule_timer, schedule_timers
from tenants.scope import Scope

TIMER_KIND = "callback.due"
SUBJECT = "callback"
OPEN_STATES = ("scheduled", "due")

_SALE_COLUMNS = (Sale.id, Sale.customer, Sale.vehicle, Sale.delivered_at)
_VISIT_COLUMNS = (ServiceVisit.id, ServiceVisit.customer, ServiceVisit.vehicle, ServiceVisit.left_at,
                  ServiceVisit.next_visit_on)


async def schedule_for_sale(*, group_id: int, store_id: int, sale_id: int) -> int:
    """Plan the callbacks of a delivery (交车); returns how many were created."""
    return await schedule_bulk(group_id=group_id, store_id=store_id, sale_ids=[sale_id])


async def schedule_for_visit(*, group_id: int, store_id: int, visit_id: int) -> int:
    """Plan the callbacks of a service visit (维修回访, 下次保养提醒); returns how many were created."""
    return await schedule_bulk(group_id=group_id, store_id=store_id, visit_ids=[visit_id])


async def schedule_complaint_revisit(
    *, group_id: int, store_id: int, complaint_id: int, customer_id: int, vehicle_id: int | None,
    resolved_at: datetime,
) -> int:
    """The revisit within 3 days of a resolved complaint (000 e); a reopened-and-resolved complaint gets a new one.

    The group's complaint policy (`revisit_days`) says when the revisit is due, not the rule's window: the
    callback then carries the complaint's revisit deadline, and the complaint runs no timer of its own.
    """
    from crm.complaints.deadlines import hand_revisit_to_callback, revisit_due_at

    rules, calendar = await _rules_and_calendar(group_id, store_id)
    rule = rules["complaint_revisit_3d"]
    if not rule.enabled:
        return 0
    deadline = await revisit_due_at(group_id=group_id, store_id=store_id, since=resolved_at)
    window = int((deadline - resolved_at).total_seconds() // 60) - rule.offset_minutes
    rule = replace(rule, window_minutes=max(window, 60))
    key = f"complaint:{complaint_id}:{rule.kind}:{int(resolved_at.timestamp())}"
    created = await create_plans(group_id=group_id, store_id=store_id, calendar=calendar, plans=[
        plan(rule, anchor=resolved_at, calendar=calendar, source_type="complaint", source_id=complaint_id,
             customer_id=customer_id, vehicle_id=vehicle_id, dedupe_key=key)
    ])
    callback = await Scope.system(group_id, store_id).select(Callback, Callback.id).where(
        Callback.dedupe_key == key, Callback.state.is_in(OPEN_STATES),
    ).first()
    if callback is not None:
        await hand_revisit_to_callback(group_id=group_id, complaint_id=complaint_id, callback_id=callback["id"])
    return created


async def reschedule_for_sale(*, group_id: int, store_id: int, sale_id: int) -> None:
    """A delivery was edited: move the callbacks nobody has worked on, plan any newly needed."""
    sale = await _sales(group_id, store_id).where(Sale.id == sale_id).first()
    if sale is None:
        return
    rules, calendar = await _rules_and_calendar(group_id, store_id)
    await _replan(group_id, store_id, calendar, "sale", sale_id, plans_for_sale(rules, sale, calendar))


async def reschedule_for_visit(*, group_id: int, store_id: int, visit_id: int) -> None:
    visit = await _visits(group_id, store_id).where(ServiceVisit.id == visit_id).first()
    if visit is None:
        return
    rules, calendar = await _rules_and_calendar(group_id, store_id)
    await _replan(group_id, store_id, calendar, "service_visit", visit_id, plans_for_visit(rules, visit, calendar))


async def cancel_for_source(*, group_id: int, source_type: str, source_id: int) -> int:
    """The delivery or visit was cancelled: its open callbacks and their timers are cancelled."""
    rows = await Scope.system(group_id).update(
        Callback,
        {Callback.state: "cancelled", Callback.claimed_by: None, Callback.claimed_at: None,
         Callback.completed_at: clock.now()}
    ).where(
        Callback.source_type == source_type, Callback.source_id == source_id, Callback.state.is_in(OPEN_STATES)
    ).returning(Callback.id)
    for row in rows:
        await cancel_timers(subject_type=SUBJECT, subject_id=row["id"])
    return len(rows)


async def cancel_for_store(*, group_id: int, store_id: int) -> int:
    """The store closed: its open callbacks (scheduled or in the queue) are cancelled with their timers."""
    rows = await Scope.system(group_id, store_id).update(
        Callback,
        {Callback.state: "cancelled", Callback.claimed_by: None, Callback.claimed_at: None,
         Callback.completed_at: clock.now()}
    ).where(Callback.state.is_in(OPEN_STATES)).returning(Callback.id)
    for row in rows:
        await cancel_timers(subject_type=SUBJECT, subject_id=row["id"])
    return len(rows)


async def schedule_bulk(
    *, group_id: int, store_id: int, sale_ids: Sequence[int] = (), visit_ids: Sequence[int] = (),
    enqueue: bool = True,
) -> int:
    """Plan the callbacks of many deliveries and visits of one store at once (imports); returns how many were created.

    Same plans as the one-at-a-time path; rows are written with multi-row
    statements, and timers due beyond the timer horizon stay in the database
    until the timers' promoter moves them into Redis. `enqueue=False` leaves even
    the soon-due ones to the promoter (demo seeding runs without Redis).
    """
    rules, calendar = await _rules_and_calendar(group_id, store_id)
    plans: list[Plan] = []
    for chunk in _chunks(list(sale_ids), 5000):
        for sale in await _sales(group_id, store_id).where(Sale.id.is_in(chunk)):
            plans.extend(plans_for_sale(rules, sale, calendar))
    for chunk in _chunks(list(visit_ids), 5000):
        for visit in await _visits(group_id, store_id).where(ServiceVisit.id.is_in(chunk)):
            plans.extend(plans_for_visit(rules, visit, calendar))
    return await create_plans(group_id=group_id, store_id=store_id, plans=plans, calendar=calendar, enqueue=enqueue)


async def create_plans(*, group_id: int, store_id: int, plans: list[Plan], calendar, enqueue: bool = True) -> int:
    """Insert what can still be done, with its timers; returns how many callbacks were created."""
    now = clock.now()
    plans = [catch_up(p, now=now, calendar=calendar) for p in plans if p.deadline_at > now]
    if not plans:
        return 0
    created = 0
    async with transaction():
        do_not_call = await _do_not_call(group_id, store_id, {p.customer_id for p in plans})
        for chunk in _chunks(plans, 5000):
            rows = await _insert_callbacks(group_id, store_id, chunk, do_not_call, now)
            await schedule_timers(kind=TIMER_KIND, group_id=group_id, store_id=store_id, subject_type=SUBJECT,
                                  due=[(r["id"], r["due_at"]) for r in rows if r["state"] == "scheduled"],
                                  enqueue=enqueue)
            created += len(rows)
    return created


# ---------------------------------------------------------------------------------------------------------------


async def _rules_and_calendar(group_id: int, store_id: int):
    from crm.calendar.service import calendar_for_store

    return await effective_rules(group_id=group_id, store_id=store_id), await calendar_for_store(store_id)


async def _replan(group_id: int, store_id: int, calendar, source_type: str, source_id: int, plans: list[Plan]) -> None:
    """Move untouched callbacks to their new times, cancel those no longer planned, create the missing ones."""
    wanted = {p.dedupe_key: p for p in plans}
    now = clock.now()
    async with transaction():
        source_scope = Scope.system(group_id, store_id)  # callbacks of one delivery or visit of this store
        existing = await source_scope.select(
            Callback, Callback.id, Callback.dedupe_key, Callback.state, Callback.attempts
        ).where(
            Callback.source_type == source_type, Callback.source_id == source_id
        )
        known = {row["dedupe_key"] for row in existing}
        for row in existing:
            if row["state"] not in OPEN_STATES or row["attempts"] > 0:
                continue  # already worked on: its history stays as it is
            new = wanted.get(row["dedupe_key"])
            new = catch_up(new, now=now, calendar=calendar) if new is not None else None
            await cancel_timers(subject_type=SUBJECT, subject_id=row["id"])
            if new is None or new.deadline_at <= now:
                await source_scope.update(Callback, {Callback.state: "cancelled", Callback.claimed_by: None,
                                       Callback.claimed_at: None, Callback.completed_at: now}).where(
                    Callback.id == row["id"])
                continue
            await source_scope.update(Callback, {
                Callback.anchor_at: new.anchor_at, Callback.due_at: new.due_at,
                Callback.deadline_at: new.deadline_at, Callback.state: "scheduled",
                Callback.claimed_by: None, Callback.claimed_at: None,
            }).where(Callback.id == row["id"])
            await schedule_timer(kind=TIMER_KIND, due_at=new.due_at, group_id=group_id, store_id=store_id,
                                 subject_type=SUBJECT, subject_id=row["id"])
        await create_plans(group_id=group_id, store_id=store_id, calendar=calendar,
                           plans=[p for key, p in wanted.items() if key not in known])


def _sales(group_id: int, store_id: int):
    return Scope.system(group_id, store_id).select(Sale, *_SALE_COLUMNS).where(Sale.cancelled_at.is_null())


def _visits(group_id: int, store_id: int):
    return Scope.system(group_id, store_id).select(ServiceVisit, *_VISIT_COLUMNS).where(
        ServiceVisit.cancelled_at.is_null()
    )


async def _do_not_call(group_id: int, store_id: int, customer_ids: Iterable[int]) -> set[int]:
    ids = list(customer_ids)
    found: set[int] = set()
    for chunk in _chunks(ids, 10000):
        rows = await Scope.system(group_id, store_id).select(Customer, Customer.id).where(
            Customer.id.is_in(chunk), Customer.do_not_call.eq(True)
        )
        found.update(r["id"] for r in rows)
    return found


_CALLBACK_COLUMNS = ("customer", "vehicle", "kind", "channel", "survey", "source_type", "source_id", "dedupe_key",
                     "anchor_at", "due_at", "deadline_at", "state", "max_attempts", "retry_minutes", "outcome",
                     "completed_at")


async def _insert_callbacks(
    group_id: int, store_id: int, plans: list[Plan], do_not_call: set[int], now: datetime
) -> list[dict]:
    """Insert callbacks, skipping any whose dedupe key exists; returns id, due_at and state of the new rows."""
    values = []
    for p in plans:
        skipped = p.customer_id in do_not_call
        values.append((p.customer_id, p.vehicle_id, p.kind, p.channel, p.survey, p.source_type, p.source_id,
                       p.dedupe_key, p.anchor_at, p.due_at, p.deadline_at, "skipped" if skipped else "scheduled",
                       p.max_attempts, p.retry_minutes, "do_not_call" if skipped else "",
                       now if skipped else None))
    if is_postgres():
        return await _insert_callbacks_pg(group_id, store_id, values, now)
    rows = await Callback.insert(
        *[Callback(group=group_id, store=store_id, created_at=now, **dict(zip(_CALLBACK_COLUMNS, v)))
          for v in values]
    ).on_conflict(target=Callback.dedupe_key, action="DO NOTHING").returning(
        Callback.id, Callback.due_at, Callback.state
    )
    return list(rows)


async def _insert_callbacks_pg(group_id: int, store_id: int, values: list[tuple], now: datetime) -> list[dict]:
    """One statement per chunk: the columns travel as arrays and `unnest` turns them back into rows."""
    types = ("int", "int", "text", "text", "text", "text", "int", "text", "timestamptz", "timestamptz",
             "timestamptz", "text", "int", "int", "text", "timestamptz")
    columns = list(zip(*values))
    select = ", ".join(f"{{}}::{t}[]" for t in types)
    names = ", ".join(f'"{c}"' for c in _CALLBACK_COLUMNS)
    sql = (
        f'INSERT INTO callback ("group", "store", "created_at", "attempts", "comment", "corrections", {names}) '
        f"SELECT {{}}, {{}}, {{}}, 0, '', {{}}::json, * FROM unnest({select}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, due_at, state"
    )
    return list(await Callback.raw(sql, group_id, store_id, now, "{}", *[list(c) for c in columns]))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
