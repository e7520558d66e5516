"""Demo data of the callbacks area (a step of `deploy.demo_data.seed`).

- the open callbacks of the last month's deliveries and the last week's visits, planned
  as a DMS import would (their timers are fired by the worker's sweeper once it runs);
- the care planner's greetings and reminders of the coming days;
- four weeks of calls already made — outcomes, satisfaction on the five levels, SSI/CSI scores
  with 贷款过程 "not applicable" for cash buyers — so the statistics page has figures.
  Dissatisfied answers of this history carry no complaint (the complaints area seeds its own).

`answer_level` and `factor_scores` make one customer's answers, plausible and repeatable: the overall
level is drawn from the store's share of pleased customers, and each factor's score sits around that
level, nudged by the store's own strong and weak factors (so the satisfaction page finds strength
and weakness items).
"""

from __future__ import annotations

from datetime import timedelta

from crm import clock
from crm.calendar.service import calendar_for_store
from crm.callbacks.care import plan_care
from crm.callbacks.planning import plans_for_sale, plans_for_visit
from crm.callbacks.rules import effective_rules
from crm.callbacks.scheduling import schedule_bulk
from crm.callbacks.surveys import LEVEL_CODES, factor_codes
from crm.callbacks.tables import Callback, CallbackAttempt, CallbackScore
from crm.customers.tables import Sale, ServiceVisit
from tenants.roles import Role
from tenants.tables import User, UserRole
from tenants.scope import Scope

HISTORY_DAYS = 28
# The score a factor's answer sits around for each overall level (9–10 非常满意 … 1–2 非常不满意).
LEVEL_CENTRES = {"very_satisfied": 9.4, "satisfied": 7.9, "neutral": 6.0, "dissatisfied": 4.0,
                 "very_dissatisfied": 2.2}
CASH_BUYERS = 0.4  # share of sales callbacks whose 贷款过程 is "not applicable"


def answer_level(rng, pleased: float) -> str:
    """An overall level (非常满意 … 非常不满意); `pleased` is the store's share of 满意 + 非常满意 answers."""
    weights = (pleased * 0.6, pleased * 0.4, (1 - pleased) * 0.55, (1 - pleased) * 0.3, (1 - pleased) * 0.15)
    return rng.choices(LEVEL_CODES, weights)[0]


def factor_scores(rng, survey: str, level: str, store_index: int) -> list[tuple[str, int | None]]:
    """Each factor's score 1–10 (None: not applicable) for a customer of the overall `level`."""
    scores = []
    for n, factor in enumerate(factor_codes(survey)):
        if factor == "financing" and rng.random() < CASH_BUYERS:
            scores.append((factor, None))
            continue
        offset = ((store_index * 7 + n * 5) % 9 - 5) * 0.25  # the store's own strong (+1.0) and weak (−1.25) factors
        score = round(rng.gauss(LEVEL_CENTRES[level] + offset, 0.7))
        scores.append((factor, max(1, min(10, score))))
    return scores


async def seed_callbacks(ctx) -> None:
    rng = ctx.rng("callbacks")
    now = clock.now()
    open_calls = worked = 0
    for index, store in enumerate(ctx.stores):
        store_scope = Scope.system(ctx.group_id, store.id)
        recent_sales = await store_scope.select(Sale, Sale.id).where(Sale.delivered_at >= now - timedelta(days=30))
        recent_visits = await store_scope.select(ServiceVisit, ServiceVisit.id).where(
            ServiceVisit.left_at >= now - timedelta(days=7))
        open_calls += await schedule_bulk(group_id=ctx.group_id, store_id=store.id,
                                          sale_ids=[r["id"] for r in recent_sales],
                                          visit_ids=[r["id"] for r in recent_visits], enqueue=False)
        worked += await _history(ctx, store.id, index, rng, now)
    care = await plan_care(store_ids=[s.id for s in ctx.stores], enqueue=False)
    ctx.counts.update(callbacks_open=open_calls, callbacks_care=care["created"], callbacks_worked=worked)


async def _history(ctx, store_id: int, index: int, rng, now) -> int:
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
        level = answer_level(rng, 0.93) if outcome == "reached" else None
        declined = outcome == "reached" and bool(p.survey) and rng.random() < 0.1  # 客户拒绝评分
        rows.append(Callback(
            group=ctx.group_id, store=store_id, customer=p.customer_id, vehicle=p.vehicle_id, kind=p.kind,
            channel=p.channel, survey=p.survey, source_type=p.source_type, source_id=p.source_id,
            dedupe_key=p.dedupe_key, anchor_at=p.anchor_at, due_at=p.due_at, deadline_at=p.deadline_at,
            state="done" if outcome in ("reached", "refused") else "unreachable", max_attempts=p.max_attempts,
            retry_minutes=p.retry_minutes, attempts=attempts, first_attempt_at=first, outcome=outcome,
            satisfaction=level, survey_declined=declined, comment="", completed_at=first, completed_by=agent, created_at=p.anchor_at,
        ))
        outcomes.append((outcome, first, level))
    for start in range(0, len(rows), 500):
        await Callback.insert(*rows[start:start + 500])
    attempts, scores = [], []
    for row, (outcome, at, level) in zip(rows, outcomes):
        attempts.append(CallbackAttempt(group=ctx.group_id, store=store_id, callback=row.id, attempt_no=row.attempts,
                                        outcome=outcome, agent=agent, comment="", at=at))
        if outcome == "reached" and row.survey and not row.survey_declined:
            scores += [CallbackScore(group=ctx.group_id, store=store_id, callback=row.id, survey=row.survey,
                                     factor=factor, score=score, recorded_at=at)
                       for factor, score in factor_scores(rng, row.survey, level, index)]
    for start in range(0, len(attempts), 500):
        await CallbackAttempt.insert(*attempts[start:start + 500])
    for start in range(0, len(scores), 500):
        await CallbackScore.insert(*scores[start:start + 500])
    return len(rows)


async def _agent(store_scope: Scope) -> int | None:
    holders = await UserRole.select(UserRole.user).where(UserRole.role == Role.CALLBACK_AGENT.value)
    user = await store_scope.select(User, User.id).where(User.id.is_in([h["user"] for h in holders] or [-1])).first()
    return user["id"] if user else None
