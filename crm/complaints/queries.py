"""Reading complaints: the lists (store inbox, group list, revisit queue), one complaint with its
timeline, and missed deadlines per store (staff accountability: `crm.complaints.accountability`). Everything through the
caller's scope; what the service returns are msgspec Structs the API and the web UI share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from crm import clock, lists
from crm.complaints import workflow
from crm.complaints.authority import authority_table, may_approve
from crm.complaints import result_report
from crm.complaints.deadlines import KIND_TITLES, URGENCIES
from crm.complaints.tables import (
    Complaint,
    ComplaintAppeal,
    ComplaintCompensation,
    ComplaintDeadlineMiss,
    ComplaintEvent,
    ComplaintResultReport,
)
from crm.complaints.workflow import FINAL_STATES, State
from crm.customers.service import car_keys, search_customers
from crm.customers.validation import Problems
from crm.customers.tables import Vehicle
from crm.db import like_term, transaction
from crm.customers.validation import normalise_mobile
from crm.privacy import vault
from crm.privacy.policy import shield
from crm.privacy.service import record_bulk_read, record_reveal
from tenants.errors import InvalidInput
from tenants.roles import GROUP_ROLES, Role
from tenants.scope import Scope
from tenants.tables import Store, User, UserRole

MAX_PAGE = 200
class ComplaintSummary(msgspec.Struct, kw_only=True):
    id: int
    store_id: int
    store_name: str
    state: str
    state_zh: str
    channel: str
    via_group: bool
    complainant_name: str
    complainant_phone: str
    plate: str
    vehicle_model: str
    content: str
    received_at: datetime
    due_kind: str
    due_kind_zh: str
    due_at: datetime | None
    overdue: bool
    reopen_count: int
    handler_name: str
    urgency: str
    urgency_zh: str


class TimelineEntry(msgspec.Struct, kw_only=True):
    id: int
    at: datetime
    actor_user_id: int | None
    actor_name: str
    action: str
    action_zh: str
    from_state: str
    to_state: str
    note: str
    data: dict[str, Any]


class AppealRecord(msgspec.Struct, kw_only=True):
    id: int
    filed_by: int
    filed_by_name: str
    filed_at: datetime
    reason: str
    status: str
    head_opinion: str
    forwarded_at: datetime | None
    ruled_by: int | None
    ruled_by_name: str
    ruled_at: datetime | None
    ruling_note: str


class CompensationRecord(msgspec.Struct, kw_only=True):
    id: int
    amount: Decimal
    kind: str
    description: str
    requested_by: int
    requested_by_name: str
    requested_at: datetime
    required_role: str
    required_role_zh: str
    status: str
    decided_by: int | None
    decided_by_name: str
    decided_at: datetime | None
    decision_note: str
    can_decide: bool  # may the viewer approve or reject it (authority table, not their own request)


class ResultReportRecord(msgspec.Struct, kw_only=True):
    """One submission of the result report (处理结果报告) and the CR department's check."""

    id: int
    cycle: int
    submitted_by: int
    submitted_by_name: str
    submitted_at: datetime
    result: str
    improvement_measures: str
    status: str
    checked_by: int | None
    checked_by_name: str
    checked_at: datetime | None
    check_note: str


class StaffMember(msgspec.Struct, kw_only=True):
    id: int
    display_name: str
    roles: list[str]


class CandidateVehicle(msgspec.Struct, kw_only=True):
    id: int
    plate: str
    vin: str
    model: str


class IntakeCandidate(msgspec.Struct, kw_only=True):
    """A customer the agent may mean, with their cars: one line per car in the intake screen."""

    customer_id: int
    name: str
    mobile: str
    store_id: int
    store_name: str
    vehicles: list[CandidateVehicle]


