"""The callback agents' work (回访员): the queue, claiming a call, the filled-in script, recording what the customer said.

Claiming is a conditional UPDATE (`… WHERE state = 'due' AND claimed_by IS NULL
OR expired`), so when two agents reach for the same call exactly one gets it; a
claim left alone for `CLAIM_TTL` returns the call to the queue. Recording an
outcome re-checks the claim in the same statement, inside the transaction that
writes the attempt, the scores, the correction requests for the customer record (the agent does not
edit it: the owning department does, `crm.customers.corrections`) and — for an unhappy customer —
the complaint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crm import clock, lists
from crm.callbacks import scheduling
from crm.callbacks.context import call_context, car_name
from crm.callbacks.planning import contact_calendar, retry_time
from crm.callbacks.rules import DEFAULT_RULES, effective_rules
from crm.callbacks.scripts import render_script, salutation
from crm.callbacks.surveys import (
    LEVEL_CODES,
    MAX_SCORE,
    MIN_SCORE,
    NOT_APPLICABLE,
    SURVEY_TITLES,
    SURVEYS,
    UNHAPPY_LEVELS,
    factor_codes,
    level_label,
    level_of_yes_no,
)
from crm.callbacks.tables import Callback, CallbackAttempt, CallbackScore
from crm.customers.corrections import clean_proposals, file_corrections
from crm.customers.history import Author
from crm.customers.service import change_customer
from crm.customers.tables import Customer, Vehicle
from crm.db import transaction
from crm.privacy import vault
from crm.privacy.policy import shield
from crm.privacy.service import record_bulk_read
from crm.timers.service import schedule_timer
from tenants.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope
from tenants.tables import User

CLAIM_TTL = timedelta(minutes=20)
UPCOMING_HORIZON = timedelta(days=3)

# Who works calls, and who may look at the queue and the results.
CALLBACK_WORKERS = frozenset({Role.CALLBACK_AGENT, Role.STORE_CR_MANAGER, Role.GROUP_CUSTOMER_SERVICE,
                              Role.CALL_CENTER_AGENT})
CALLBACK_READERS = CALLBACK_WORKERS | {Role.STORE_GM, Role.GROUP_ADMIN, Role.HQ_VIEWER, Role.BRAND_MANAGER}

OUTCOMES = {
    "reached": ("已接通", "Reached"),
    "no_answer": ("无人接听", "No answer"),
    "refused": ("拒绝回访", "Refused"),
    "wrong_number": ("号码错误", "Wrong number"),
}
OUTCOME_LABELS = {
    **OUTCOMES,
    "sent": ("短信已发送", "SMS sent"),
    "failed": ("短信发送失败", "SMS failed"),
    "do_not_call": ("免打扰跳过", "Skipped: do not call"),
    "inactive": ("客户档案已停用", "Skipped: customer record deactivated"),
}
STATES = {
    "scheduled": ("计划回访", "Planned"),
    "due": ("待回访", "Due"),
    "sending": ("短信发送中", "SMS being sent"),
    "done": ("已完成", "Done"),
    "unreachable": ("无法联系", "Unreachable"),
    "skipped": ("免打扰跳过", "Skipped (do not call)"),
    "cancelled": ("已取消", "Cancelled"),
}

# What an agent needs to know of a call, in four words: not yet, to call, being called, over.
PHASES = {
    "planned": ("计划回访（未到期）", "Planned (not yet due)"),
    "due": ("待回访", "Due"),
    "claimed": ("回访中", "In progress"),
    "done": ("已结束", "Finished"),
}


def phase_of(state: str, claimed: bool) -> str:
    """The call's phase: planned (scheduled for later), due, claimed (an agent holds it) or done."""
    if state == "scheduled":
        return "planned"
    if state == "due":
        return "claimed" if claimed else "due"
    return "done"


@dataclass
class QueueItem:
    id: int
    store_id: int
    kind: str
    kind_label: str
    survey: str
    customer_id: int
    customer: str
    mobile: str
    car: str
    plate: str
    due_at: datetime
    deadline_at: datetime
    state: str
    attempts: int
    max_attempts: int
    overdue: bool
    claimed_by: int | None
    claimed_by_name: str
    claimed_by_me: bool


@dataclass
class WorkQueue:
    mine: list[QueueItem]
    overdue: list[QueueItem]
    due: list[QueueItem]
    upcoming: list[QueueItem]
    counts: dict[str, int]
    # The first planned call of the caller's stores, however far ahead: "nothing due until …, next: …".
    next_planned: QueueItem | None = None


