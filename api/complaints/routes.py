"""Complaints API (投诉) under /api/v1/complaints: intake (call center, store, integrations), the
workflow steps, the lists and queues, accountability, and the group's policy and authority table.

Thin: each handler validates its body (msgspec) and calls one `crm.complaints` function. A step
that cannot start from the complaint's state answers 409 with the allowed steps.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, Router, get, patch, post, put
from litestar.params import Parameter

from api.privacy.routes import RevealRequest, Revealed
from api.i18n import language_of
from api.lists import FormatParam, PageParam, PageSizeParam, SortParam, export_response, filtered_by
from api.params import Id, IdParam, OptionalIdParam, text_param, text
from crm import clock, lists
from crm.lists import Page
from crm.complaints import accountability as accounts
from crm.complaints import authority, queries, service, workflow
from crm.complaints.accountability import AccountabilityMonth, ViolationRecord
from crm.major import service as major_service
from crm.complaints.queries import (
    ComplaintDetail,
    ComplaintSummary,
    StaffMember,
    StoreDeadlineStats,
    TimelineEntry,
)
from tenants.errors import InvalidInput
from tenants.roles import Role
from tenants.scope import Scope, timezone_of

Text = text(5000)
Note = text(2000)
Channel = Literal["hotline_400", "walk_in", "callback", "manufacturer", "online", "email", "media", "store_phone"]
Department = Literal["sales", "service", "parts", "accessories", "other"]
Urgency = Literal["urgent", "normal"]


class IntakeRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    channel: Channel
    content: text(5000, 1)
    customer_id: Id | None = None
    # No customer yet: a minimal record in `store_id` (name and mainland mobile).
    new_customer_name: text(100) = ""
    new_customer_mobile: text(20) = ""
    vehicle_id: Id | None = None
    # Or the car instead of customer_id / vehicle_id: its VIN (17 characters, no I/O/Q) and/or plate
    # (京A12345, new-energy 粤AD12345); the customer and the vehicle are looked up in the caller's stores.
    vin: text(20) = ""
    plate: text(12) = ""
    store_id: Id | None = None
    expected_solution: Text = ""
    complainant_name: text(100) = ""
    complainant_phone: text(20) = ""
    accused_user_id: Id | None = None
    external_ref: text(64) = ""
    source_callback_id: Id | None = None
    # An earlier complaint of this customer or vehicle in the window: the same problem (→ major, 重复投诉) or
    # a different one (with a reason). Left out: group customer service decides later.
    repeat_decision: Literal["same", "different"] | None = None
    repeat_reason: text(200) = ""
    urgency: Urgency = "normal"


class Created(msgspec.Struct):
    id: int


class NoteRequest(msgspec.Struct, forbid_unknown_fields=True):
    note: Note = ""


class RequiredNote(msgspec.Struct, forbid_unknown_fields=True):
    note: text(2000, 1)


class RerouteRequest(msgspec.Struct, forbid_unknown_fields=True):
    store_id: Id
    note: Note = ""


class AssignRequest(msgspec.Struct, forbid_unknown_fields=True):
    handler_user_id: Id
    department: Department
    note: Note = ""


class AnalyseRequest(msgspec.Struct, forbid_unknown_fields=True):
    cause_category: Literal["service", "customer", "product"]
    department: Department
    liability: Literal["liable", "not_liable"]
    accused_user_id: Id | None = None
    note: Note = ""


class CountermeasureRequest(msgspec.Struct, forbid_unknown_fields=True):
    countermeasure: text(5000, 1)
    note: Note = ""


class ResolveRequest(msgspec.Struct, forbid_unknown_fields=True):
    resolution: text(5000, 1)
    # Known already at completion; the result report (`/report`) is what carries them to the CR department.
    improvement_measures: Text = ""
    note: Note = ""


class ResultReportRequest(msgspec.Struct, forbid_unknown_fields=True):
    result: text(5000, 1)
    improvement_measures: text(5000, 1)
    note: Note = ""


class ReportCheckRequest(msgspec.Struct, forbid_unknown_fields=True):
    accepted: bool
    note: Note = ""  # required when the report is sent back (the service says so)


class UrgencyRequest(msgspec.Struct, forbid_unknown_fields=True):
    urgency: Urgency
    note: Note = ""


class RevisitRequest(msgspec.Struct, forbid_unknown_fields=True):
    satisfied: bool
    note: Note = ""


class ReasonRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: text(2000, 1)


class ForwardRequest(msgspec.Struct, forbid_unknown_fields=True):
    opinion: Note = ""


class DeclineRequest(msgspec.Struct, forbid_unknown_fields=True):
    opinion: text(2000, 1)


class RulingRequest(msgspec.Struct, forbid_unknown_fields=True):
    upheld: bool
    note: Note = ""


class CompensationRequest(msgspec.Struct, forbid_unknown_fields=True):
    amount: Decimal  # msgspec cannot bound a Decimal; the service checks it
    kind: Literal["cash", "voucher", "parts", "service", "other"]
    description: Text = ""


class DecisionRequest(msgspec.Struct, forbid_unknown_fields=True):
    approve: bool
    note: Note = ""


class PolicyBody(msgspec.Struct, forbid_unknown_fields=True):
    accept_working_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 2
    urgent_accept_working_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 1
    handle_working_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 1
    report_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 1
    feedback_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 24
    revisit_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 3
    appeal_forward_working_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 1
    appeal_ruling_working_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 1


class PolicyChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The deadlines to change; omitted ones keep their current value."""

    accept_working_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] | None = None
    urgent_accept_working_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] | None = None
    handle_working_days: Annotated[int, msgspec.Meta(ge=1, le=30)] | None = None
    report_days: Annotated[int, msgspec.Meta(ge=1, le=30)] | None = None
    feedback_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] | None = None
    revisit_days: Annotated[int, msgspec.Meta(ge=1, le=30)] | None = None
    appeal_forward_working_days: Annotated[int, msgspec.Meta(ge=1, le=30)] | None = None
    appeal_ruling_working_days: Annotated[int, msgspec.Meta(ge=1, le=30)] | None = None