class ComplaintDetail(msgspec.Struct, kw_only=True):
    summary: ComplaintSummary
    customer_id: int
    customer_identity_id: int | None
    vehicle_id: int | None
    vin: str
    expected_solution: str
    external_ref: str
    source_callback_id: int | None
    intake_by_name: str
    accused_user_id: int | None
    accused_name: str
    handler_user_id: int | None
    handler_department: str
    cause_category: str
    cause_department: str
    liability: str
    cause_note: str
    countermeasure: str
    resolution: str
    improvement_measures: str
    feedback_note: str
    revisit_satisfied: bool | None
    revisit_note: str
    routed_at: datetime
    accepted_at: datetime | None
    judged_at: datetime | None
    handled_at: datetime | None
    resolved_at: datetime | None
    fed_back_at: datetime | None
    revisited_at: datetime | None
    closed_at: datetime | None
    voided_at: datetime | None
    actions: list[str]
    next_action: str | None  # the one of `actions` the page highlights (workflow.next_action)
    timeline: list[TimelineEntry]
    appeals: list[AppealRecord]
    report_state: str
    report_state_zh: str
    report_due_at: datetime | None
    result_reports: list[ResultReportRecord]
    compensations: list[CompensationRecord]
    deadline_misses: list[dict[str, Any]]


class StoreDeadlineStats(msgspec.Struct, kw_only=True):
    store_id: int
    store_name: str
    open_complaints: int
    overdue_now: int
    missed: dict[str, int]  # deadlines the store missed
    missed_total: int
    # Deadlines the group side missed on this store's complaints (its own revisit): not the store's fault.
    group_missed: dict[str, int] = {}
    group_missed_total: int = 0


# ---------------------------------------------------------------- lists


# The complaint lists' order: urgent (紧急) first; then overdue first falls out of sorting by deadline;
# complaints without one come last, newest first. Every column of the list sorts too.
_BY_DEADLINE = ("due_at IS NULL", Complaint.due_at, lists.Reverse(Complaint.received_at))
COMPLAINT_LIST = lists.ListSpec(
    name="complaints",
    sorts={
        "priority": (lists.Reverse("urgency = 'urgent'"), *_BY_DEADLINE),
        "id": (Complaint.id,),
        "due": _BY_DEADLINE,
        "state": (Complaint.state,),
        "store": (Complaint.store.name,),
        "customer": (Complaint.complainant_name,),
        "plate": (Complaint.plate,),
        "content": (Complaint.content,),
        "channel": (Complaint.channel,),
        "handler": (Complaint.handler_user.display_name,),
        "received": (Complaint.received_at,),
    },
    default_sort="priority",
    tiebreak=Complaint.id,
)
REVISIT_LIST = lists.ListSpec(name="revisits", sorts=COMPLAINT_LIST.sorts, default_sort="due", tiebreak=Complaint.id,
                              page_size=100)

# The export of a complaint list: the columns of the page, as the viewer sees them.
COMPLAINT_EXPORT = (
    lists.Column("编号", "No.", lambda c: c.id),
    lists.Column("紧急程度", "Urgency", lambda c: c.urgency_zh),
    lists.Column("时限", "Deadline", lambda c: c.due_kind_zh),
    lists.Column("截止时间", "Due at", lambda c: c.due_at),
    lists.Column("状态", "State", lambda c: c.state_zh),
    lists.Column("门店", "Store", lambda c: c.store_name),
    lists.Column("投诉人", "Complainant", lambda c: c.complainant_name),
    lists.Column("电话", "Phone", lambda c: c.complainant_phone),
    lists.Column("车牌", "Plate", lambda c: c.plate),
    lists.Column("投诉内容", "Content", lambda c: c.content),
    lists.Column("渠道", "Channel", lambda c: c.channel),
    lists.Column("处理人", "Handler", lambda c: c.handler_name),
    lists.Column("登记时间", "Received", lambda c: c.received_at),
)


@dataclass(frozen=True)
class ComplaintFilter:
    """What a complaint list keeps: the JSON list, the page and their exports each build one and pass it down."""

    state: str | None = None
    store_id: int | None = None
    channel: str | None = None
    open_only: bool = False
    overdue_only: bool = False
    q: str = ""


