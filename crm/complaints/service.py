"""Complaints (投诉): intake, routing to a store, the store's handling, the group's revisit.

Every change goes through `crm.complaints.workflow` (may this action start now, may this caller do
it), is written with a conditional update on the state it started from (two people clicking at once:
one wins, the other gets 409), appends a timeline row, recomputes the complaint's deadline timer and
tells the `events` listeners — all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from crm import clock
from crm.complaints import alerts, deadlines, events, result_report, workflow
from crm.complaints.authority import approver_for, authority_table, may_approve
from crm.complaints.tables import (
    Complaint,
    ComplaintAppeal,
    ComplaintCompensation,
    ComplaintEvent,
    ComplaintResultReport,
)
from crm.complaints.workflow import State
from crm.customers.service import car_keys, find_car, find_or_create_customer
from crm.customers.tables import Customer, Sale, ServiceVisit, Vehicle
from crm.customers.validation import Problems, check_mobile, check_phone
from crm.db import UNIQUE_VIOLATIONS, savepoint, transaction
from crm.privacy import vault
from tenants.directory import require_open_store
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope
from tenants.tables import Store, User

CHANNELS: dict[str, tuple[str, str]] = {
    "hotline_400": ("400热线", "400 hotline"),
    "walk_in": ("到店投诉", "Walk-in"),
    "callback": ("回访发现", "Callback"),
    "manufacturer": ("厂家客服中心", "Manufacturer customer center"),
    "online": ("网络", "Online"),
    "email": ("电子邮件", "E-mail"),
    "media": ("媒体", "Media"),
    "store_phone": ("门店来电", "Store phone"),
}
CAUSES: dict[str, tuple[str, str]] = {
    "service": ("服务问题", "Service"),
    "customer": ("用户问题", "Customer"),
    "product": ("产品问题", "Product"),
}
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "sales": ("销售部", "Sales"),
    "service": ("售后服务部", "After-sales service"),
    "parts": ("配件部", "Parts"),
    "accessories": ("精品部", "Accessories"),
    "other": ("其他部门", "Other"),
}
LIABILITY: dict[str, tuple[str, str]] = {"liable": ("有责", "Liable"), "not_liable": ("无责", "Not liable")}
COMPENSATION_KINDS: dict[str, tuple[str, str]] = {
    "cash": ("现金", "Cash"),
    "voucher": ("代金券", "Voucher"),
    "parts": ("配件", "Parts"),
    "service": ("免费服务", "Free service"),
    "other": ("其他", "Other"),
}
MAX_COMPENSATION = Decimal("10000000")


@dataclass(frozen=True)
class RoutingSuggestion:
    store_id: int
    store_name: str
    reason: str  # last_service_visit | last_sale | home_store
    reason_zh: str
    last_contact_at: datetime | None


# ---------------------------------------------------------------- intake and routing


async def create_complaint(
    *,
    actor: Scope,
    store_id: int | None = None,
    customer_id: int,
    vehicle_id: int | None = None,
    channel: str,
    content: str,
    expected_solution: str = "",
    source_callback_id: int | None = None,
    complainant_name: str = "",
    complainant_phone: str = "",
    accused_user_id: int | None = None,
    external_ref: str = "",
    urgency: str = "normal",
) -> int:
    """Record a complaint (投诉登记) and route it to a store; returns its id.

    Without `store_id` the complaint goes to the suggested store (`suggest_store`). Group intake
    (call center, group customer service, a group integration account) makes the store feed the
    result back to the group. A repeated `external_ref` on the same channel (an integration
    retrying) returns the complaint already recorded.
    """
    actor.require_role(*workflow.INTAKE_ROLES)
    problems = _intake_problems(channel=channel, content=content, urgency=urgency, complainant_phone=complainant_phone)
    if problems.items:
        raise InvalidInput(problems.items)
    complainant_phone = check_phone(complainant_phone, "complainant_phone") if complainant_phone.strip() else ""
    customer = await _referenced(actor, Customer, customer_id, "customer_id", "客户不存在", "Unknown customer")
    vehicle = None
    if vehicle_id is not None:
        vehicle = await _referenced(actor, Vehicle, vehicle_id, "vehicle_id", "车辆不存在", "Unknown vehicle")
        if not await _same_customer(customer, vehicle):
            raise InvalidInput.one("vehicle_id", "车辆不属于该客户", "The vehicle is not this customer's")
    suggestion = await suggest_store(actor=actor, customer_id=customer_id, vehicle_id=vehicle_id)
    target = suggestion.store_id if store_id is None else store_id
    if not actor.can_see_store(target):
        raise InvalidInput.one("store_id", "门店不存在", "Unknown store")
    await require_open_store(target)
    if accused_user_id is not None:
        await _store_user(actor, accused_user_id, target, "accused_user_id")

    async with transaction():
        customer = await _profile_in_store(actor, customer, target)
        if external_ref:
            existing = await actor.filter(Complaint.select(Complaint.id), Complaint).where(
                Complaint.channel == channel, Complaint.external_ref == external_ref
            ).first()
            if existing:
                return existing["id"]
        now = clock.now()
        complaint = Complaint(
            group=actor.group_id,
            store=target,
            channel=channel,
            via_group=actor.is_group_level,
            intake_by=actor.user_id,
            external_ref=external_ref,
            source_callback_id=source_callback_id,
            customer=customer.id,
            customer_identity=customer.group_identity,
            vehicle=vehicle.id if vehicle else None,
            complainant_name=complainant_name.strip() or customer.name,
            complainant_phone=complainant_phone.strip() or customer.mobile,
            plate=vehicle.plate if vehicle else "",
            vin=vehicle.vin if vehicle else "",
            vehicle_model=vehicle.model if vehicle else "",
            content=content.strip(),
            expected_solution=expected_solution.strip(),
            accused_user=accused_user_id,
            urgency=urgency,
            state=State.RECEIVED,
            received_at=now,
            routed_at=now,
            updated_at=now,
        )
        vault.seal_row(complaint)
        if external_ref:
            # Two deliveries of the same message at once both pass the check above; the unique index
            # (group, channel, external_ref) lets one insert win and the other answer with its complaint.
            try:
                async with savepoint():
                    await complaint.save()
            except UNIQUE_VIOLATIONS:
                existing = await actor.filter(Complaint.select(Complaint.id), Complaint).where(
                    Complaint.channel == channel, Complaint.external_ref == external_ref
                ).first()
                if existing is None:  # recorded at a store the caller cannot see: say so, but name nothing
                    raise Conflict("该外部编号已登记", "This external reference is already recorded",
                                   {"field": "external_ref"}) from None
                return existing["id"]
        else:
            await complaint.save()
        vault.open_rows(complaint)  # sealed in the database, clear for the steps below
        await _append(
            actor, complaint, "create", "", State.RECEIVED,
            data={
                "store_id": target,
                "suggested_store_id": suggestion.store_id,
                "routing": "suggested" if target == suggestion.store_id else "override",
                "routing_reason": suggestion.reason,
                "channel": channel,
                "urgency": urgency,
            },
        )
        await deadlines.sync(complaint)
        await alerts.routed(complaint)
        await events.complaint_created.send(
            group_id=complaint.group,
            store_id=complaint.store,
            complaint_id=complaint.id,
            channel=channel,
            customer_id=customer.id,
            customer_identity_id=customer.group_identity,
            vehicle_id=complaint.vehicle,
        )
        # A store manager registering a walk-in has accepted it by doing so.
        if not actor.is_group_level and workflow.may(actor, complaint, "accept"):
            await _move(actor, complaint, "accept", State.ACCEPTED, accepted_at=now, handle_from=now)
    return complaint.id


async def register_complaint(
    *,
    actor: Scope,
    customer_id: int | None = None,
    new_customer_name: str = "",
    new_customer_mobile: str = "",
    store_id: int | None = None,
    vin: str = "",
    plate: str = "",
    **fields: Any,
) -> int:
    """Intake as the call center does it: an existing customer (by id, or by the car's VIN or plate), or a
    minimal record made on the spot.

    Every bad field is named at once, by the request's own names (`new_customer_mobile`, not `mobile`)."""
    actor.require_role(*workflow.INTAKE_ROLES)
    if store_id is None and not actor.is_group_level:
        store_id = actor.home_store_id
    problems = _intake_problems(**{k: fields[k] for k in ("channel", "content", "urgency", "complainant_phone") if k in fields})
    by_car = bool(vin.strip() or plate.strip())
    if by_car and (customer_id is not None or fields.get("vehicle_id") is not None):
        problems.add("vin" if vin.strip() else "plate", "按车架号或车牌号登记时不要再填写 customer_id 或 vehicle_id",
                     "Give either the VIN or plate, or customer_id and vehicle_id, not both")
    if by_car:
        vin, plate = car_keys(problems, vin, plate)
    if customer_id is None and not by_car:
        if not new_customer_name.strip():
            problems.add("new_customer_name", "请填写新客户姓名", "Enter the new customer's name")
        new_customer_mobile = problems.check(check_mobile, new_customer_mobile, "new_customer_mobile")
    problems.raise_if_any()
    if by_car:
        customer_id, fields["vehicle_id"] = await find_car(actor=actor, vin=vin, plate=plate, store_id=store_id)
    async with transaction():
        if customer_id is None:
            if store_id is None:
                raise InvalidInput.one("store_id", "新客户须指定门店", "Choose a store for a new customer")
            customer_id = await find_or_create_customer(
                actor=actor, store_id=store_id, name=new_customer_name, mobile=new_customer_mobile,
                source="call_center" if actor.is_group_level else "manual",
            )
        return await create_complaint(actor=actor, customer_id=customer_id, store_id=store_id, **fields)


def _intake_problems(
    *, channel: str = "", content: str = "", urgency: str = "normal", complainant_phone: str = ""
) -> Problems:
    """What is wrong with a complaint's own fields, all of it (the caller may add its own)."""
    problems = Problems()
    if channel not in CHANNELS:
        problems.add("channel", "投诉渠道无效", "Unknown channel")
    if not content.strip():
        problems.add("content", "请填写投诉内容", "Content is required")
    if urgency not in deadlines.URGENCIES:
        problems.items.append(_URGENCY_PROBLEM)
    if complainant_phone.strip():
        problems.check(check_phone, complainant_phone, "complainant_phone")
    return problems


async def suggest_store(*, actor: Scope, customer_id: int, vehicle_id: int | None = None) -> RoutingSuggestion:
    """The store the customer last dealt with for this vehicle (sale or service visit), else their home store."""
    actor.require_role(*workflow.INTAKE_ROLES)
    customer = await actor.get(Customer, customer_id)
    best: tuple[datetime, int, str] | None = None
    if vehicle_id is not None:
        vehicle = await actor.get(Vehicle, vehicle_id)
        # The same car (VIN) may be known to several of the group's stores.
        same_car = actor.filter(Vehicle.select(Vehicle.id), Vehicle).where(
            Vehicle.vin == vehicle.vin, Vehicle.active.eq(True)
        )
        car_ids = [r["id"] for r in await same_car] or [vehicle.id]
        visit = await actor.filter(
            ServiceVisit.select(ServiceVisit.store, ServiceVisit.left_at), ServiceVisit
        ).where(ServiceVisit.vehicle.is_in(car_ids), ServiceVisit.cancelled_at.is_null()).order_by(ServiceVisit.left_at, ascending=False).first()
        sale = await actor.filter(Sale.select(Sale.store, Sale.delivered_at), Sale).where(
            Sale.vehicle.is_in(car_ids), Sale.cancelled_at.is_null()
        ).order_by(Sale.delivered_at, ascending=False).first()
        candidates = []
        if visit:
            candidates.append((visit["left_at"], visit["store"], "last_service_visit"))
        if sale:
            candidates.append((sale["delivered_at"], sale["store"], "last_sale"))
        if candidates:
            best = max(candidates, key=lambda c: c[0])
    if best is None:
        store_id, reason, at = customer.store, "home_store", None
    else:
        at, store_id, reason = best
    store = await Store.select(Store.name).where(Store.id == store_id).first()
    reasons_zh = {"last_service_visit": "最近维修保养门店", "last_sale": "购车门店", "home_store": "客户档案所属门店"}
    return RoutingSuggestion(store_id, store["name"], reason, reasons_zh[reason], at)


async def reroute_complaint(*, actor: Scope, complaint_id: int, store_id: int, note: str = "") -> None:
    """改派: send the complaint to another store; it waits there for acceptance again."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "reroute")
        if not actor.can_see_store(store_id):
            raise InvalidInput.one("store_id", "门店不存在", "Unknown store")
        if store_id == complaint.store:
            raise InvalidInput.one("store_id", "已在该门店", "Already at this store")
        await require_open_store(store_id)
        old_store = complaint.store
        customer = await _profile_in_store(
            actor, await actor.group_wide().objects(Customer).get(Customer.id == complaint.customer), store_id
        )
        now = clock.now()
        await _move(
            actor, complaint, "reroute", State.RECEIVED, note=note,
            data={"from_store_id": old_store, "to_store_id": store_id},
            store=store_id, customer=customer.id, routed_at=now, accepted_at=None, handle_from=None, accused_user=None,
            handler_user=None,
        )
        # Appeals and compensations follow the complaint; timeline rows keep the store they happened at.
        for child in (ComplaintAppeal, ComplaintCompensation):
            await actor.group_wide().update(child, {child.store: store_id}).where(child.complaint == complaint.id)
        await alerts.routed(complaint)


async def complaints_handled_by(*, group_id: int, user_id: int) -> list[Complaint]:
    """The complaints a user is the handler of and still has work on (open, or a result report to submit)."""
    return await Scope.system(group_id).objects(Complaint).where(
        Complaint.handler_user == user_id,
        Complaint.state.not_in(list(workflow.FINAL_STATES)) | Complaint.report_state.is_in(["due", "returned"]),
    ).order_by(Complaint.id)


async def hand_over(*, actor: Scope, complaint: Complaint, to_user_id: int | None, note: str) -> None:
    """The handler can no longer work (their account was disabled): the complaint passes to `to_user_id` (the store's
    manager), or to nobody, and the timeline says so. The state and its deadlines stay as they are."""
    if to_user_id is not None and to_user_id == complaint.accused_user:
        to_user_id = None  # the staff member complained about may not handle it
    name = ""
    if to_user_id is not None:
        name = (await _store_user(actor.group_wide(), to_user_id, complaint.store, "handler_user_id"))["display_name"]
    await _move(
        actor, complaint, "assign", State(complaint.state), note=note,
        data={"handler_user_id": to_user_id, "handler_name": name, "department": complaint.handler_department,
              "handed_over_from": complaint.handler_user},
        handler_user=to_user_id,
    )


# ---------------------------------------------------------------- the store's handling


async def accept_complaint(*, actor: Scope, complaint_id: int, note: str = "") -> None:
    """门店受理: the store's customer-relations manager registers the complaint."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "accept")
        now = clock.now()
        await _move(actor, complaint, "accept", State.ACCEPTED, note=note, accepted_at=now, handle_from=now)


def _department_problem(department: str) -> FieldProblem | None:
    """The department is always chosen by a person (责任部门), never taken for granted."""
    if not department:
        return FieldProblem("department", "请选择部门", "Choose a department")
    if department not in DEPARTMENTS:
        return FieldProblem("department", "部门无效", "Unknown department")
    return None


async def assign_handler(
    *, actor: Scope, complaint_id: int, handler_user_id: int | None, department: str, note: str = ""
) -> None:
    """Issue the complaint form (《用户抱怨/投诉处理表》) to a handler of a department.

    Nothing is assumed: a missing handler or department is refused (both at once), never defaulted."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "assign")
        problems = [p for p in [_department_problem(department)] if p]
        if handler_user_id is None:
            problems.insert(0, FieldProblem("handler_user_id", "请选择处理人", "Choose a handler"))
        if problems or handler_user_id is None:
            raise InvalidInput(problems)
        handler = await _store_user(actor, handler_user_id, complaint.store, "handler_user_id")
        if handler_user_id == complaint.accused_user:
            raise InvalidInput.one(
                "handler_user_id", "被投诉员工不得处理本投诉", "The staff member complained about may not handle it"
            )
        await _move(
            actor, complaint, "assign", State.ASSIGNED, note=note,
            data={"handler_user_id": handler_user_id, "handler_name": handler["display_name"], "department": department},
            handler_user=handler_user_id, handler_department=department, assigned_at=clock.now(),
        )
        await alerts.assigned(complaint)


async def record_cause(
    *,
    actor: Scope,
    complaint_id: int,
    cause_category: str,
    department: str,
    liability: str,
    accused_user_id: int | None = None,
    note: str = "",
) -> None:
    """原因分析: service / customer / product problem, the department, 有责 or 无责 and the staff responsible."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "analyse")
        problems = []
        if not cause_category:
            problems.append(FieldProblem("cause_category", "请选择原因类别", "Choose the cause"))
        elif cause_category not in CAUSES:
            problems.append(FieldProblem("cause_category", "原因类别无效", "Unknown cause"))
        if department_problem := _department_problem(department):
            problems.append(department_problem)
        if liability not in LIABILITY:
            problems.append(FieldProblem("liability", "请选择有责或无责", "Choose liable or not liable"))
        if problems:
            raise InvalidInput(problems)
        accused = complaint.accused_user if accused_user_id is None else accused_user_id
        if accused_user_id is not None:
            await _store_user(actor, accused_user_id, complaint.store, "accused_user_id")
            if accused_user_id == complaint.handler_user:
                raise InvalidInput.one(
                    "accused_user_id",
                    "处理人不能是被投诉员工，请先改派处理人",
                    "The handler cannot be the staff member complained about; assign another handler first",
                )
        await _move(
            actor, complaint, "analyse", State.ANALYSED, note=note,
            data={"cause_category": cause_category, "department": department, "liability": liability,
                  "accused_user_id": accused},
            cause_category=cause_category, cause_department=department, liability=liability,
            accused_user=accused, cause_note=note, judged_at=clock.now(),
        )


async def record_countermeasure(*, actor: Scope, complaint_id: int, countermeasure: str, note: str = "") -> None:
    """对策: what the store does about it. Handling starts the 1-day clock for the result report."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "countermeasure")
        _required("countermeasure", countermeasure, "请填写处理对策", "Countermeasure is required")
        await _move(
            actor, complaint, "countermeasure", State.COUNTERMEASURE, note=note,
            data={"countermeasure": countermeasure.strip()},
            countermeasure=countermeasure.strip(), handled_at=complaint.handled_at or clock.now(),
        )


async def resolve_complaint(
    *, actor: Scope, complaint_id: int, resolution: str, improvement_measures: str = "", note: str = ""
) -> None:
    """处理完毕: the handling is complete. The result report to the CR department (`submit_result_report`)
    is the next, separate step, due a day later; improvement measures known now may be noted already."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "resolve")
        _required("resolution", resolution, "请填写处理结果", "Resolution is required")
        pending = await Scope.of(complaint).count(ComplaintCompensation).where(
            ComplaintCompensation.complaint == complaint.id, ComplaintCompensation.status == "pending"
        )
        if pending:
            raise Conflict("尚有待审批的补偿申请", "A compensation request is still awaiting approval",
                           {"pending_compensations": pending})
        await _move(
            actor, complaint, "resolve", State.RESOLVED, note=note,
            data={"resolution": resolution.strip(), "improvement_measures": improvement_measures.strip()},
            resolution=resolution.strip(), improvement_measures=improvement_measures.strip(),
            resolved_at=clock.now(),
        )
        await result_report.set_clock(
            complaint, result_report.DUE, await result_report.report_due_at(complaint, complaint.resolved_at)
        )


async def feed_back_to_group(*, actor: Scope, complaint_id: int, note: str = "") -> None:
    """处理结果反馈集团客服部 (within 24 h of completion)."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "feed_back")
        await _move(actor, complaint, "feed_back", State.FED_BACK, note=note,
                    feedback_note=note.strip(), fed_back_at=clock.now())
        await alerts.fed_back(complaint)


async def record_revisit(*, actor: Scope, complaint_id: int, satisfied: bool, note: str = "") -> None:
    """回访: the customer's satisfaction with the handling; an unsatisfied customer reopens it at the store."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "revisit")
        now = clock.now()
        data = {"satisfied": satisfied}
        if satisfied:
            await _move(actor, complaint, "revisit", State.REVISITED, note=note, data=data,
                        revisit_satisfied=True, revisit_note=note.strip(), revisited_at=now)
        else:
            await _move(actor, complaint, "revisit", State.REOPENED, note=note, data=data,
                        revisit_satisfied=False, revisit_note=note.strip(), revisited_at=now,
                        **_reopened(complaint))
            await result_report.set_clock(complaint, "", None)
            await alerts.reopened(complaint)


async def close_complaint(*, actor: Scope, complaint_id: int, note: str = "") -> None:
    """结案."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "close")
        await _move(actor, complaint, "close", State.CLOSED, note=note, closed_at=clock.now())


async def reopen_complaint(*, actor: Scope, complaint_id: int, reason: str) -> None:
    """重新处理: the cause is re-identified and the store handles it again; the reopen count rises."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "reopen")
        _required("reason", reason, "请填写重开原因", "A reason is required")
        await _move(actor, complaint, "reopen", State.REOPENED, note=reason, **_reopened(complaint))
        await result_report.set_clock(complaint, "", None)
        await alerts.reopened(complaint)


async def add_note(*, actor: Scope, complaint_id: int, note: str) -> None:
    async with transaction():
        complaint = await _load(actor, complaint_id, "add_note")
        _required("note", note, "请填写备注", "A note is required")
        await _move(actor, complaint, "add_note", State(complaint.state), note=note)


async def set_urgency(*, actor: Scope, complaint_id: int, urgency: str, note: str = "") -> None:
    """紧急 / 一般 changed after intake; a complaint still awaiting acceptance gets its deadline recomputed."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "set_urgency")
        if urgency not in deadlines.URGENCIES:
            raise InvalidInput([_URGENCY_PROBLEM])
        if urgency == complaint.urgency:
            raise InvalidInput.one("urgency", "紧急程度未改变", "The urgency is unchanged")
        await _move(actor, complaint, "set_urgency", State(complaint.state), note=note,
                    data={"from": complaint.urgency, "to": urgency}, urgency=urgency)
        await deadlines.sync(complaint)


# ---------------------------------------------------------------- result report (处理结果报告)


async def submit_result_report(
    *, actor: Scope, complaint_id: int, result: str, improvement_measures: str, note: str = ""
) -> int:
    """The department reports the result and its improvement measures (改善措施) to the CR department,
    which stops the report's clock (`crm.complaints.result_report`). Returns the report's id."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "submit_report")
        problems = []
        if not result.strip():
            problems.append(FieldProblem("result", "请填写处理结果", "The result is required"))
        if not improvement_measures.strip():
            problems.append(FieldProblem("improvement_measures", "请填写改善措施", "Improvement measures are required"))
        if problems:
            raise InvalidInput(problems)
        claimed = await actor.update(Complaint, {Complaint.report_state: result_report.SUBMITTED}).where(
            Complaint.id == complaint.id, Complaint.report_state.is_in(sorted(result_report.OWED))
        ).returning(Complaint.id)
        if not claimed:
            raise Conflict("处理结果报告已提交", "The result report was already submitted", {})
        now = clock.now()
        report = ComplaintResultReport(
            group=complaint.group, store=complaint.store, complaint=complaint.id, cycle=complaint.reopen_count,
            submitted_by=actor.user_id, submitted_at=now, result=result.strip(),
            improvement_measures=improvement_measures.strip(),
        )
        await report.save()
        late = complaint.report_due_at is not None and now > complaint.report_due_at
        await _move(
            actor, complaint, "submit_report", State(complaint.state), note=note,
            data={"report_id": report.id, "result": report.result, "improvement_measures": report.improvement_measures,
                  "due_at": complaint.report_due_at.isoformat() if complaint.report_due_at else None, "late": late},
            improvement_measures=report.improvement_measures,
        )
        await result_report.set_clock(complaint, result_report.SUBMITTED, None)
        await alerts.report_submitted(complaint)
    return report.id


async def check_result_report(*, actor: Scope, complaint_id: int, accepted: bool, note: str = "") -> None:
    """客关部检核: accept the report, or return it with a reason; a returned report is due again
    a full report period after its return."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "check_report")
        if not accepted:
            _required("note", note, "退回须填写原因", "A reason is required to send the report back")
        status = "accepted" if accepted else "returned"
        now = clock.now()
        checked = await Scope.of(complaint).update(
            ComplaintResultReport,
            {ComplaintResultReport.status: status, ComplaintResultReport.checked_by: actor.user_id,
             ComplaintResultReport.checked_at: now, ComplaintResultReport.check_note: note.strip()}
        ).where(
            ComplaintResultReport.complaint == complaint.id, ComplaintResultReport.status == "submitted"
        ).returning(ComplaintResultReport.id)
        if not checked:
            raise Conflict("处理结果报告已检核", "The result report was already checked", {})
        due_at = None if accepted else await result_report.report_due_at(complaint, now)
        await _move(actor, complaint, "check_report", State(complaint.state), note=note,
                    data={"report_id": checked[0]["id"], "accepted": accepted,
                          "due_at": due_at.isoformat() if due_at else None})
        await result_report.set_clock(complaint, result_report.ACCEPTED if accepted else result_report.RETURNED, due_at)
        if not accepted:
            await alerts.report_returned(complaint)


# ---------------------------------------------------------------- appeal (申诉)


async def file_appeal(*, actor: Scope, complaint_id: int, reason: str) -> int:
    """申诉单: the staff member complained about contests it; returns the appeal id."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "file_appeal")
        _required("reason", reason, "请填写申诉理由", "A reason is required")
        appeal = ComplaintAppeal(
            group=complaint.group, store=complaint.store, complaint=complaint.id, filed_by=actor.user_id,
            filed_at=clock.now(), reason=reason.strip(), previous_state=complaint.state,
        )
        await appeal.save()
        await _move(actor, complaint, "file_appeal", State.APPEALED, note=reason, data={"appeal_id": appeal.id})
        await alerts.appeal_filed(complaint)
    return appeal.id


async def forward_appeal(*, actor: Scope, complaint_id: int, opinion: str = "") -> None:
    """The department head adds an opinion and passes the appeal to the GM (提报总经理)."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "forward_appeal")
        appeal = await _pending_appeal(complaint)
        await Scope.of(appeal).update(
            ComplaintAppeal,
            {ComplaintAppeal.status: "forwarded", ComplaintAppeal.forwarded_by: actor.user_id,
             ComplaintAppeal.forwarded_at: clock.now(), ComplaintAppeal.head_opinion: opinion.strip()}
        ).where(ComplaintAppeal.id == appeal.id)
        await _move(actor, complaint, "forward_appeal", State.APPEAL_FORWARDED, note=opinion,
                    data={"appeal_id": appeal.id})
        await alerts.appeal_forwarded(complaint)


async def decline_appeal(*, actor: Scope, complaint_id: int, opinion: str) -> None:
    """The department head does not forward the appeal: handling resumes as after a rejected ruling."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "decline_appeal")
        _required("opinion", opinion, "请填写驳回理由", "A reason is required")
        appeal = await _pending_appeal(complaint)
        now = clock.now()
        await Scope.of(appeal).update(
            ComplaintAppeal,
            {ComplaintAppeal.status: "declined", ComplaintAppeal.forwarded_by: actor.user_id,
             ComplaintAppeal.head_opinion: opinion.strip()}
        ).where(ComplaintAppeal.id == appeal.id)
        await _move(actor, complaint, "decline_appeal", State(appeal.previous_state), note=opinion,
                    data={"appeal_id": appeal.id}, handle_from=now)


async def rule_appeal(*, actor: Scope, complaint_id: int, upheld: bool, note: str = "") -> None:
    """总经理裁决 on a forwarded appeal: upheld voids the complaint (the GM is the recorded approver);
    rejected resumes handling."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "rule_appeal")
        appeal = await _pending_appeal(complaint)
        now = clock.now()
        await Scope.of(appeal).update(
            ComplaintAppeal,
            {ComplaintAppeal.status: "upheld" if upheld else "rejected", ComplaintAppeal.ruled_by: actor.user_id,
             ComplaintAppeal.ruled_at: now, ComplaintAppeal.ruling_note: note.strip()}
        ).where(ComplaintAppeal.id == appeal.id)
        data = {"appeal_id": appeal.id, "upheld": upheld, "approver_user_id": actor.user_id}
        if upheld:
            await _move(actor, complaint, "rule_appeal", State.VOIDED, note=note, data=data, voided_at=now)
        else:
            # Handling was paused by the appeal; it resumes with a full handling deadline from the ruling.
            await _move(actor, complaint, "rule_appeal", State(appeal.previous_state), note=note, data=data,
                        handle_from=now)


# ---------------------------------------------------------------- compensation (权限核决表)


async def request_compensation(
    *, actor: Scope, complaint_id: int, amount: Decimal, kind: str, description: str = ""
) -> int:
    """Ask for a compensation; the authority table decides who must approve it. Returns its id."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "request_compensation")
        problems = []
        if (
            not amount.is_finite()
            or not Decimal("0") < amount <= MAX_COMPENSATION
            or amount != amount.quantize(Decimal("0.01"))
        ):
            problems.append(FieldProblem("amount", "金额须大于零、不超过一千万且最多两位小数",
                                         "Amount must be positive, at most 10,000,000, with at most 2 decimals"))
        if kind not in COMPENSATION_KINDS:
            problems.append(FieldProblem("kind", "补偿方式无效", "Unknown kind"))
        if problems:
            raise InvalidInput(problems)
        required = approver_for(await authority_table(complaint.group), amount)
        row = ComplaintCompensation(
            group=complaint.group, store=complaint.store, complaint=complaint.id, amount=amount, kind=kind,
            description=description.strip(), requested_by=actor.user_id, requested_at=clock.now(),
            required_role=str(required),
        )
        await row.save()
        await _move(
            actor, complaint, "request_compensation", State(complaint.state), note=description,
            data={"compensation_id": row.id, "amount": str(amount), "kind": kind, "required_role": str(required)},
        )
        await alerts.compensation_requested(complaint, row.id, amount, required)
    return row.id


async def decide_compensation(
    *, actor: Scope, complaint_id: int, compensation_id: int, approve: bool, note: str = ""
) -> None:
    """Approve or reject, by the role the authority table names for the amount or a higher one."""
    async with transaction():
        complaint = await _load(actor, complaint_id, "decide_compensation")
        row = await Scope.of(complaint).objects(ComplaintCompensation).where(
            ComplaintCompensation.id == compensation_id, ComplaintCompensation.complaint == complaint.id
        ).first()
        if row is None:
            raise NotFound("complaint_compensation")
        if row.status != "pending":
            raise Conflict("该补偿申请已审批", "Already decided", {"compensation_status": row.status})
        tiers = await authority_table(complaint.group)
        if not may_approve(tiers, actor.roles, Role(row.required_role)):
            required = Role(row.required_role)
            raise Forbidden(f"该金额须由{required.title_zh}或更高权限审批", f"Needs approval by {required.title_en} or higher")
        if row.requested_by == actor.user_id:
            raise Forbidden("申请人不能审批自己的申请", "You may not approve your own request")
        status = "approved" if approve else "rejected"
        await Scope.of(row).update(
            ComplaintCompensation,
            {ComplaintCompensation.status: status, ComplaintCompensation.decided_by: actor.user_id,
             ComplaintCompensation.decided_at: clock.now(), ComplaintCompensation.decision_note: note.strip()}
        ).where(ComplaintCompensation.id == row.id)
        await _move(
            actor, complaint, "decide_compensation", State(complaint.state), note=note,
            data={"compensation_id": row.id, "status": status, "amount": str(row.amount)},
        )


# ---------------------------------------------------------------- helpers


async def _load(actor: Scope, complaint_id: int, action: str) -> Complaint:
    complaint = await actor.get(Complaint, complaint_id)
    workflow.check(actor, complaint, action)
    return complaint


async def _move(
    actor: Scope | None,
    complaint: Complaint,
    action: str,
    to_state: State,
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> None:
    """Apply one step: conditional update from the state it started in, a timeline row, the deadline, the hooks."""
    from_state = State(complaint.state)
    now = clock.now()
    values = {"state": str(to_state), "updated_at": now, **changes}
    # The complaint as loaded (through the scope, or by its timer's group and store): its own group and store.
    updated = await Scope.of(complaint).update(Complaint, {getattr(Complaint, k): v for k, v in values.items()}).where(
        Complaint.id == complaint.id, Complaint.state == str(from_state)
    ).returning(Complaint.id)
    if not updated:
        current = await Scope.system(complaint.group).objects(Complaint).where(Complaint.id == complaint.id).first()
        raise Conflict(
            "投诉已被他人更新，请刷新后重试", "The complaint was changed meanwhile; reload and retry",
            {"state": current.state, "allowed": workflow.actions_from(current)},
        )
    for key, value in values.items():
        setattr(complaint, key, value)
    await _append(actor, complaint, action, from_state, to_state, note=note, data=data)
    if to_state != from_state or "store" in changes:
        await deadlines.sync(complaint, moved_store="store" in changes)
        await events.complaint_state_changed.send(
            group_id=complaint.group,
            store_id=complaint.store,
            complaint_id=complaint.id,
            action=action,
            from_state=str(from_state),
            to_state=str(to_state),
            actor_user_id=actor.user_id if actor else None,
        )


async def _append(
    actor: Scope | None,
    complaint: Complaint,
    action: str,
    from_state: str,
    to_state: str,
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """The timeline is append-only: this is the only writer, and nothing updates or deletes its rows."""
    await ComplaintEvent.insert(
        ComplaintEvent(
            group=complaint.group,
            store=complaint.store,
            complaint=complaint.id,
            at=clock.now(),
            actor_user=actor.user_id if actor else None,
            actor_name=actor.display_name if actor else "系统",
            action=action,
            from_state=str(from_state),
            to_state=str(to_state),
            note=note.strip(),
            data=data or {},
        )
    )


async def append_to_timeline(
    actor: Scope, complaint: Complaint, action: str, *, note: str = "", data: dict[str, Any] | None = None
) -> None:
    """A step beside the workflow that leaves the state as it is (an attachment added or removed)."""
    await _append(actor, complaint, action, complaint.state, complaint.state, note=note, data=data)


def _reopened(complaint: Complaint) -> dict[str, Any]:
    """A new handling cycle: the deadlines of the last one no longer apply."""
    return {
        "reopen_count": complaint.reopen_count + 1,
        "handle_from": clock.now(),
        "revisit_callback_id": None,
        "handled_at": None,
        "resolved_at": None,
        "fed_back_at": None,
        "closed_at": None,
    }


async def _pending_appeal(complaint: Complaint) -> ComplaintAppeal:
    appeal = await deadlines.pending_appeal(complaint)
    if appeal is None:
        raise Conflict("没有待裁决的申诉", "No appeal is pending", {})
    return appeal


async def _referenced(actor: Scope, table, row_id: int, field: str, zh: str, en: str):
    """A row named in a request body: out of scope is a field problem (400), like an unknown id."""
    try:
        return await actor.get(table, row_id)
    except NotFound:
        raise InvalidInput.one(field, zh, en) from None


async def _profile_in_store(actor: Scope, customer: Customer, store_id: int) -> Customer:
    """The customer's profile at the store the complaint goes to, made if the store does not know them
    yet: the store's staff can then open the customer's record (客户档案) from the complaint."""
    if customer.store == store_id or not customer.mobile:
        return customer
    profile_id = await find_or_create_customer(
        actor=actor, store_id=store_id, name=customer.name, mobile=customer.mobile, id_number=customer.id_number,
        kind=customer.kind, source="call_center" if actor.is_group_level else "manual",
    )
    return await actor.objects(Customer).get(Customer.id == profile_id)


async def _same_customer(customer: Customer, vehicle: Vehicle) -> bool:
    if vehicle.customer == customer.id:
        return True
    owner = await Scope.of(vehicle).select(Customer, Customer.group_identity).where(Customer.id == vehicle.customer).first()
    return owner is not None and owner["group_identity"] == customer.group_identity


async def _store_user(actor: Scope, user_id: int, store_id: int, field: str) -> dict[str, Any]:
    user = await actor.group_wide().select(User, User.id, User.display_name).where(
        User.id == user_id, User.store == store_id, User.active.eq(True)
    ).first()
    if user is None:
        raise InvalidInput.one(field, "该门店没有此员工", "No such staff member at this store")
    return user


_URGENCY_PROBLEM = FieldProblem("urgency", "紧急程度须为紧急或一般", "Urgency must be urgent or normal")


def _required(field: str, value: str, zh: str, en: str) -> None:
    if not value.strip():
        raise InvalidInput.one(field, zh, en)