@dataclass
class Attempt:
    attempt_no: int
    outcome: str
    agent_name: str
    comment: str
    at: datetime


@dataclass
class CallbackDetail:
    id: int
    store_id: int
    store_name: str
    kind: str
    kind_label: str
    channel: str
    survey: str
    state: str
    state_label: str
    phase: str  # PHASES
    due_at: datetime
    deadline_at: datetime
    attempts: int
    max_attempts: int
    claimed_by: int | None
    claimed_by_name: str
    claimed_by_me: bool
    outcome: str
    satisfaction: str | None  # one of surveys.LEVELS
    satisfaction_label: tuple[str, str] | None
    survey_declined: bool
    comment: str
    complaint_id: int | None
    script: str
    customer: dict
    vehicle: dict | None
    source: dict
    factors: list[dict]
    scores: dict[str, int | str]  # a factor answered "not applicable" is NOT_APPLICABLE
    corrections: dict
    history: list[Attempt] = field(default_factory=list)


@dataclass
class OutcomeResult:
    id: int
    state: str
    attempts: int
    next_due_at: datetime | None
    complaint_id: int | None


async def work_queue(*, actor: Scope, store_id: int | None = None, limit: int = 50) -> WorkQueue:
    """The phone calls of the caller's stores: my claimed call, overdue, due now, upcoming (next 3 days)."""
    if store_id is not None:
        actor.require_store(store_id)
    actor.require_role(*CALLBACK_READERS)
    now = clock.now()
    expired = now - CLAIM_TTL

    def base():
        query = actor.filter(Callback.select(*_QUEUE_COLUMNS), Callback).where(Callback.channel == "phone")
        if store_id is not None:
            query = query.where(Callback.store == actor.require_store(store_id))
        return query

    is_mine = (Callback.claimed_by == actor.user_id) & (Callback.claimed_at > expired)
    mine = await base().where(Callback.state == "due", is_mine).order_by(Callback.claimed_at).limit(limit)
    overdue = await base().where(Callback.state == "due", Callback.deadline_at < now).order_by(
        Callback.deadline_at).limit(limit)
    due = await base().where(Callback.state == "due", Callback.deadline_at >= now).order_by(
        Callback.due_at).limit(limit)
    upcoming = await base().where(Callback.state == "scheduled", Callback.due_at <= now + UPCOMING_HORIZON).order_by(
        Callback.due_at).limit(limit)
    counts = await _queue_counts(actor, store_id, now)
    first_planned = await base().where(Callback.state == "scheduled").order_by(Callback.due_at).first()

    def items(rows):
        return [_queue_item(row, actor, now, expired) for row in rows]

    return shield(actor, WorkQueue(
        mine=items(mine), overdue=items(overdue), due=items(due), upcoming=items(upcoming), counts=counts,
        next_planned=_queue_item(first_planned, actor, now, expired) if first_planned else None))


# The list of every callback of the reader's stores (the queue shows only what is to be called now).
CALLBACK_LIST = lists.ListSpec(
    name="callbacks",
    sorts={"due": (Callback.due_at,), "deadline": (Callback.deadline_at,), "kind": (Callback.kind,),
           "customer": (Callback.customer.name,), "car": (Callback.vehicle.brand, Callback.vehicle.model),
           "plate": (Callback.vehicle.plate,), "state": (Callback.state,), "attempts": (Callback.attempts,),
           "claimed": (Callback.claimed_by.display_name,)},
    default_sort="due",
    tiebreak=Callback.id,
)
CALLBACK_EXPORT = (
    lists.Column("编号", "No.", lambda i: i.id),
    lists.Column("回访类型", "Kind", lambda i: i.kind_label),
    lists.Column("客户", "Customer", lambda i: i.customer),
    lists.Column("电话", "Phone", lambda i: i.mobile),
    lists.Column("车辆", "Car", lambda i: i.car),
    lists.Column("车牌", "Plate", lambda i: i.plate),
    lists.Column("计划时间", "Due", lambda i: i.due_at),
    lists.Column("截止", "Deadline", lambda i: i.deadline_at),
    lists.Column("状态", "State", lambda i: STATES[i.state][0]),
    lists.Column("已拨次数", "Attempts", lambda i: i.attempts),
    lists.Column("处理人", "Agent", lambda i: i.claimed_by_name),
)


@dataclass(frozen=True)
class CallbackFilter:
    """What the callback list keeps: the JSON list, the page and their exports each build one and pass it down."""

    state: str = ""
    kind: str = ""
    store_id: int | None = None