async def list_complaints(
    *, actor: Scope, filters: ComplaintFilter = ComplaintFilter(), want: lists.ListQuery | None = None,
) -> lists.Page[ComplaintSummary]:
    """The store inbox (store staff) or the group's list (group roles): one page, its total, in the asked order."""
    want = want or COMPLAINT_LIST.parse()
    where = _list_conditions(actor, filters)
    rows, total = await lists.fetch(COMPLAINT_LIST, want, rows=_summary_query(actor).where(*where),
                                    count=actor.count(Complaint).where(*where))
    items = _summaries(rows)
    await record_bulk_read(actor=actor, subject="complaint", records=items, fields=("complainant_phone",))
    return want.page_of(shield(actor, items), total)


async def export_complaints(
    *, actor: Scope, filters: ComplaintFilter = ComplaintFilter(), want: lists.ListQuery | None = None,
) -> list[ComplaintSummary]:
    """Every complaint of the list as shown (same filters and order, masked as the viewer sees it); counted and
    logged like any read of personal data in bulk."""
    want = want or COMPLAINT_LIST.parse()
    where = _list_conditions(actor, filters)
    items = _summaries(await lists.export_rows(COMPLAINT_LIST, want, rows=_summary_query(actor).where(*where)))
    await record_bulk_read(actor=actor, subject="complaint", records=items, fields=("complainant_phone",))
    return shield(actor, items)


def _list_conditions(actor: Scope, filters: ComplaintFilter) -> list[Any]:
    """The filters of the complaint lists, checked; the same for the page, the count and the export."""
    actor.require_role(*workflow.READERS)
    where: list[Any] = []
    if filters.state:
        if filters.state not in State._value2member_map_:
            raise InvalidInput.one("state", "状态无效", "Unknown state")
        where.append(Complaint.state == filters.state)
    if filters.store_id is not None:
        where.append(Complaint.store == actor.require_store(filters.store_id))
    if filters.channel:
        where.append(Complaint.channel == filters.channel)
    if filters.open_only:
        where.append(Complaint.state.not_in([str(s) for s in FINAL_STATES]))
    if filters.overdue_only:
        where.append(Complaint.due_at < clock.now())
    q = filters.q.strip()
    if q:
        term = f"%{like_term(q)}%"
        where.append(
            Complaint.complainant_name.ilike(term)
            | _phone_matches(q)
            | Complaint.plate.ilike(term)
            | Complaint.vin.ilike(term)
        )
    return where


def _phone_matches(q: str):
    """The complainant's phone, sealed, is found by keyed hashes: of the whole number (11 digits), else of its
    last 4 digits (a term of 4 to 10 digits matches on its last 4)."""
    digits = normalise_mobile(q.strip())
    if not digits.isdigit() or len(digits) < 4:
        return Complaint.id.is_null()  # no phone to look for: matches nothing
    if len(digits) == 11:
        return Complaint.complainant_phone_hash == vault.lookup(digits)
    return Complaint.complainant_phone_tail == vault.tail_lookup(digits)


async def revisit_queue(*, actor: Scope, want: lists.ListQuery | None = None) -> lists.Page[ComplaintSummary]:
    """Resolved complaints waiting for their revisit, soonest deadline first.

    Group customer service revisits what the group took (fed back by the store); store callback
    agents revisit what their store took.
    """
    actor.require_role(*workflow.REVISIT_ROLES)
    want = want or REVISIT_LIST.parse()
    if actor.has_role(*workflow.GROUP_REVISIT_ROLES):
        where = [Complaint.via_group.eq(True), Complaint.state == State.FED_BACK]
    else:
        where = [Complaint.via_group.eq(False), Complaint.state == State.RESOLVED]
    rows, total = await lists.fetch(REVISIT_LIST, want, rows=_summary_query(actor).where(*where),
                                    count=actor.count(Complaint).where(*where))
    return want.page_of(shield(actor, _summaries(rows)), total)


# Actions beside the complaint's course (a note, the urgency, compensation, re-routing): they never make it wait for someone.
SIDE_ACTIONS = frozenset({"add_note", "set_urgency", "request_compensation", "decide_compensation", "reroute"})


class WaitingComplaint(msgspec.Struct, kw_only=True):
    summary: ComplaintSummary
    next_actions: list[str]  # the steps the caller may take now, in the machine's order


