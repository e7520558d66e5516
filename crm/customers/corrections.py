"""Customer data corrections (客户信息修正, seed 001 §9.3).

The customer-relations department finds wrong or missing data on the phone; instead of editing the
record it files a correction request (修正表) to the manager of the department that owns the field
(`fields.CORRECTABLE`: sales or service). The manager applies or rejects it within 24 hours — a timer
with a reminder before the deadline, and a miss recorded once and notified — and the customer-relations
department then confirms (确认) the result. Applying writes the record through the same path as an edit,
so the change history keeps who, when and the old value.

Who may do what is `ACTIONS`, one table read by the API, the pages and the services alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from crm import clock, lists
from crm.calendar.service import calendar_for_store
from crm.customers.fields import CORRECTABLE, DEPARTMENTS, clean_customer, clean_vehicle
from crm.customers.history import Author, as_text
from crm.customers.service import change_customer, change_vehicle
from crm.customers.tables import Customer, CustomerCorrection, Vehicle
from crm.db import transaction
from crm.notify.service import notify_roles
from crm.timers.service import cancel_timers, schedule_timer
from crm.privacy import vault
from crm.privacy.policy import in_message, shield
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope

SUBJECT = "customer_correction"
REMIND_KIND = "customer_correction.remind"
DUE_KIND = "customer_correction.due"
DECISION_TIME = timedelta(hours=24)  # 部门经理及相关人员于24小时内修正
REMIND_BEFORE = timedelta(hours=4)
LINK = "/corrections"

STATES = {
    "open": ("待处理", "Open"),
    "applied": ("已修正", "Applied"),
    "rejected": ("已驳回", "Rejected"),
}

# action → (roles that may take it, states it is taken in). "confirm" also needs the request unconfirmed.
ACTIONS: dict[str, tuple[frozenset[Role], frozenset[str]]] = {
    "apply": (frozenset({Role.DEPARTMENT_HEAD, Role.STORE_GM}), frozenset({"open"})),
    "reject": (frozenset({Role.DEPARTMENT_HEAD, Role.STORE_GM}), frozenset({"open"})),
    "confirm": (frozenset({Role.STORE_CR_MANAGER}), frozenset({"applied", "rejected"})),
}
CORRECTION_READERS = frozenset(
    {Role.DEPARTMENT_HEAD, Role.STORE_GM, Role.STORE_CR_MANAGER, Role.CALLBACK_AGENT, Role.GROUP_ADMIN,
     Role.HQ_VIEWER, Role.GROUP_CUSTOMER_SERVICE}
)


class CorrectionItem(msgspec.Struct, kw_only=True):
    """A correction request as the API returns it and the page shows it."""

    id: int
    store_id: int
    customer_id: int
    customer_name: str
    vehicle_id: int | None
    callback_id: int | None
    field: str
    field_label_zh: str
    field_label_en: str
    department: str
    department_zh: str
    old_value: str
    proposed_value: str
    reason: str
    found_by_name: str
    created_at: datetime
    due_at: datetime
    remaining_seconds: int  # negative once overdue
    overdue: bool
    missed: bool
    state: str
    state_zh: str
    decided_by_name: str
    decided_at: datetime | None
    decision_note: str
    confirmed_by_name: str
    confirmed_at: datetime | None
    actions: list[str]  # what the caller may do now


# ---------------------------------------------------------------------------------------------
# Filing (from a callback)
# ---------------------------------------------------------------------------------------------


def clean_proposals(*, customer: dict, vehicle: dict | None, proposals: dict[str, str]) -> dict[str, Any]:
    """The proposed values, checked by the customer records' own rules; only those differing from the record.

    Problems are reported on `corrections.<field>` (the callback form's names), every one at once."""
    problems: list[FieldProblem] = []
    typed: dict[str, Any] = {}
    for name, raw in proposals.items():
        spec = CORRECTABLE.get(name)
        if spec is None:
            problems.append(FieldProblem(f"corrections.{name}", "该字段不能在回访中更正",
                                         f"{name!r} cannot be corrected from a callback"))
        elif spec.record == "vehicle" and vehicle is None:
            problems.append(FieldProblem(f"corrections.{name}", "此回访没有关联车辆", "This callback has no vehicle"))
        else:
            try:
                typed[name] = _typed(name, raw)
            except ValueError:
                problems.append(FieldProblem(f"corrections.{name}", "日期格式应为 YYYY-MM-DD", "A date is YYYY-MM-DD"))
    cleaned: dict[str, Any] = {}
    for record, clean in (("customer", lambda v: clean_customer(v, kind=customer["kind"])), ("vehicle", clean_vehicle)):
        part = {k: v for k, v in typed.items() if CORRECTABLE[k].record == record}
        if not part:
            continue
        try:
            cleaned |= clean(part)
        except InvalidInput as error:
            problems += [FieldProblem(f"corrections.{p.field}", p.zh, p.en) for p in error.problems]
    if problems:
        raise InvalidInput(problems)
    return {k: v for k, v in cleaned.items() if as_text(_current(k, customer, vehicle)) != as_text(v)}


async def file_corrections(
    *, actor: Scope, customer: dict, vehicle: dict | None, callback_id: int | None, proposals: dict[str, Any],
    reason: str,
) -> dict[str, list[str]]:
    """One request per field, inside the caller's transaction, each with its deadline and reminder timers;
    the owning departments' managers are told. Returns {field: [old, proposed]} for the callback's record."""
    now = clock.now()
    filed: dict[str, list[str]] = {}
    for name, value in proposals.items():
        spec = CORRECTABLE[name]
        old = as_text(_current(name, customer, vehicle))
        rows = await CustomerCorrection.insert(vault.seal_row(CustomerCorrection(
            group=customer["group"], store=customer["store"], customer=customer["id"],
            vehicle=vehicle["id"] if spec.record == "vehicle" and vehicle else None, callback_id=callback_id,
            field=name, old_value=old, proposed_value=as_text(value), reason=reason[:2000], department=spec.department,
            found_by=actor.user_id, found_by_name=actor.display_name[:100], created_at=now,
            due_at=now + DECISION_TIME, state="open",
        ))).returning(CustomerCorrection.id)
        correction_id = rows[0]["id"]
        for kind, due_at in ((REMIND_KIND, now + DECISION_TIME - REMIND_BEFORE), (DUE_KIND, now + DECISION_TIME)):
            await schedule_timer(kind=kind, due_at=due_at, group_id=customer["group"], store_id=customer["store"],
                                 subject_type=SUBJECT, subject_id=correction_id)
        dept_zh, dept_en = DEPARTMENTS[spec.department]
        shown_old, shown_new = in_message(name, old), in_message(name, as_text(value))
        await notify_roles(
            group_id=customer["group"], roles=[Role.DEPARTMENT_HEAD], store_id=customer["store"],
            kind="customer_correction.filed",
            title_zh=f"{dept_zh}客户资料待修正：{customer['name']} {spec.label_zh}，24小时内处理",
            title_en=f"{dept_en}: customer data to correct: {customer['name']} {spec.label_en}, within 24 h",
            body_zh=f"{shown_old or '(空)'} → {shown_new}。{reason}",
            body_en=f"{shown_old or '(blank)'} → {shown_new}. {reason}",
            about=("customer_correction", correction_id), link=LINK,
            idempotency_key=f"customer_correction:{correction_id}:filed",
        )
        filed[name] = [old, as_text(value)]
    return filed


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


CORRECTION_LIST = lists.ListSpec(
    name="corrections",
    sorts={"due": (CustomerCorrection.due_at,), "decided": (CustomerCorrection.decided_at,),
           "created": (CustomerCorrection.id,), "customer": (CustomerCorrection.customer.name,),
           "field": (CustomerCorrection.field,), "department": (CustomerCorrection.department,),
           "found": (CustomerCorrection.found_by_name,), "state": (CustomerCorrection.state,)},
    default_sort="due",
    tiebreak=CustomerCorrection.id,
)
# The order each tab opens in: open requests soonest deadline first, decided ones by decision, all newest first.
DEFAULT_SORTS = {"open": "due", "unconfirmed": "decided", "all": "-created"}


@dataclass(frozen=True)
class CorrectionFilter:
    """What a correction list keeps: the JSON list, the page and the home page's work each build one and pass it
    down."""

    state: str = "open"  # `open`, `unconfirmed` (decided, awaiting 确认) or `all`
    store_id: int | None = None

    @property
    def default_sort(self) -> str:
        """The order the tab opens in."""
        return DEFAULT_SORTS[self.state]


async def list_corrections(
    *, actor: Scope, filters: CorrectionFilter = CorrectionFilter(), want: lists.ListQuery | None = None
) -> lists.Page[CorrectionItem]:
    """Requests in scope, by the filter's state; a page with the total."""
    actor.require_role(*CORRECTION_READERS)
    if filters.state not in DEFAULT_SORTS:
        raise InvalidInput.one("state", "状态应为 open、unconfirmed 或 all", "state is open, unconfirmed or all")
    want = want or CORRECTION_LIST.parse(sort=filters.default_sort)
    where = []
    if filters.store_id is not None:
        where.append(CustomerCorrection.store == actor.require_store(filters.store_id))
    if filters.state == "open":
        where.append(CustomerCorrection.state == "open")
    elif filters.state == "unconfirmed":
        where += [CustomerCorrection.state != "open", CustomerCorrection.confirmed_at.is_null()]
    rows, total = await lists.fetch(CORRECTION_LIST, want, rows=actor.select(CustomerCorrection).where(*where),
                                    count=actor.count(CustomerCorrection).where(*where))
    return want.page_of(await _items(actor, rows), total)


async def get_correction(*, actor: Scope, correction_id: int) -> CorrectionItem:
    actor.require_role(*CORRECTION_READERS)
    return (await _items(actor, [await _visible(actor, correction_id)]))[0]


def allowed_actions(actor: Scope, row: dict) -> list[str]:
    """What `actor` may do with the request now, from `ACTIONS`."""
    return [
        action for action, (roles, states) in ACTIONS.items()
        if actor.has_role(*roles) and row["state"] in states and not (action == "confirm" and row["confirmed_at"])
    ]


# ---------------------------------------------------------------------------------------------
# The manager decides, customer relations confirms
# ---------------------------------------------------------------------------------------------


async def apply_correction(*, actor: Scope, correction_id: int, note: str = "") -> CorrectionItem:
    """The department manager applies the correction: the record changes (with its history row)."""
    async with transaction():
        row = await _take(actor, correction_id, "apply")
        author = Author.of(actor)
        value = _typed(row["field"], row["proposed_value"])
        if CORRECTABLE[row["field"]].record == "vehicle":
            vehicle = await Scope.of(row).select(Vehicle).where(Vehicle.id == row["vehicle"]).first()
            await change_vehicle(row=vehicle, changes={row["field"]: value}, via="correction", author=author,
                                 correction_id=correction_id)
        else:
            customer = await Scope.of(row).select(Customer).where(Customer.id == row["customer"]).first()
            await change_customer(row=customer, changes={row["field"]: value}, via="correction", author=author,
                                  correction_id=correction_id)
        await _decided(actor, row, "applied", note)
    return await get_correction(actor=actor, correction_id=correction_id)


async def reject_correction(*, actor: Scope, correction_id: int, note: str) -> CorrectionItem:
    """The department manager rejects the correction, saying why; the record keeps its value."""
    async with transaction():
        row = await _take(actor, correction_id, "reject")
        if not note.strip():  # after the lookup: another tenant's id is a 404 whatever the body
            raise InvalidInput.one("note", "请填写驳回理由", "Give the reason for rejecting")
        await _decided(actor, row, "rejected", note.strip())
    return await get_correction(actor=actor, correction_id=correction_id)


async def confirm_correction(*, actor: Scope, correction_id: int) -> CorrectionItem:
    """The customer-relations department confirms (确认) the manager's decision (001 §9.3)."""
    async with transaction():
        row = await _take(actor, correction_id, "confirm")
        await actor.update(CustomerCorrection, {
            CustomerCorrection.confirmed_by: actor.user_id, CustomerCorrection.confirmed_by_name: actor.display_name,
            CustomerCorrection.confirmed_at: clock.now(),
        }).where(CustomerCorrection.id == row["id"])
    return await get_correction(actor=actor, correction_id=correction_id)


# ---------------------------------------------------------------------------------------------
# Timers: the reminder and the deadline
# ---------------------------------------------------------------------------------------------


async def remind(*, correction_id: int, group_id: int, store_id: int) -> str:
    """Still open shortly before the deadline: the department managers are reminded (once)."""
    row = await _for_timer(correction_id, group_id, store_id)
    if row is None or row["state"] != "open":
        return "ignored"
    claimed = await Scope.of(row).update(CustomerCorrection, {CustomerCorrection.reminded_at: clock.now()}).where(
        CustomerCorrection.id == correction_id, CustomerCorrection.reminded_at.is_null()
    ).returning(CustomerCorrection.id)
    if not claimed:
        return "ignored"
    spec = CORRECTABLE[row["field"]]
    due = await _local(row["due_at"], store_id)
    await notify_roles(
        group_id=group_id, roles=[Role.DEPARTMENT_HEAD], store_id=store_id, kind="customer_correction.reminder",
        title_zh=f"客户资料修正即将超时：{spec.label_zh}，截止{due}",
        title_en=f"Customer data correction due soon: {spec.label_en}, by {due}",
        about=("customer_correction", correction_id), link=LINK,
        idempotency_key=f"customer_correction:{correction_id}:reminder",
    )
    return "reminded"


async def deadline_passed(*, correction_id: int, group_id: int, store_id: int) -> str:
    """Not decided within 24 hours: the miss is recorded once (`missed_at`) and the managers, customer
    relations and the GM are told. The request stays open: a late decision is still wanted."""
    row = await _for_timer(correction_id, group_id, store_id)
    if row is None or row["state"] != "open" or clock.now() < row["due_at"]:
        return "ignored"
    claimed = await Scope.of(row).update(CustomerCorrection, {CustomerCorrection.missed_at: clock.now()}).where(
        CustomerCorrection.id == correction_id, CustomerCorrection.missed_at.is_null()
    ).returning(CustomerCorrection.id)
    if not claimed:
        return "ignored"
    spec = CORRECTABLE[row["field"]]
    dept_zh, dept_en = DEPARTMENTS[row["department"]]
    await notify_roles(
        group_id=group_id, roles=[Role.DEPARTMENT_HEAD, Role.STORE_CR_MANAGER, Role.STORE_GM], store_id=store_id,
        kind="customer_correction.missed",
        title_zh=f"{dept_zh}未在24小时内处理客户资料修正：{spec.label_zh}",
        title_en=f"{dept_en} did not handle a customer data correction within 24 h: {spec.label_en}",
        about=("customer_correction", correction_id), link=LINK,
        idempotency_key=f"customer_correction:{correction_id}:missed",
    )
    return "missed"


async def missed_count(*, actor: Scope, since: datetime, before: datetime, department: str | None = None) -> int:
    """Corrections whose 24 hours ran out in [since, before) — each counted once."""
    actor.require_role(*CORRECTION_READERS)
    query = actor.filter(CustomerCorrection.count(), CustomerCorrection).where(
        CustomerCorrection.missed_at >= since, CustomerCorrection.missed_at < before
    )
    if department is not None:
        query = query.where(CustomerCorrection.department == department)
    return await query


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _typed(name: str, raw: Any) -> Any:
    """A proposed value as text (a form, the stored request) → the type the record's rules check."""
    if name in ("birthday", "insurance_expires_on", "inspection_due_on") and isinstance(raw, str):
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    return raw


def _current(name: str, customer: dict, vehicle: dict | None) -> Any:
    record = vehicle if CORRECTABLE[name].record == "vehicle" else customer
    return (record or {}).get(name)


async def _visible(actor: Scope, correction_id: int) -> dict:
    row = await actor.filter(CustomerCorrection.select(), CustomerCorrection).where(
        CustomerCorrection.id == correction_id).first()
    if row is None:
        raise NotFound("customer_correction")
    return row


async def _take(actor: Scope, correction_id: int, action: str) -> dict:
    """The request, locked for this transaction's decision; 404 / 403 / 409 as `ACTIONS` decides."""
    row = await _visible(actor, correction_id)
    roles, states = ACTIONS[action]
    if not actor.has_role(*roles):
        raise Forbidden()
    if action not in allowed_actions(actor, row):
        zh, en = STATES[row["state"]]
        raise Conflict(f"该修正申请当前为「{zh}」{'且已确认' if row['confirmed_at'] else ''}，不能{_VERBS[action][0]}",
                       f"The correction is {en.lower()}{' and confirmed' if row['confirmed_at'] else ''}; "
                       f"it cannot be {_VERBS[action][1]}", {"state": row["state"], "allowed": allowed_actions(actor, row)})
    # Two managers deciding at once: the conditional update lets one through.
    condition = CustomerCorrection.state.is_in(sorted(states))
    if action == "confirm":
        condition = condition & CustomerCorrection.confirmed_at.is_null()
    locked = await actor.update(CustomerCorrection, {CustomerCorrection.state: row["state"]}).where(
        CustomerCorrection.id == correction_id, condition).returning(CustomerCorrection.id)
    if not locked:
        raise Conflict("该修正申请已被他人处理", "Someone else has just handled this correction")
    return row


_VERBS = {"apply": ("修正", "applied"), "reject": ("驳回", "rejected"), "confirm": ("确认", "confirmed")}


async def _decided(actor: Scope, row: dict, state: str, note: str) -> None:
    await actor.update(CustomerCorrection, {
        CustomerCorrection.state: state, CustomerCorrection.decided_by: actor.user_id,
        CustomerCorrection.decided_by_name: actor.display_name[:100], CustomerCorrection.decided_at: clock.now(),
        CustomerCorrection.decision_note: note[:2000],
    }).where(CustomerCorrection.id == row["id"])
    await cancel_timers(subject_type=SUBJECT, subject_id=row["id"])
    spec = CORRECTABLE[row["field"]]
    verb_zh = "已修正" if state == "applied" else "已驳回"
    await notify_roles(
        group_id=row["group"], roles=[Role.STORE_CR_MANAGER], store_id=row["store"],
        kind="customer_correction.decided",
        title_zh=f"客户资料修正{verb_zh}，请确认：{spec.label_zh}",
        title_en=f"Customer data correction {state}; please confirm: {spec.label_en}",
        about=("customer_correction", row["id"]), link=LINK,
        idempotency_key=f"customer_correction:{row['id']}:decided",
    )


async def _for_timer(correction_id: int, group_id: int, store_id: int) -> dict | None:
    return await Scope.system(group_id, store_id).select(CustomerCorrection).where(
        CustomerCorrection.id == correction_id
    ).first()


async def _local(instant: datetime, store_id: int) -> str:
    """A deadline as the store reads it."""
    return instant.astimezone((await calendar_for_store(store_id)).tz).strftime("%m-%d %H:%M")


async def _items(actor: Scope, rows: list[dict]) -> list[CorrectionItem]:
    if not rows:
        return []
    names = {r["id"]: r["name"] for r in await actor.select(Customer, Customer.id, Customer.name).where(
        Customer.id.is_in(sorted({r["customer"] for r in rows})))}
    now = clock.now()
    items = []
    for r in rows:
        spec = CORRECTABLE[r["field"]]
        items.append(CorrectionItem(
            id=r["id"], store_id=r["store"], customer_id=r["customer"], customer_name=names.get(r["customer"], ""),
            vehicle_id=r["vehicle"], callback_id=r["callback_id"], field=r["field"], field_label_zh=spec.label_zh,
            field_label_en=spec.label_en, department=r["department"], department_zh=DEPARTMENTS[r["department"]][0],
            old_value=r["old_value"], proposed_value=r["proposed_value"], reason=r["reason"],
            found_by_name=r["found_by_name"], created_at=r["created_at"], due_at=r["due_at"],
            remaining_seconds=int((r["due_at"] - now).total_seconds()),
            overdue=r["state"] == "open" and now > r["due_at"], missed=r["missed_at"] is not None,
            state=r["state"], state_zh=STATES[r["state"]][0], decided_by_name=r["decided_by_name"],
            decided_at=r["decided_at"], decision_note=r["decision_note"], confirmed_by_name=r["confirmed_by_name"],
            confirmed_at=r["confirmed_at"], actions=allowed_actions(actor, r),
        ))
    return shield(actor, items)