async def list_callbacks(
    *, actor: Scope, filters: CallbackFilter = CallbackFilter(), want: lists.ListQuery | None = None,
) -> lists.Page[QueueItem]:
    """Every callback of the caller's stores (planned, due, done, …), soonest first, a page with the total."""
    want = want or CALLBACK_LIST.parse()
    where = _list_conditions(actor, filters)
    rows, total = await lists.fetch(CALLBACK_LIST, want, rows=actor.select(Callback, *_QUEUE_COLUMNS).where(*where),
                                    count=actor.count(Callback).where(*where))
    now = clock.now()
    items = [_queue_item(row, actor, now, now - CLAIM_TTL) for row in rows]
    await record_bulk_read(actor=actor, subject="callback", records=items, fields=("mobile",))
    return want.page_of(shield(actor, items), total)


async def export_callbacks(
    *, actor: Scope, filters: CallbackFilter = CallbackFilter(), want: lists.ListQuery | None = None,
) -> list[QueueItem]:
    """The whole list as shown (same filters and order), masked as the reader sees it, counted and logged."""
    want = want or CALLBACK_LIST.parse()
    where = _list_conditions(actor, filters)
    rows = await lists.export_rows(CALLBACK_LIST, want, rows=actor.select(Callback, *_QUEUE_COLUMNS).where(*where))
    now = clock.now()
    items = [_queue_item(row, actor, now, now - CLAIM_TTL) for row in rows]
    await record_bulk_read(actor=actor, subject="callback", records=items, fields=("mobile",))
    return shield(actor, items)


def _list_conditions(actor: Scope, filters: CallbackFilter) -> list[Any]:
    actor.require_role(*CALLBACK_READERS)
    where: list[Any] = []
    if filters.state:
        if filters.state not in STATES:
            raise InvalidInput.one("state", "回访状态无效", "Unknown callback state")
        where.append(Callback.state == filters.state)
    if filters.kind:
        where.append(Callback.kind == filters.kind)
    if filters.store_id is not None:
        where.append(Callback.store == actor.require_store(filters.store_id))
    return where


async def callback_detail(*, actor: Scope, callback_id: int) -> CallbackDetail:
    """One callback with the customer, the car, what it follows up, the filled-in script and its history."""
    cb = await _get(actor, callback_id)  # out of scope is 404 before any role check
    actor.require_role(*CALLBACK_READERS)
    context = await call_context(cb, agent_name=actor.display_name)
    rules = await effective_rules(group_id=cb["group"], store_id=cb["store"])
    rule = rules.get(cb["kind"])
    attempts = await actor.select(
        CallbackAttempt, CallbackAttempt.attempt_no, CallbackAttempt.outcome, CallbackAttempt.agent.display_name,
        CallbackAttempt.comment, CallbackAttempt.at,
    ).where(CallbackAttempt.callback == callback_id).order_by(CallbackAttempt.attempt_no)
    scores = await actor.select(CallbackScore, CallbackScore.factor, CallbackScore.score).where(
        CallbackScore.callback == callback_id)
    now = clock.now()
    claimed = cb["claimed_by"] if cb["claimed_at"] and cb["claimed_at"] > now - CLAIM_TTL else None
    holder = await actor.group_wide().select(User, User.display_name).where(User.id == claimed).first() if claimed else None
    return shield(actor, CallbackDetail(
        id=cb["id"], store_id=cb["store"], store_name=context.store_name, kind=cb["kind"],
        kind_label=_kind_label(cb["kind"]), channel=cb["channel"], survey=cb["survey"], state=cb["state"],
        state_label=STATES[cb["state"]][0], phase=phase_of(cb["state"], claimed is not None),
        due_at=cb["due_at"], deadline_at=cb["deadline_at"],
        attempts=cb["attempts"], max_attempts=cb["max_attempts"], claimed_by=claimed,
        claimed_by_name=holder["display_name"] if holder else "", claimed_by_me=claimed == actor.user_id,
        outcome=cb["outcome"], satisfaction=cb["satisfaction"], satisfaction_label=level_label(cb["satisfaction"]),
        survey_declined=cb["survey_declined"],
        comment=cb["comment"], complaint_id=cb["complaint_id"],
        script=render_script(rule.script, context.values) if rule else "",
        customer=_customer_view(context.customer), vehicle=_vehicle_view(context.vehicle), source=context.source,
        factors=[{"code": f.code, "label_zh": f.label_zh, "label_en": f.label_en}
                 for f in SURVEYS.get(cb["survey"], ())],
        scores={s["factor"]: NOT_APPLICABLE if s["score"] is None else s["score"] for s in scores},
        corrections=vault.opened_corrections(_load_json(cb["corrections"])),
        history=[Attempt(attempt_no=a["attempt_no"], outcome=a["outcome"],
                         agent_name=a["agent.display_name"] or "", comment=a["comment"], at=a["at"])
                 for a in attempts],
    ))