async def waiting_for_me(*, actor: Scope, limit: int = MAX_PAGE) -> list[WaitingComplaint]:
    """Open complaints whose next step is the caller's (accept, assign, handle, feed back, revisit, close, report,
    appeal): the home page's "waiting for me", soonest deadline first. A handler sees the complaints assigned to
    them; a manager those of the store that wait for a manager."""
    actor.require_role(*workflow.READERS)
    query = _summary_query(actor).where(
        Complaint.state.not_in([str(s) for s in FINAL_STATES])
        | Complaint.report_state.is_in(["due", "returned", "submitted"]))
    summaries = _summaries(await COMPLAINT_LIST.ordered(query, COMPLAINT_LIST.parse()).limit(MAX_PAGE))
    if not summaries:
        return []
    facts = {r["id"]: r for r in await actor.filter(Complaint.select(
        Complaint.id, Complaint.accused_user, Complaint.handler_user, Complaint.report_state), Complaint).where(
        Complaint.id.is_in([s.id for s in summaries]))}
    waiting = []
    for summary in summaries:
        row = facts[summary.id]
        complaint = _Facts(summary.state, summary.via_group, row["accused_user"], row["handler_user"], row["report_state"])
        steps = [a for a in workflow.available_actions(actor, complaint) if a not in SIDE_ACTIONS]
        if steps:
            waiting.append(WaitingComplaint(summary=summary, next_actions=steps))
    return waiting[:limit]


class _Facts(msgspec.Struct):
    state: str
    via_group: bool
    accused_user: int | None
    handler_user: int | None
    report_state: str