class DepartmentAmounts(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Suggested amounts (RMB) of one department; null: not set (bounds: checked by the service)."""

    liable: Decimal | None = None
    not_in_time: Decimal | None = None
    first_violation: Decimal | None = None
    second_violation: Decimal | None = None


class AmountsBody(msgspec.Struct, forbid_unknown_fields=True):
    amounts: dict[Literal["sales", "service", "accessories", "other"], DepartmentAmounts]


class ViolationRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    staff_user_id: Id
    department: Literal["sales", "service", "accessories", "other"]
    occurred_on: date
    description: text(2000, 1)
    kind: Literal["process", "customer_data"] = "process"
    complaint_id: Id | None = None


class Tier(msgspec.Struct, forbid_unknown_fields=True):
    approver_role: str
    max_amount: Decimal | None = None


class AuthorityBody(msgspec.Struct, forbid_unknown_fields=True):
    tiers: Annotated[list[Tier], msgspec.Meta(min_length=1, max_length=10)]


class RoutingSuggestionOut(msgspec.Struct):
    store_id: int
    store_name: str
    reason: str
    reason_zh: str
    last_contact_at: datetime | None


# ---------------------------------------------------------------- intake and lists


@post("/", status_code=201)
async def take_complaint(actor: Scope, data: IntakeRequest) -> Created:
    """Record a complaint and route it (without `store_id`: to the suggested store)."""
    fields = msgspec.structs.asdict(data)
    return Created(id=await major_service.register_with_repeat_decision(actor=actor, decision_required=False, **fields))


def complaint_filter(
    in_state: Annotated[str | None, Parameter(query="state")] = None,
    store_id: OptionalIdParam = None,
    channel: Channel | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
    q: text_param(100) = "",
) -> queries.ComplaintFilter:
    """The complaint list's filters, for the list and its export alike."""
    return queries.ComplaintFilter(state=in_state, store_id=store_id, channel=channel, open_only=open_only,
                                   overdue_only=overdue_only, q=q)


@get("/")
@filtered_by(complaint_filter)
async def list_complaints(
    actor: Scope,
    filters: queries.ComplaintFilter,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[ComplaintSummary]:
    """The caller's complaints (a store's inbox, or the group's list), one page with the total.

    `sort`: `priority` (default: urgent first, then by deadline), `id`, `due`, `state`, `store`, `customer`,
    `plate`, `content`, `channel`, `handler`, `received`; `-key` for descending."""
    want = queries.COMPLAINT_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await queries.list_complaints(actor=actor, filters=filters, want=want)


@get("/export")
@filtered_by(complaint_filter)
async def export_complaints(
    request: Request,
    actor: Scope,
    filters: queries.ComplaintFilter,
    sort: SortParam = "",
    format: FormatParam = "xlsx",
) -> Response:
    """The list with the same filters and order, every page, as XLSX or CSV; personal data masked as the caller
    sees it, counted and logged like any bulk read."""
    items = await queries.export_complaints(actor=actor, filters=filters, want=queries.COMPLAINT_LIST.parse(sort=sort))
    return export_response(queries.COMPLAINT_EXPORT, items, format=format, name=queries.COMPLAINT_LIST.name,
                           zone=await timezone_of(group=actor.group_id), english=language_of(request) == "en")


@get("/routing-suggestion")
async def routing_suggestion(
    actor: Scope, customer_id: IdParam, vehicle_id: OptionalIdParam = None
) -> RoutingSuggestionOut:
    """The store the customer last dealt with for the vehicle, else their home store."""
    s = await service.suggest_store(actor=actor, customer_id=customer_id, vehicle_id=vehicle_id)
    return RoutingSuggestionOut(s.store_id, s.store_name, s.reason, s.reason_zh, s.last_contact_at)


@get("/revisit-queue")
async def revisit_queue(
    actor: Scope, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[ComplaintSummary]:
    """Resolved complaints due for the revisit (回访), one page with the total. `sort`: `due` (default, soonest
    revisit deadline first), `priority`, `id`, `state`, `store`, `customer`, `plate`, `content`, `channel`,
    `handler`, `received`; `-key` for descending."""
    want = queries.REVISIT_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await queries.revisit_queue(actor=actor, want=want)


@get("/accountability")
async def accountability(
    actor: Scope, month: text_param(7), store_id: OptionalIdParam = None
) -> AccountabilityMonth:
    """The month (YYYY-MM) per staff member: complaints judged 有责, complaints not handled in time, and
    process violations with their 1st / 2nd / 3rd (dismissal) step per department; suggested amounts."""
    return await accounts.accountability_month(actor=actor, month=month, store_id=store_id)


@get("/accountability/export", media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
async def export_accountability(actor: Scope, month: text_param(7), store_id: OptionalIdParam = None) -> Response:
    """The month as an XLSX workbook (Chinese headers, frozen header row)."""
    body = await accounts.export_month_xlsx(actor=actor, month=month, store_id=store_id)
    return Response(
        content=body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="accountability-{month}.xlsx"'},
    )


@get("/accountability/amounts")
async def get_amounts(actor: Scope) -> AmountsBody:
    """The group's suggested amounts per department (the seed figures until set)."""
    return _amounts_body(await accounts.group_amounts(actor=actor))


@put("/accountability/amounts")
async def put_amounts(actor: Scope, data: AmountsBody) -> AmountsBody:
    """Group admins set the amounts of the departments given."""
    saved = await accounts.set_amounts(actor=actor, amounts={
        d: accounts.Amounts(**msgspec.structs.asdict(a)) for d, a in data.amounts.items()
    })
    return _amounts_body(saved)


def _amounts_body(amounts: dict[str, accounts.Amounts]) -> AmountsBody:
    return AmountsBody(amounts={d: DepartmentAmounts(**vars(a)) for d, a in amounts.items()})


@post("/violations", status_code=201)
async def record_violation(actor: Scope, data: ViolationRequest) -> ViolationRecord:
    """A store manager records a process violation (业务流程违规) against a staff member."""
    violation_id = await accounts.record_violation(actor=actor, **msgspec.structs.asdict(data))
    return await accounts.violation(actor=actor, violation_id=violation_id)


@get("/violations/{violation_id:int}")
async def get_violation(actor: Scope, violation_id: IdParam) -> ViolationRecord:
    """One recorded process violation (业务流程违规) with its step (1st, 2nd, 3rd) for the staff member."""
    return await accounts.violation(actor=actor, violation_id=violation_id)


@get("/deadline-stats")
async def deadline_stats(actor: Scope, days: int = 30) -> Page[StoreDeadlineStats]:
    """Per store: open, overdue now, and deadlines missed in the last `days` days; every store the caller sees, in
    store order, on one page (`sort` is `store`)."""
    if not 1 <= days <= 366:
        raise InvalidInput.one("days", "天数须在 1 到 366 之间", "Days must be between 1 and 366")
    now = clock.now()
    return lists.whole(await queries.deadline_stats(actor=actor, since=now - timedelta(days=days), until=now),
                       sort="store")


@get("/workflow", sync_to_thread=False)
def describe_workflow() -> dict:
    """The state machine: states with their titles, and each action's sources, targets and roles."""
    return {
        "states": [{"state": str(s), "title_zh": s.title_zh, "title_en": s.title_en} for s in workflow.State],
        "actions": workflow.describe(),
    }


@get("/policy")
async def get_policy(actor: Scope) -> PolicyBody:
    """The group's complaint deadlines (acceptance, handling, result report, feedback, revisit, appeal)."""
    policy = await authority.policy_for_group(actor.group_id)
    return PolicyBody(**vars(policy))


@put("/policy")
async def put_policy(actor: Scope, data: PolicyBody) -> PolicyBody:
    """Group admins set the deadlines (acceptance in working hours, shorter for urgent complaints; handling and the
    result report in working days; feedback hours; revisit days)."""
    await authority.set_policy(actor=actor, policy=authority.Policy(**msgspec.structs.asdict(data)))
    return data


@patch("/policy")
async def patch_policy(actor: Scope, data: PolicyChange) -> PolicyBody:
    """Group admins change some deadlines; the fields left out keep their current values (`PUT` replaces all)."""
    changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not None}
    return PolicyBody(**vars(await authority.change_policy(actor=actor, changes=changes)))


@get("/authority")
async def get_authority(actor: Scope) -> AuthorityBody:
    """The group's 权限核决表: which role approves compensation up to which amount."""
    tiers = await authority.authority_table(actor.group_id)
    return AuthorityBody(tiers=[Tier(approver_role=str(t.approver_role), max_amount=t.max_amount) for t in tiers])


@put("/authority")
async def put_authority(actor: Scope, data: AuthorityBody) -> AuthorityBody:
    """Replace the group's 权限核决表: rising limits, the last tier unlimited."""
    problems = [i for i, t in enumerate(data.tiers) if t.approver_role not in Role._value2member_map_]
    if problems:
        raise InvalidInput.one(f"tiers[{problems[0]}].approver_role", "角色无效", "Unknown role")
    await authority.set_authority_table(
        actor=actor, tiers=[authority.AuthorityTier(t.max_amount, Role(t.approver_role)) for t in data.tiers]
    )
    return data


# ---------------------------------------------------------------- one complaint


@get("/{complaint_id:int}")
async def get_complaint(actor: Scope, complaint_id: IdParam) -> ComplaintDetail:
    """The complaint with its timeline and the actions the caller may take now."""
    return await queries.complaint_detail(actor=actor, complaint_id=complaint_id)


@post("/{complaint_id:int}/reveal", status_code=200)
async def reveal(actor: Scope, complaint_id: IdParam, data: RevealRequest) -> Revealed:
    """The complainant's phone (`complainant_phone`) in clear, for a role allowed to see it: the reveal is written
    to the access log and counts against the caller's hourly limit (429)."""
    value = await queries.reveal_complaint_field(actor=actor, complaint_id=complaint_id, field=data.field,
                                                 reason=data.reason)
    return Revealed(field=data.field, value=value)


@get("/{complaint_id:int}/timeline")
async def get_timeline(
    actor: Scope, complaint_id: IdParam, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[TimelineEntry]:
    """The complaint's timeline (append-only): every step, note and deadline event, one page with the total.
    `sort`: `at` (default, oldest first), `action`, `actor`; `-key` for descending."""
    want = queries.TIMELINE_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await queries.timeline_page(actor=actor, complaint_id=complaint_id, want=want)


@get("/{complaint_id:int}/staff")
async def get_staff(actor: Scope, complaint_id: IdParam) -> Page[StaffMember]:
    """The complaint's store staff: candidates for handler and for the staff complained about; department heads
    first, then by name, all on one page (`sort` is `department_head`)."""
    return lists.whole(await queries.complaint_staff(actor=actor, complaint_id=complaint_id), sort="department_head")


async def _detail(actor: Scope, complaint_id: int) -> ComplaintDetail:
    return await queries.complaint_detail(actor=actor, complaint_id=complaint_id)


@post("/{complaint_id:int}/reroute", status_code=200)
async def reroute(actor: Scope, complaint_id: IdParam, data: RerouteRequest) -> ComplaintDetail:
    """Send the complaint to another store of the group (wrong store chosen at intake), with a note."""
    await service.reroute_complaint(actor=actor, complaint_id=complaint_id, store_id=data.store_id, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/accept", status_code=200)
async def accept(actor: Scope, complaint_id: IdParam, data: NoteRequest) -> ComplaintDetail:
    """The store accepts (受理) the complaint; the handling deadline starts."""
    await service.accept_complaint(actor=actor, complaint_id=complaint_id, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/assign", status_code=200)
async def assign(actor: Scope, complaint_id: IdParam, data: AssignRequest) -> ComplaintDetail:
    """Assign the complaint to a handler of the store and a department."""
    await service.assign_handler(
        actor=actor, complaint_id=complaint_id, handler_user_id=data.handler_user_id,
        department=data.department, note=data.note,
    )
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/analyse", status_code=200)
async def analyse(actor: Scope, complaint_id: IdParam, data: AnalyseRequest) -> ComplaintDetail:
    """Record the cause analysis: cause category, department, liability (有责 / 无责) and the staff member concerned."""
    await service.record_cause(actor=actor, complaint_id=complaint_id, **msgspec.structs.asdict(data))
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/countermeasure", status_code=200)
async def countermeasure(actor: Scope, complaint_id: IdParam, data: CountermeasureRequest) -> ComplaintDetail:
    """Record the countermeasure (对策) decided with the customer."""
    await service.record_countermeasure(
        actor=actor, complaint_id=complaint_id, countermeasure=data.countermeasure, note=data.note
    )
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/resolve", status_code=200)
async def resolve(actor: Scope, complaint_id: IdParam, data: ResolveRequest) -> ComplaintDetail:
    """Complete the handling (处理完毕) with the resolution; the result report and the revisit come next."""
    await service.resolve_complaint(actor=actor, complaint_id=complaint_id, **msgspec.structs.asdict(data))
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/report", status_code=200)
async def submit_report(actor: Scope, complaint_id: IdParam, data: ResultReportRequest) -> ComplaintDetail:
    """处理结果报告: the department's result and improvement measures, due a day after the handling is complete."""
    await service.submit_result_report(actor=actor, complaint_id=complaint_id, **msgspec.structs.asdict(data))
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/report/check", status_code=200)
async def check_report(actor: Scope, complaint_id: IdParam, data: ReportCheckRequest) -> ComplaintDetail:
    """客关部检核: accept the result report, or send it back with a reason."""
    await service.check_result_report(actor=actor, complaint_id=complaint_id, accepted=data.accepted, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/urgency", status_code=200)
async def set_urgency(actor: Scope, complaint_id: IdParam, data: UrgencyRequest) -> ComplaintDetail:
    """紧急 / 一般: an urgent complaint awaiting acceptance gets the group's shorter deadline."""
    await service.set_urgency(actor=actor, complaint_id=complaint_id, urgency=data.urgency, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/feed-back", status_code=200)
async def feed_back(actor: Scope, complaint_id: IdParam, data: NoteRequest) -> ComplaintDetail:
    """The store feeds the result back to the group (反馈集团), for a complaint taken in by the group."""
    await service.feed_back_to_group(actor=actor, complaint_id=complaint_id, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/revisit", status_code=200)
async def revisit(actor: Scope, complaint_id: IdParam, data: RevisitRequest) -> ComplaintDetail:
    """Record the revisit (回访): satisfied, the complaint can be closed; not satisfied, it is reopened."""
    await service.record_revisit(actor=actor, complaint_id=complaint_id, satisfied=data.satisfied, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/close", status_code=200)
async def close(actor: Scope, complaint_id: IdParam, data: NoteRequest) -> ComplaintDetail:
    """Close (结案) the complaint once it has been revisited."""
    await service.close_complaint(actor=actor, complaint_id=complaint_id, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/reopen", status_code=200)
async def reopen(actor: Scope, complaint_id: IdParam, data: ReasonRequest) -> ComplaintDetail:
    """Reopen (重新处理) a revisited or closed complaint, with a reason: its handling starts again."""
    await service.reopen_complaint(actor=actor, complaint_id=complaint_id, reason=data.reason)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/notes", status_code=200)
async def note(actor: Scope, complaint_id: IdParam, data: RequiredNote) -> ComplaintDetail:
    """Add a note to the complaint's timeline; it changes no state."""
    await service.add_note(actor=actor, complaint_id=complaint_id, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/appeal", status_code=200)
async def appeal(actor: Scope, complaint_id: IdParam, data: ReasonRequest) -> ComplaintDetail:
    """申诉: only the staff member the complaint is about may file one."""
    await service.file_appeal(actor=actor, complaint_id=complaint_id, reason=data.reason)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/appeal/forward", status_code=200)
async def forward_appeal(actor: Scope, complaint_id: IdParam, data: ForwardRequest) -> ComplaintDetail:
    """The store forwards the staff member's appeal against the judgement to the group, with its opinion."""
    await service.forward_appeal(actor=actor, complaint_id=complaint_id, opinion=data.opinion)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/appeal/decline", status_code=200)
async def decline_appeal(actor: Scope, complaint_id: IdParam, data: DeclineRequest) -> ComplaintDetail:
    """The department head does not forward the appeal: handling resumes."""
    await service.decline_appeal(actor=actor, complaint_id=complaint_id, opinion=data.opinion)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/appeal/ruling", status_code=200)
async def rule_appeal(actor: Scope, complaint_id: IdParam, data: RulingRequest) -> ComplaintDetail:
    """The GM's ruling on a forwarded appeal (409 before forwarding): upheld voids the complaint,
    rejected resumes its handling."""
    await service.rule_appeal(actor=actor, complaint_id=complaint_id, upheld=data.upheld, note=data.note)
    return await _detail(actor, complaint_id)


@post("/{complaint_id:int}/compensations", status_code=201)
async def request_compensation(actor: Scope, complaint_id: IdParam, data: CompensationRequest) -> Created:
    """Ask for compensation; the group's authority table names the approver role."""
    return Created(id=await service.request_compensation(
        actor=actor, complaint_id=complaint_id, amount=data.amount, kind=data.kind, description=data.description
    ))


@post("/{complaint_id:int}/compensations/{compensation_id:int}/decision", status_code=200)
async def decide_compensation(
    actor: Scope, complaint_id: IdParam, compensation_id: IdParam, data: DecisionRequest
) -> ComplaintDetail:
    """Approve or refuse a proposed compensation, as the approver the authority table names for its amount."""
    await service.decide_compensation(
        actor=actor, complaint_id=complaint_id, compensation_id=compensation_id, approve=data.approve, note=data.note
    )
    return await _detail(actor, complaint_id)


ROUTES = [
    Router(
        path="/api/v1/complaints",
        tags=["complaints"],
        route_handlers=[
            take_complaint, list_complaints, export_complaints, routing_suggestion, revisit_queue, accountability, export_accountability,
            get_amounts, put_amounts, record_violation, get_violation, deadline_stats,
            describe_workflow, get_policy, put_policy, patch_policy, get_authority, put_authority, get_complaint, reveal, get_timeline,
            get_staff, reroute, accept, assign, analyse, countermeasure, resolve, feed_back, revisit, close, reopen,
            note, appeal, forward_appeal, decline_appeal, rule_appeal, request_compensation, decide_compensation,
            submit_report, check_report, set_urgency,
        ],
    )
]