@dataclass
class PlannedCallback:
    """One callback a delivery or a service visit set off, as its record lists it."""

    id: int
    store_id: int
    kind: str
    kind_label: str
    kind_label_en: str
    channel: str
    survey: str
    state: str
    phase: str  # PHASES
    phase_label: str
    phase_label_en: str
    due_at: datetime
    deadline_at: datetime
    attempts: int
    max_attempts: int
    outcome: str  # "" until the call is over; else one of OUTCOME_LABELS
    outcome_label: str
    outcome_label_en: str
    completed_at: datetime | None


# The records whose callbacks are listed: the API's name → (the callback's source_type, the record's table).
PLANNED_SOURCES = {"sale": "sale", "visit": "service_visit"}


async def planned_callbacks(*, actor: Scope, source: str, source_id: int) -> list[PlannedCallback]:
    """The callbacks planned for one delivery (`sale`) or service visit (`visit`), soonest due first.

    The record itself must be visible (else 404, like reading it); the callbacks are for the roles that read
    callbacks. Cancelled ones (the record was changed or cancelled) are left out.
    """
    from crm.customers.tables import Sale, ServiceVisit

    table = Sale if source == "sale" else ServiceVisit
    await actor.row(table, source_id)
    actor.require_role(*CALLBACK_READERS)
    rows = await actor.filter(Callback.select(
        Callback.id, Callback.store, Callback.kind, Callback.channel, Callback.survey, Callback.state,
        Callback.due_at, Callback.deadline_at, Callback.attempts, Callback.max_attempts, Callback.outcome,
        Callback.claimed_at, Callback.completed_at,
    ), Callback).where(
        Callback.source_type == PLANNED_SOURCES[source], Callback.source_id == source_id,
        Callback.state != "cancelled",
    ).order_by(Callback.due_at).order_by(Callback.id)
    expired = clock.now() - CLAIM_TTL
    listed = []
    for r in rows:
        phase = phase_of(r["state"], r["claimed_at"] is not None and r["claimed_at"] > expired)
        rule = DEFAULT_RULES.get(r["kind"])
        outcome = OUTCOME_LABELS.get(r["outcome"], ("", ""))
        listed.append(PlannedCallback(
            id=r["id"], store_id=r["store"], kind=r["kind"], kind_label=rule.label_zh if rule else r["kind"],
            kind_label_en=rule.label_en if rule else r["kind"], channel=r["channel"], survey=r["survey"],
            state=r["state"], phase=phase, phase_label=PHASES[phase][0], phase_label_en=PHASES[phase][1],
            due_at=r["due_at"], deadline_at=r["deadline_at"], attempts=r["attempts"],
            max_attempts=r["max_attempts"], outcome=r["outcome"], outcome_label=outcome[0],
            outcome_label_en=outcome[1], completed_at=r["completed_at"],
        ))
    return listed


async def claim_callback(*, actor: Scope, callback_id: int) -> CallbackDetail:
    """Take a due call; 409 when another agent holds it or it is no longer due."""
    cb = await _get(actor, callback_id)
    actor.require_role(*CALLBACK_WORKERS)
    if not await _try_claim(actor, cb["id"]):
        raise await _claim_conflict(actor, callback_id)
    if await _skip_if_do_not_call(cb):
        raise Conflict("客户已设置免打扰，本次回访已跳过", "The customer asked not to be called; the call was skipped")
    return await callback_detail(actor=actor, callback_id=callback_id)


async def claim_next(*, actor: Scope, store_id: int | None = None) -> CallbackDetail | None:
    """The next call to make (my current one first, then overdue, then oldest due), claimed; None when the queue is empty."""
    if store_id is not None:
        actor.require_store(store_id)
    actor.require_role(*CALLBACK_WORKERS)
    now = clock.now()

    def due_calls():
        query = actor.filter(Callback.select(Callback.id, Callback.group, Callback.store, Callback.customer), Callback).where(
            Callback.channel == "phone", Callback.state == "due")
        if store_id is not None:
            query = query.where(Callback.store == actor.require_store(store_id))
        return query

    current = await due_calls().where(Callback.claimed_by == actor.user_id,
                                      Callback.claimed_at > now - CLAIM_TTL).first()
    if current:
        return await callback_detail(actor=actor, callback_id=current["id"])
    for _ in range(20):
        candidates = await due_calls().where(
            Callback.claimed_by.is_null() | (Callback.claimed_at <= now - CLAIM_TTL)
        ).order_by(Callback.deadline_at).limit(10)
        if not candidates:
            return None
        for row in candidates:
            if await _try_claim(actor, row["id"]):
                if await _skip_if_do_not_call(row):
                    break
                return await callback_detail(actor=actor, callback_id=row["id"])
    return None