async def complaint_detail(*, actor: Scope, complaint_id: int) -> ComplaintDetail:
    actor.require_role(*workflow.READERS)
    complaint = await actor.get(Complaint, complaint_id)
    summary = shield(actor, _summaries(await _summary_query(actor).where(Complaint.id == complaint_id))[0])
    # A complaint's rows are in its group; missed deadlines and reports keep the store they happened at.
    in_group = actor.group_wide()
    appeals = await in_group.select(ComplaintAppeal).where(ComplaintAppeal.complaint == complaint.id).order_by(
        ComplaintAppeal.id
    )
    compensations = await in_group.select(ComplaintCompensation).where(
        ComplaintCompensation.complaint == complaint.id
    ).order_by(ComplaintCompensation.id)
    reports = await in_group.select(ComplaintResultReport).where(
        ComplaintResultReport.complaint == complaint.id
    ).order_by(ComplaintResultReport.id)
    names = await _user_names(
        in_group,
        {complaint.intake_by, complaint.accused_user}
        | {r["submitted_by"] for r in reports}
        | {r["checked_by"] for r in reports}
        | {a["filed_by"] for a in appeals}
        | {a["ruled_by"] for a in appeals}
        | {c["requested_by"] for c in compensations}
        | {c["decided_by"] for c in compensations}
    )
    actions = workflow.available_actions(actor, complaint)
    tiers = await authority_table(complaint.group)
    misses = await in_group.select(
        ComplaintDeadlineMiss, ComplaintDeadlineMiss.kind, ComplaintDeadlineMiss.due_at, ComplaintDeadlineMiss.missed_at
    ).where(ComplaintDeadlineMiss.complaint == complaint.id).order_by(ComplaintDeadlineMiss.id)
    return ComplaintDetail(
        summary=summary,
        customer_id=complaint.customer,
        customer_identity_id=complaint.customer_identity,
        vehicle_id=complaint.vehicle,
        vin=complaint.vin,
        expected_solution=complaint.expected_solution,
        external_ref=complaint.external_ref,
        source_callback_id=complaint.source_callback_id,
        intake_by_name=names.get(complaint.intake_by, ""),
        accused_user_id=complaint.accused_user,
        accused_name=names.get(complaint.accused_user, ""),
        handler_user_id=complaint.handler_user,
        handler_department=complaint.handler_department,
        cause_category=complaint.cause_category,
        cause_department=complaint.cause_department,
        liability=complaint.liability,
        cause_note=complaint.cause_note,
        countermeasure=complaint.countermeasure,
        resolution=complaint.resolution,
        improvement_measures=complaint.improvement_measures,
        feedback_note=complaint.feedback_note,
        revisit_satisfied=complaint.revisit_satisfied,
        revisit_note=complaint.revisit_note,
        routed_at=complaint.routed_at,
        accepted_at=complaint.accepted_at,
        judged_at=complaint.judged_at,
        handled_at=complaint.handled_at,
        resolved_at=complaint.resolved_at,
        fed_back_at=complaint.fed_back_at,
        revisited_at=complaint.revisited_at,
        closed_at=complaint.closed_at,
        voided_at=complaint.voided_at,
        actions=actions,
        next_action=workflow.next_action(actor, complaint),
        timeline=await timeline(actor=actor, complaint_id=complaint.id),
        report_state=complaint.report_state,
        report_state_zh=result_report.STATE_TITLES[complaint.report_state][0] if complaint.report_state else "",
        report_due_at=complaint.report_due_at,
        result_reports=[
            ResultReportRecord(
                id=r["id"], cycle=r["cycle"], submitted_by=r["submitted_by"],
                submitted_by_name=names.get(r["submitted_by"], ""), submitted_at=r["submitted_at"],
                result=r["result"], improvement_measures=r["improvement_measures"], status=r["status"],
                checked_by=r["checked_by"], checked_by_name=names.get(r["checked_by"], ""),
                checked_at=r["checked_at"], check_note=r["check_note"],
            )
            for r in reports
        ],
        appeals=[
            AppealRecord(
                id=a["id"], filed_by=a["filed_by"], filed_by_name=names.get(a["filed_by"], ""),
                filed_at=a["filed_at"], reason=a["reason"], status=a["status"], head_opinion=a["head_opinion"],
                forwarded_at=a["forwarded_at"], ruled_by=a["ruled_by"], ruled_by_name=names.get(a["ruled_by"], ""),
                ruled_at=a["ruled_at"], ruling_note=a["ruling_note"],
            )
            for a in appeals
        ],
        compensations=[
            CompensationRecord(
                id=c["id"], amount=c["amount"], kind=c["kind"], description=c["description"],
                requested_by=c["requested_by"], requested_by_name=names.get(c["requested_by"], ""),
                requested_at=c["requested_at"], required_role=c["required_role"],
                required_role_zh=Role(c["required_role"]).title_zh, status=c["status"],
                decided_by=c["decided_by"], decided_by_name=names.get(c["decided_by"], ""),
                decided_at=c["decided_at"], decision_note=c["decision_note"],
                can_decide=c["status"] == "pending" and "decide_compensation" in actions
                and c["requested_by"] != actor.user_id
                and may_approve(tiers, actor.roles, Role(c["required_role"])),
            )
            for c in compensations
        ],
        deadline_misses=[
            {**m, "kind_zh": KIND_TITLES[m["kind"]][0]} for m in misses
        ],
    )


async def reveal_complaint_field(*, actor: Scope, complaint_id: int, field: str, reason: str) -> str:
    """The complainant's phone in clear, for a role allowed to see it; the reveal is logged."""
    actor.require_role(*workflow.READERS)
    async with transaction():
        complaint = await actor.get(Complaint, complaint_id)  # outside the scope: 404 before anything else
        if field != "complainant_phone":
            raise InvalidInput.one("field", "该字段不可查看", "This field cannot be revealed")
        await record_reveal(actor=actor, store_id=complaint.store, subject="complaint", subject_id=complaint_id,
                            field=field, reason=reason)
    return complaint.complainant_phone


TIMELINE_LIST = lists.ListSpec(
    name="timeline",
    sorts={"at": (ComplaintEvent.id,), "action": (ComplaintEvent.action,), "actor": (ComplaintEvent.actor_name,)},
    default_sort="at",
    tiebreak=ComplaintEvent.id,
    page_size=100,
)


async def timeline(*, actor: Scope, complaint_id: int) -> list[TimelineEntry]:
    """The complaint's steps in order (append-only), all of them: the complaint page tells the whole story."""
    return (await timeline_page(actor=actor, complaint_id=complaint_id, want=None)).items


