"""Demo data of the callbacks area (a step of `deploy.demo_data.seed`).

- the open callbacks of the last month's deliveries and the last week's visits, planned
  as a DMS import would (their timers are fired by the worker's sweeper once it runs);
- the care planner's greetings and reminders of the coming days;
- four weeks of calls already made — outcomes, satisfaction, SSI/CSI scores — so the
  statistics page has figures. Dissatisfied answers of this history carry no complaint
  (the complaints area seeds its own).
"""

from __future__ import annotations

from datetime import timedelta

from crm import clock
from crm.calendar.service import calendar_for_store
from crm.callbacks.care import plan_care
from crm.callbacks.planning import plans_for_sale, plans_for_visit
from crm.callbacks.rules import effective_rules
from crm.callbacks.scheduling import schedule_bulk
from crm.callbacks.surveys import factor_codes, level_of_yes_no
from crm.callbacks.tables import Callback, CallbackAttempt, CallbackScore
from crm.customers.tables import Sale, ServiceVisit
from tenants.roles import Role
from tenants.tables import User, UserRole
from tenants.scope import Scope

HISTORY_DAYS = 28


async def seed_callbacks(ctx) -> None:
    rng = ctx.rng("callbacks")
    now = clock.now()
    open_calls = worked = 0
    for store in ctx.stores:
        store_scope = Scope.system(ctx.group_id, store.id)
        recent_sales = await store_scope.select(Sale, Sale.id).where(Sale.delivered_at >= now - timedelta(days=30))
        recent_visits = await store_scope.select(ServiceVisit, ServiceVisit.id).where(
            ServiceVisit.left_at >= now - timedelta(days=7))
        open_calls += await schedule_bulk(group_id=ctx.group_id, store_id=store.id,
                                          sale_ids=[r["id"] for r in recent_sales],
                                          visit_ids=[r["id"] for r in recent_visits], enqueue=False)
        worked += await _history(ctx, store.id, rng, now)
    care = await plan_care(store_ids=[s.id for s in ctx.stores], enqueue=False)
    ctx.counts.update(callbacks_open=open_calls, callbacks_care=care["created"], callbacks_worked=worked)


async def _history(ctx, store_id: int, rng, now) -> int:
    """Calls of the last four weeks whose window has closed, as the store's agent worked them."""
    store_scope = Scope.system(ctx.group_id, store_id)
    agent = await _agent(store_scope)
    rules = await effective_rules(group_id=ctx.group_id, store_id=store_id)
    calendar = await calendar_for_store(store_id)
    since = now - timedelta(days=HISTORY_DAYS)
    plans = []
    for sale in await store_scope.select(Sale, Sale.id, Sale.customer, Sale.vehicle, Sale.delivered_at).where(
            Sale.delivered_at >= since):
        plans += plans_for_sale(rules, sale, calendar)
    for visit in await store_scope.select(ServiceVisit, ServiceVisit.id, ServiceVisit.customer, ServiceVisit.vehicle,
                                          ServiceVisit.left_at, ServiceVisit.next_visit_on).where(
            ServiceVisit.left_at >= since):
        plans += plans_for_visit(rules, visit, calendar)
    plans = [p for p in plans if p.channel == "phone" and p.deadline_at <= now]
    if not plans:
        return 0
    rows, outcomes = [], []
    for p in plans:
        outcome = rng.choices(["reached", "no_answer", "refused", "wrong_number"], [82, 10, 5, 3])[0]
        late = rng.random() < 0.08
        first = (p.deadline_at + timedelta(hours=rng.randint(1, 30)) if late
                 else p.due_at + (p.deadline_at - p.due_at) * rng.random() * 0.6)
        attempts = p.max_attempts if outcome == "no_answer" else 1
        satisfied = (rng.random() < 0.93) if outcome == "reached" else None
        declined = outcome == "reached" and bool(p.survey) and rng.random() < 0.1  # 客户拒绝评分
        rows.append(Callback(
            group=ctx.group_id, store=store_id, customer=p.customer_id, vehicle=p.vehicle_id, kind=p.kind,
            channel=p.channel, survey=p.survey, source_type=p.source_type, source_id=p.source_id,
            dedupe_key=p.dedupe_key, anchor_at=p.anchor_at, due_at=p.due_at, deadline_at=p.deadline_at,
            state="done" if outcome in ("reached", "refused") else "unreachable", max_attempts=p.max_attempts,
            retry_minutes=p.retry_minutes, attempts=attempts, first_attempt_at=first, outcome=outcome,
            satisfaction=level_of_yes_no(satisfied), survey_declined=declined, comment="", completed_at=first, completed_by=agent, created_at=p.anchor_at,
        ))
        outcomes.append((outcome, first, satisfied))
    for start in range(0, len(rows), 500):
        await Callback.insert(*rows[start:start + 500])
    attempts, scores = [], []
    for row, (outcome, at, satisfied) in zip(rows, outcomes):
        attempts.append(CallbackAttempt(group=ctx.group_id, store=store_id, callback=row.id, attempt_no=row.attempts,
                                        outcome=outcome, agent=agent, comment="", at=at))
        if outcome == "reached" and row.survey and not row.survey_declined:
            low = 4 if satisfied is False else 7
            scores += [CallbackScore(group=ctx.group_id, store=store_id, callback=row.id, survey=row.survey,
                                     factor=factor, score=rng.randint(low, 10), recorded_at=at)
                       for factor in factor_codes(row.survey)]
    for start in range(0, len(attempts), 500):
        await CallbackAttempt.insert(*attempts[start:start + 500])
    for start in range(0, len(scores), 500):
        await CallbackScore.insert(*scores[start:start + 500])
    return len(rows)


async def _agent(store_scope: Scope) -> int | None:
    holders = await UserRole.select(UserRole.user).where(UserRole.role == Role.CALLBACK_AGENT.value)
    user = await store_scope.select(User, User.id).where(User.id.is_in([h["user"] for h in holders] or [-1])).first()
    return user["id"] if user else None