async def release_callback(*, actor: Scope, callback_id: int) -> None:
    """Put a claimed call back in the queue (the holder, or the store's customer-relations manager)."""
    await _get(actor, callback_id)
    actor.require_role(*CALLBACK_WORKERS)
    query = actor.filter(Callback.update({Callback.claimed_by: None, Callback.claimed_at: None}), Callback).where(
        Callback.id == callback_id
    )
    if not actor.has_role(Role.STORE_CR_MANAGER):
        query = query.where(Callback.claimed_by == actor.user_id)
    await query


async def release_claims_of(*, group_id: int, user_id: int) -> list[dict[str, Any]]:
    """Every call a user has claimed goes back to the queue (their account was disabled); the calls released."""
    return await Scope.system(group_id).update(
        Callback, {Callback.claimed_by: None, Callback.claimed_at: None}
    ).where(Callback.claimed_by == user_id, Callback.state == "due").returning(Callback.id, Callback.store)


async def record_outcome(
    *,
    actor: Scope,
    callback_id: int,
    outcome: str,
    satisfaction: str | None = None,
    satisfied: bool | None = None,
    scores: dict[str, int | str] | None = None,
    comment: str = "",
    corrections: dict[str, str] | None = None,
    do_not_call: bool = False,
    survey_declined: bool = False,
    correction_reason: str = "",
) -> OutcomeResult:
    """Record one call: reached / no answer / refused / wrong number, with the answers when reached.

    A reached customer answers the overall satisfaction on five levels (`satisfaction`, surveys.LEVELS;
    the yes/no `satisfied` of older clients is read as 满意 / 不满意). A callback with a survey (SSI / CSI)
    is answered on every factor: a score 1–10 or NOT_APPLICABLE (e.g. 贷款过程 for a cash buyer), unless
    the agent records that the customer declined the survey (`survey_declined`, 客户拒绝评分) — then no
    scores, and the refusal is kept.

    No answer → retried later (spaced by the rule, inside the contact window) until
    `max_attempts`, then unreachable. Wrong number → unreachable at once. An unhappy
    customer (不满意 or 非常不满意) gets a complaint at the store with this callback linked.

    `corrections` ({field: proposed value}) become correction requests (修正表) to the owning department's
    manager, with `correction_reason`; the record itself is not changed here.
    """
    cb = await _get(actor, callback_id)
    actor.require_role(*CALLBACK_WORKERS)
    scores = scores or {}
    satisfaction = satisfaction or level_of_yes_no(satisfied)
    _validate_outcome(cb, outcome, satisfaction, scores, survey_declined)
    customer = await actor.filter(Customer.select(), Customer).where(Customer.id == cb["customer"]).first()
    if customer is None:
        raise NotFound("customer")
    vehicle = None
    if cb["vehicle"] is not None:
        vehicle = await actor.filter(Vehicle.select(), Vehicle).where(Vehicle.id == cb["vehicle"]).first()
    proposals = clean_proposals(customer=customer, vehicle=vehicle, proposals=corrections) if corrections else {}
    now = clock.now()
    async with transaction():
        if not await _try_claim(actor, callback_id):
            raise await _claim_conflict(actor, callback_id)
        attempts = cb["attempts"] + 1
        await CallbackAttempt.insert(CallbackAttempt(
            group=cb["group"], store=cb["store"], callback=callback_id, attempt_no=attempts, outcome=outcome,
            agent=actor.user_id, comment=comment, at=now))
        changes = {
            Callback.attempts: attempts, Callback.outcome: outcome, Callback.claimed_by: None,
            Callback.claimed_at: None, Callback.first_attempt_at: cb["first_attempt_at"] or now,
        }
        if comment:
            changes[Callback.comment] = comment
        next_due_at = None
        if outcome == "no_answer" and attempts < cb["max_attempts"]:
            calendar = await _calendar(cb["store"])
            next_due_at = retry_time(now=now, attempts=attempts, retry_minutes=cb["retry_minutes"], calendar=calendar)
            changes |= {Callback.state: "scheduled", Callback.due_at: next_due_at}
        else:
            final = "done" if outcome in ("reached", "refused") else "unreachable"
            changes |= {Callback.state: final, Callback.completed_at: now, Callback.completed_by: actor.user_id}
        if outcome == "reached":
            changes[Callback.satisfaction] = satisfaction
            changes[Callback.survey_declined] = survey_declined
            if scores:
                await CallbackScore.insert(*[
                    CallbackScore(group=cb["group"], store=cb["store"], callback=callback_id, survey=cb["survey"],
                                  factor=factor, score=None if score == NOT_APPLICABLE else score, recorded_at=now)
                    for factor, score in scores.items()])
        filed = await file_corrections(actor=actor, customer=customer, vehicle=vehicle, callback_id=callback_id,
                                       proposals=proposals, reason=correction_reason.strip() or comment.strip())
        if filed:
            changes[Callback.corrections] = json.dumps(
                {**_load_json(cb["corrections"]), **vault.sealed_corrections(filed)}, ensure_ascii=False)
        if do_not_call and not customer["do_not_call"]:  # the customer's own wish, not a data correction
            await change_customer(row=customer, changes={"do_not_call": True}, via="callback",
                                  author=Author.of(actor))
        complaint_id = None
        if outcome == "reached" and cb["source_type"] == "complaint":
            await _complaint_revisited(actor, cb, satisfaction, comment)
        elif outcome == "reached" and satisfaction in UNHAPPY_LEVELS:
            complaint_id = await _complaint_from_callback(actor, cb, comment)
            changes[Callback.complaint_id] = complaint_id
        await actor.filter(Callback.update(changes), Callback).where(Callback.id == callback_id)
        if next_due_at is not None:
            await schedule_timer(kind=scheduling.TIMER_KIND, due_at=next_due_at, group_id=cb["group"],
                                 store_id=cb["store"], subject_type=scheduling.SUBJECT, subject_id=callback_id)
    return OutcomeResult(id=callback_id, state=changes[Callback.state], attempts=attempts, next_due_at=next_due_at,
                         complaint_id=complaint_id)