async def timeline_page(*, actor: Scope, complaint_id: int, want: lists.ListQuery | None
                        ) -> lists.Page[TimelineEntry]:
    """The complaint's steps, a page with the total (`want`), or all of them oldest first (None). Rows keep the
    store each step happened at, so a re-routed complaint's earlier steps are read through the complaint, which
    the caller may see: the complaint's group (read with actor.get)."""
    await actor.get(Complaint, complaint_id)
    mine = ComplaintEvent.complaint == complaint_id
    return await lists.fetch_page(TIMELINE_LIST, want, rows=actor.group_wide().select(ComplaintEvent).where(mine),
                                  count=actor.group_wide().count(ComplaintEvent).where(mine), item=_entry)


def _entry(r: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(
        id=r["id"], at=r["at"], actor_user_id=r["actor_user"], actor_name=r["actor_name"],
        action=r["action"], action_zh=_action_zh(r["action"]), from_state=r["from_state"],
        to_state=r["to_state"], note=r["note"], data=r["data"] if isinstance(r["data"], dict) else msgspec.json.decode(r["data"] or "{}"),
    )


async def intake_candidates(*, actor: Scope, q: str, limit: int = 10) -> list[IntakeCandidate]:
    """Customers matching a phone, plate, VIN or name, with their active vehicles, for the intake screen.

    A complete VIN or plate lists only that car under each customer: taking the row takes the car as well."""
    actor.require_role(*workflow.INTAKE_ROLES)
    found = await search_customers(actor=actor, q=q, limit=limit)
    found = [c for c in found if c.active]
    if not found:
        return []
    vehicles: dict[int, list[CandidateVehicle]] = {}
    query = actor.filter(
        Vehicle.select(Vehicle.id, Vehicle.customer, Vehicle.plate, Vehicle.vin, Vehicle.model), Vehicle
    ).where(Vehicle.customer.is_in([c.id for c in found]), Vehicle.active.eq(True))
    problems = Problems()
    vin, plate = car_keys(problems, q if len(q.strip()) >= 17 else "", q if len(q.strip()) < 17 else "")
    if not problems.items and (vin or plate):
        query = query.where(Vehicle.vin == vin) if vin else query.where(Vehicle.plate == plate)
    rows = await query.order_by(Vehicle.id)
    for r in rows:
        vehicles.setdefault(r["customer"], []).append(
            CandidateVehicle(id=r["id"], plate=r["plate"], vin=r["vin"], model=r["model"])
        )
    return [
        IntakeCandidate(
            customer_id=c.id, name=c.name, mobile=c.mobile, store_id=c.store_id, store_name=c.store_name,
            vehicles=vehicles.get(c.id, []),
        )
        for c in found
    ]


async def complaint_staff(*, actor: Scope, complaint_id: int) -> list[StaffMember]:
    """Who at the complaint's store can be named handler or the staff member complained about."""
    complaint = await actor.get(Complaint, complaint_id)
    return await store_staff(actor=actor, store_id=complaint.store)


async def store_staff(*, actor: Scope, store_id: int) -> list[StaffMember]:
    actor.require_store(store_id)
    users = await actor.select(User, User.id, User.display_name).where(
        User.store == store_id, User.active.eq(True)
    ).order_by(User.display_name)
    roles: dict[int, list[str]] = {}
    if users:
        for r in await UserRole.select(UserRole.user, UserRole.role).where(
            UserRole.user.is_in([u["id"] for u in users])
        ):
            roles.setdefault(r["user"], []).append(r["role"])
    staff = [StaffMember(id=u["id"], display_name=u["display_name"], roles=sorted(roles.get(u["id"], []))) for u in users]
    # Department heads first: complaint forms go to them (《用户抱怨/投诉处理表》 to the department head).
    return sorted(staff, key=lambda m: Role.DEPARTMENT_HEAD not in m.roles)


# ---------------------------------------------------------------- missed deadlines


async def deadline_stats(*, actor: Scope, since: datetime, until: datetime) -> list[StoreDeadlineStats]:
    """Per store: open complaints, overdue now, and deadlines missed in the period — for the dashboards."""
    now = clock.now()
    open_q = actor.filter(
        Complaint.select(Complaint.store, Count(Complaint.id, alias="n")), Complaint
    ).where(Complaint.state.not_in([str(s) for s in FINAL_STATES])).group_by(Complaint.store)
    overdue_q = actor.filter(
        Complaint.select(Complaint.store, Count(Complaint.id, alias="n")), Complaint
    ).where(Complaint.due_at < now).group_by(Complaint.store)
    missed_q = actor.filter(
        ComplaintDeadlineMiss.select(
            ComplaintDeadlineMiss.store, ComplaintDeadlineMiss.kind, ComplaintDeadlineMiss.responsible_role,
            Count(ComplaintDeadlineMiss.id, alias="n"),
        ),
        ComplaintDeadlineMiss,
    ).where(ComplaintDeadlineMiss.missed_at >= since, ComplaintDeadlineMiss.missed_at < until).group_by(
        ComplaintDeadlineMiss.store, ComplaintDeadlineMiss.kind, ComplaintDeadlineMiss.responsible_role
    )
    open_n = {r["store"]: r["n"] for r in await open_q}
    overdue_n = {r["store"]: r["n"] for r in await overdue_q}
    missed: dict[int, dict[str, int]] = {}
    group_missed: dict[int, dict[str, int]] = {}
    group_roles = {str(role) for role in GROUP_ROLES}
    for r in await missed_q:
        side = group_missed if r["responsible_role"] in group_roles else missed
        counts = side.setdefault(r["store"], {})
        counts[r["kind"]] = counts.get(r["kind"], 0) + r["n"]
    stores = await Store.select(Store.id, Store.name).where(
        Store.id.is_in(sorted(actor.store_ids) or [-1])
    ).order_by(Store.id)
    return [
        StoreDeadlineStats(
            store_id=s["id"], store_name=s["name"], open_complaints=open_n.get(s["id"], 0),
            overdue_now=overdue_n.get(s["id"], 0), missed=missed.get(s["id"], {}),
            missed_total=sum(missed.get(s["id"], {}).values()),
            group_missed=group_missed.get(s["id"], {}),
            group_missed_total=sum(group_missed.get(s["id"], {}).values()),
        )
        for s in stores
    ]


# ---------------------------------------------------------------- helpers


def _summary_query(actor: Scope):
    return actor.filter(
        Complaint.select(
            Complaint.id, Complaint.store, Complaint.store.name.as_alias("store_name"), Complaint.state,
            Complaint.channel, Complaint.via_group, Complaint.complainant_name, Complaint.complainant_phone,
            Complaint.plate, Complaint.vehicle_model, Complaint.content, Complaint.received_at,
            Complaint.due_kind, Complaint.due_at, Complaint.reopen_count, Complaint.urgency,
            Complaint.handler_user.display_name.as_alias("handler_name"),
        ),
        Complaint,
    )


def _summaries(rows: list[dict[str, Any]]) -> list[ComplaintSummary]:
    now = clock.now()
    return [
        ComplaintSummary(
            id=r["id"], store_id=r["store"], store_name=r["store_name"], state=r["state"],
            state_zh=State(r["state"]).title_zh, channel=r["channel"], via_group=r["via_group"],
            complainant_name=r["complainant_name"], complainant_phone=r["complainant_phone"], plate=r["plate"],
            vehicle_model=r["vehicle_model"], content=r["content"], received_at=r["received_at"],
            due_kind=r["due_kind"], due_kind_zh=KIND_TITLES[r["due_kind"]][0] if r["due_kind"] else "",
            due_at=r["due_at"], overdue=r["due_at"] is not None and r["due_at"] < now,
            reopen_count=r["reopen_count"], handler_name=r["handler_name"] or "",
            urgency=r["urgency"], urgency_zh=URGENCIES[r["urgency"]][0],
        )
        for r in rows
    ]


async def _user_names(scope: Scope, ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = await scope.select(User, User.id, User.display_name).where(User.id.is_in(wanted))
    return {r["id"]: r["display_name"] for r in rows}


def _action_zh(action: str) -> str:
    if action in workflow.ACTIONS:
        return workflow.ACTIONS[action].label_zh
    return {"create": "登记投诉", "deadline_missed": "超时", "attachment_added": "上传附件",
            "attachment_removed": "删除附件"}.get(action, action)
