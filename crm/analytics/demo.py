"""Demo history for the dashboards: 12 months of finished complaints and worked callbacks per demo store,
each store with its own profile (complaint volume, deadlines kept, satisfaction, scores), so a viewer can
spot the good and the struggling stores; then the rollups of everything the demo seeded.

The other demo steps make the recent weeks through the services; this one writes the older history in bulk
(finished work only: no timers), and `build_rollups` recomputes every store-day the triggers queued.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from crm.analytics.rollups import refresh
from crm.callbacks.demo import answer_level, factor_scores
from crm.callbacks.tables import Callback, CallbackScore
from crm.complaints.service import CHANNELS
from crm.complaints.tables import Complaint, ComplaintDeadlineMiss, ComplaintEvent
from crm.customers.tables import Vehicle
from crm.major.tables import MajorComplaint
from tenants.scope import Scope

MONTHS = 12
RECENT_DAYS = 35  # the other demo steps cover the last weeks through the services
STORIES = [("保养后发动机异响", "免费检查并修复"), ("销售承诺的赠品未兑现", "兑现赠品"),
           ("维修等待时间过长", "说明原因并改进"), ("服务顾问态度不好", "道歉"), ("新车漆面有划痕", "免费补漆")]


async def seed_dashboard_history(ctx) -> None:
    rng = ctx.rng("dashboards")
    now = datetime.combine(ctx.today, time(0), tzinfo=timezone.utc)
    complaints = callbacks = 0
    for index, store in enumerate(ctx.stores):
        # A profile per store: volume, deadlines kept and satisfaction differ visibly, deterministically.
        volume = 1 + (index * 7) % 6 if ctx.small else 3 + (index * 7) % 9
        on_time = 0.6 + 0.035 * ((index * 5) % 11)
        pleased = 0.7 + 0.025 * ((index * 3) % 11)
        cars = await Scope.system(ctx.group_id, store.id).select(Vehicle, Vehicle.id, Vehicle.customer).limit(80)
        if not cars:
            continue
        for month in range(MONTHS):
            start = now - timedelta(days=RECENT_DAYS + 30 * (month + 1))
            for n in range(max(0, volume + rng.randint(-1, 2))):
                complaints += await _complaint(ctx, store, rng.choice(cars), start + timedelta(
                    days=rng.uniform(0, 30)), rng, on_time, n)
            for n in range(8 + volume * 3):
                callbacks += await _callback(ctx, store, rng.choice(cars), start + timedelta(
                    days=rng.uniform(0, 30)), rng, on_time, pleased, f"{month}:{n}", index)
    ctx.counts.update(history_complaints=complaints, history_callbacks=callbacks)


async def build_rollups(ctx) -> None:
    """The dashboards' rollups of all the demo data (the last step)."""
    store_days = 0
    while (done := (await refresh(limit=50_000))["store_days"]):
        store_days += done
    ctx.counts.update(rollup_store_days=store_days)


async def _complaint(ctx, store, car, received: datetime, rng, on_time: float, n: int) -> int:
    received = received.replace(hour=rng.randint(1, 10), minute=rng.randint(0, 59))  # 09–18 Shanghai
    kept = rng.random() < on_time
    channel = rng.choice(list(CHANNELS))
    title, expected = rng.choice(STORIES)
    accepted = received + timedelta(minutes=rng.randint(10, 90) if kept else rng.randint(180, 600))
    handled = accepted + timedelta(hours=rng.uniform(2, 20) if kept else rng.uniform(30, 70))
    resolved = handled + timedelta(hours=rng.uniform(1, 20))
    row = Complaint(
        group=ctx.group_id, store=store.id, channel=channel, via_group=channel in ("hotline_400", "manufacturer"),
        customer=car["customer"], vehicle=car["id"], complainant_name=ctx.person_name(rng), content=title,
        expected_solution=expected, state="closed", reopen_count=int(rng.random() > on_time + 0.2),
        liability=rng.choice(["liable", "not_liable", "not_liable"]), cause_category="service",
        received_at=received, routed_at=received, accepted_at=accepted, handle_from=accepted, handled_at=handled,
        resolved_at=resolved, fed_back_at=resolved + timedelta(hours=rng.uniform(1, 30)),
        revisited_at=resolved + timedelta(days=1), closed_at=resolved + timedelta(days=1), updated_at=resolved,
        revisit_satisfied=True,
    )
    await Complaint.insert(row)
    await ComplaintEvent.insert(*(  # the timeline's ends: taken in, closed after the revisit
        ComplaintEvent(group=ctx.group_id, store=store.id, complaint=row.id, at=when, actor_name="系统",
                       action=action, from_state=source, to_state=target)
        for when, action, source, target in ((received, "create", "", "received"),
                                             (row.closed_at, "close", "revisited", "closed"))))
    if not kept:
        await ComplaintDeadlineMiss.insert(*(
            ComplaintDeadlineMiss(group=ctx.group_id, store=store.id, complaint=row.id, kind=kind, due_at=received,
                                  missed_at=received, responsible_role="store_cr_manager",
                                  dedupe_key=f"complaint:{row.id}:{kind}:0")
            for kind in ("accept", "handle")))
    if channel in ("manufacturer", "media"):
        filed = received + timedelta(hours=rng.uniform(2, 20) if kept else rng.uniform(26, 40))
        await MajorComplaint.insert(MajorComplaint(
            group=ctx.group_id, store=store.id, complaint=row.id, marked_at=received,
            report_due_at=received + timedelta(hours=24), report_status="forwarded", report_filed_at=filed,
            report_overdue=not kept, resolved_at=resolved, closed_at=resolved + timedelta(days=1)))
    return 1


async def _callback(ctx, store, car, due: datetime, rng, on_time: float, pleased: float, key: str,
                    index: int) -> int:
    due = due.replace(hour=rng.randint(1, 10))
    unreachable = rng.random() < (1 - on_time) / 3
    first = due + timedelta(hours=rng.uniform(0.2, 20) if rng.random() < on_time else rng.uniform(80, 120))
    survey = rng.choice(["ssi", "csi"])
    level = None if unreachable else answer_level(rng, pleased)
    row = Callback(
        group=ctx.group_id, store=store.id, customer=car["customer"], vehicle=car["id"],
        kind="sale_3d" if survey == "ssi" else "service_3d", channel="phone", survey=survey,
        source_type="sale" if survey == "ssi" else "service_visit", source_id=0,
        dedupe_key=f"demo-history:{store.id}:{key}", anchor_at=due, due_at=due, deadline_at=due + timedelta(days=3),
        state="unreachable" if unreachable else "done", attempts=3 if unreachable else 1, first_attempt_at=first,
        outcome="no_answer" if unreachable else "reached", satisfaction=level,
        completed_at=first, created_at=due,
    )
    await Callback.insert(row)
    if level is not None:
        await CallbackScore.insert(*(
            CallbackScore(group=ctx.group_id, store=store.id, callback=row.id, survey=survey, factor=factor,
                          score=score, recorded_at=first)
            for factor, score in factor_scores(rng, survey, level, index)))
    return 1