async def mark_due(*, callback_id: int, group_id: int, store_id: int) -> str:
    """The callback's timer fired: a call enters the queue, an SMS is handed to the notifications; do-not-call
    customers are skipped.

    Runs in the timer's transaction; a second firing finds the callback no longer scheduled and does nothing.
    """
    timer_scope = Scope.system(group_id, store_id)
    cb = await timer_scope.select(Callback).where(Callback.id == callback_id).first()
    if cb is None or cb["state"] != "scheduled":
        return "ignored"
    if await _skip_if_do_not_call(cb, from_state="scheduled"):
        return "skipped"
    if cb["channel"] == "sms":
        from crm.callbacks.messages import send_callback_sms

        rule = DEFAULT_RULES.get(cb["kind"])
        calendar = contact_calendar(rule.trigger if rule else "", await _calendar(cb["store"]))
        now = clock.now()
        window_opens = calendar.next_contact_time(now)
        if window_opens > now:  # fired late, in quiet hours (a worker down overnight): hold it until morning
            await timer_scope.update(Callback, {Callback.due_at: window_opens}).where(Callback.id == callback_id)
            await schedule_timer(kind=scheduling.TIMER_KIND, due_at=window_opens, group_id=cb["group"],
                                 store_id=cb["store"], subject_type=scheduling.SUBJECT, subject_id=callback_id)
            return "deferred"
        return await send_callback_sms(cb)
    await timer_scope.update(Callback, {Callback.state: "due"}).where(Callback.id == callback_id, Callback.state == "scheduled")
    return "due"


# ---------------------------------------------------------------------------------------------------------------

_QUEUE_COLUMNS = (
    Callback.id, Callback.store, Callback.kind, Callback.survey, Callback.customer, Callback.due_at,
    Callback.deadline_at, Callback.state, Callback.attempts, Callback.max_attempts, Callback.claimed_by,
    Callback.claimed_at, Callback.customer.name, Callback.customer.gender, Callback.customer.kind,
    Callback.customer.contact_person, Callback.customer.mobile, Callback.vehicle.plate, Callback.vehicle.brand,
    Callback.vehicle.model, Callback.claimed_by.display_name,
)


def _queue_item(row: dict, actor: Scope, now: datetime, expired: datetime) -> QueueItem:
    claimed = row["claimed_by"] if row["claimed_at"] and row["claimed_at"] > expired else None
    return QueueItem(
        id=row["id"], store_id=row["store"], kind=row["kind"], kind_label=_kind_label(row["kind"]),
        survey=row["survey"], customer_id=row["customer"],
        customer=salutation(name=row["customer.name"] or "", gender=row["customer.gender"] or "",
                            kind=row["customer.kind"] or "private",
                            contact_person=row["customer.contact_person"] or ""),
        mobile=row["customer.mobile"] or "", car=car_name(row["vehicle.brand"], row["vehicle.model"]),
        plate=row["vehicle.plate"] or "", due_at=row["due_at"], deadline_at=row["deadline_at"],
        state=row["state"], attempts=row["attempts"], max_attempts=row["max_attempts"],
        overdue=row["state"] == "due" and row["deadline_at"] < now, claimed_by=claimed,
        claimed_by_name=(row["claimed_by.display_name"] or "") if claimed else "",
        claimed_by_me=claimed == actor.user_id,
    )


async def _queue_counts(actor: Scope, store_id: int | None, now: datetime) -> dict[str, int]:
    async def count(*conditions) -> int:
        query = actor.filter(Callback.count(), Callback).where(Callback.channel == "phone", *conditions)
        if store_id is not None:
            query = query.where(Callback.store == store_id)
        return await query

    return {
        "overdue": await count(Callback.state == "due", Callback.deadline_at < now),
        "due": await count(Callback.state == "due", Callback.deadline_at >= now),
        "upcoming": await count(Callback.state == "scheduled", Callback.due_at <= now + UPCOMING_HORIZON),
    }


async def _get(actor: Scope, callback_id: int) -> dict:
    row = await actor.filter(Callback.select(), Callback).where(Callback.id == callback_id).first()
    if row is None:
        raise NotFound("callback")
    return row


async def _try_claim(actor: Scope, callback_id: int) -> bool:
    """The one statement that decides who gets a call."""
    now = clock.now()
    rows = await actor.filter(
        Callback.update({Callback.claimed_by: actor.user_id, Callback.claimed_at: now}), Callback
    ).where(
        Callback.id == callback_id,
        Callback.state == "due",
        Callback.claimed_by.is_null() | (Callback.claimed_by == actor.user_id)
        | (Callback.claimed_at <= now - CLAIM_TTL),
    ).returning(Callback.id)
    return bool(rows)


async def _claim_conflict(actor: Scope, callback_id: int) -> Conflict:
    row = await actor.select(Callback, Callback.state, Callback.claimed_by.display_name).where(
        Callback.id == callback_id).first()
    if row and row["state"] == "due":
        name = row["claimed_by.display_name"] or ""
        return Conflict(f"该回访已由{name}领取", f"{name} is already working on this call", {"claimed_by_name": name})
    state = row["state"] if row else "cancelled"
    zh, en = STATES.get(state, ("不可处理", "not workable"))
    return Conflict(f"该回访当前状态为「{zh}」，不能处理", f"This callback is {en.lower()} and cannot be worked",
                    {"state": state})


async def _skip_if_do_not_call(cb: dict, from_state: str = "due") -> bool:
    """Do-not-call customers — and profiles deactivated since planning — are skipped, never called."""
    customer = await Scope.of(cb).select(Customer, Customer.do_not_call, Customer.active).where(
        Customer.id == cb["customer"]).first()
    if customer and not customer["do_not_call"] and customer["active"]:
        return False
    reason = "do_not_call" if customer and customer["do_not_call"] else "inactive"
    await Scope.of(cb).update(Callback, {Callback.state: "skipped", Callback.outcome: reason, Callback.claimed_by: None,
                           Callback.claimed_at: None, Callback.completed_at: clock.now()}).where(
        Callback.id == cb["id"], Callback.state == from_state)
    return True


def _validate_outcome(
    cb: dict, outcome: str, satisfaction: str | None, scores: dict, survey_declined: bool = False
) -> None:
    problems: list[FieldProblem] = []
    if outcome not in OUTCOMES:
        problems.append(FieldProblem("outcome", "回访结果无效", "Outcome must be reached, no_answer, refused or "
                                                              "wrong_number"))
    if outcome == "reached" and satisfaction is None:
        problems.append(FieldProblem("satisfaction", "接通后请记录客户满意程度", "Record how satisfied the customer is"))
    elif satisfaction is not None and satisfaction not in LEVEL_CODES:
        problems.append(FieldProblem("satisfaction", "满意程度应为非常满意/满意/一般/不满意/非常不满意",
                                     "Satisfaction is one of " + ", ".join(LEVEL_CODES)))
    if outcome != "reached" and (satisfaction is not None or scores):
        problems.append(FieldProblem("satisfaction", "未接通不能记录满意度或评分",
                                     "Satisfaction and scores need a reached customer"))
    allowed = set(factor_codes(cb["survey"]))
    for factor, score in scores.items():
        if factor not in allowed:
            problems.append(FieldProblem(f"scores.{factor}", "该回访没有此评分项",
                                         f"This callback does not score {factor!r}"))
        elif score != NOT_APPLICABLE and (
            not isinstance(score, int) or isinstance(score, bool) or not MIN_SCORE <= score <= MAX_SCORE
        ):
            problems.append(FieldProblem(f"scores.{factor}", "评分应为1–10分或“不适用”", "Scores are 1–10 or na"))
    problems += _survey_problems(cb["survey"], outcome, scores, survey_declined)
    if problems:
        raise InvalidInput(problems)


def _survey_problems(survey: str, outcome: str, scores: dict, survey_declined: bool) -> list[FieldProblem]:
    """A reached customer answers every factor of the callback's survey, or is recorded as declining it."""
    if survey_declined:
        if outcome != "reached" or not survey:
            return [FieldProblem("survey_declined", "只有接通且有问卷的回访才能标记拒绝评分",
                                 "Only a reached customer of a callback with a survey can decline it")]
        if scores:
            return [FieldProblem("survey_declined", "客户拒绝评分时不能填写评分",
                                 "A declined survey carries no scores")]
        return []
    if outcome != "reached" or not survey:
        return []
    title_zh, title_en = SURVEY_TITLES[survey]
    return [
        FieldProblem(f"scores.{f.code}", f"请为{title_zh}“{f.label_zh}”打分（1–10分），或勾选“客户拒绝评分”",
                     f"Score {title_en} “{f.label_en}” (1–10), or tick “customer declined the survey”")
        for f in SURVEYS[survey] if f.code not in scores
    ]


async def _complaint_from_callback(actor: Scope, cb: dict, comment: str) -> int:
    """An unhappy answer becomes a complaint at the store, linked to this callback (001 §5.1)."""
    from crm.complaints.service import create_complaint

    content = comment.strip() or f"{_kind_label(cb['kind'])}中客户表示不满意"
    return await create_complaint(actor=actor, store_id=cb["store"], customer_id=cb["customer"],
                                  vehicle_id=cb["vehicle"], channel="callback", content=content,
                                  source_callback_id=cb["id"])


async def _complaint_revisited(actor: Scope, cb: dict, satisfaction: str | None, comment: str) -> None:
    """The revisit of a resolved complaint: recorded on the complaint, which reopens when the customer is
    unhappy (不满意 or 非常不满意), the same answers that file a complaint from any other callback."""
    from crm.complaints.service import record_revisit

    await record_revisit(actor=actor, complaint_id=cb["source_id"], satisfied=satisfaction not in UNHAPPY_LEVELS,
                         note=comment)


def _customer_view(customer: dict | None) -> dict:
    if not customer:
        return {}
    return {
        "id": customer["id"], "name": customer["name"], "kind": customer["kind"],
        "salutation": salutation(name=customer["name"], gender=customer["gender"], kind=customer["kind"],
                                 contact_person=customer["contact_person"]),
        "gender": customer["gender"], "mobile": customer["mobile"], "phone2": customer["phone2"],
        "email": customer["email"], "address": customer["address"], "postcode": customer["postcode"],
        "employer": customer["employer"], "occupation": customer["occupation"],
        "birthday": customer["birthday"].isoformat() if customer["birthday"] else None,
        "do_not_call": customer["do_not_call"],
    }


def _vehicle_view(vehicle: dict | None) -> dict | None:
    if not vehicle:
        return None
    return {"id": vehicle["id"], "vin": vehicle["vin"], "plate": vehicle["plate"], "brand": vehicle["brand"],
            "model": vehicle["model"], "colour": vehicle["colour"], "engine_no": vehicle["engine_no"],
            "insurer": vehicle["insurer"],
            "insurance_expires_on": _iso(vehicle["insurance_expires_on"]),
            "inspection_due_on": _iso(vehicle["inspection_due_on"])}


def _kind_label(kind: str) -> str:
    rule = DEFAULT_RULES.get(kind)
    return rule.label_zh if rule else kind


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _load_json(value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value or "{}")
    except ValueError:
        return {}


async def _calendar(store_id: int):
    from crm.calendar.service import calendar_for_store

    return await calendar_for_store(store_id)

