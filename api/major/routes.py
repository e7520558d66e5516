"""Major complaints API (重大投诉) under /api/v1: marking, repeat check, the report, alerts, the board, the policy.

Thin: each handler calls one function of `crm.major.service` / `crm.major.policy`
and shapes the answer. Objects outside the caller's scope answer 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import get, post, put
from litestar.response import ServerSentEvent

from api.auth import requires
from api.lists import PageParam, PageSizeParam, SortParam
from api.params import IdParam, OptionalIdParam, text, text_param
from crm import clock, lists
from crm.lists import Page
from crm.major import board_events, crisis, repeats, service
from crm.major.policy import POLICY_EDITORS, POLICY_READERS, Policy, get_policy, set_policy
from crm.major.report_form import FIELDS, MAX_PEOPLE, PEOPLE, person_struct, report_struct
from crm.major.rules import MajorReason
from crm.major.service import MajorView, ReasonInput, ReportForm
from tenants.scope import Scope

_Short = text(50)


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: MajorReason
    note: text(500) = ""


class MarkRequest(msgspec.Struct, forbid_unknown_fields=True):
    reasons: Annotated[list[ReasonIn], msgspec.Meta(min_length=1, max_length=7)]


PersonIn = person_struct("PersonIn", text, module=__name__)
ReportIn = report_struct(
    "ReportIn", text, Annotated[list[PersonIn], msgspec.Meta(max_length=MAX_PEOPLE)], module=__name__,
    namespace={"__doc__": "《重大投诉事件处理报告》：" + ", ".join(f.zh for f in FIELDS) + "，责任人."},
)


class RepeatDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    """Same problem as the earlier complaint(s) → major (重复投诉); different → not a repeat, with a reason."""

    decision: Literal["same", "different"]
    reason: text(repeats.MAX_REASON) = ""


class RepeatFlagOut(msgspec.Struct):
    complaint_id: int
    earlier_complaint_ids: list[int]
    flagged_at: datetime
    decision_due_at: datetime
    pending: bool
    decision: str
    reason: str
    decided_at: datetime | None
    overdue: bool


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    name: text(50, 1)
    position: _Short = ""


class CrisisMeetingIn(msgspec.Struct, forbid_unknown_fields=True):
    """危机处理小组会议: when it was held (with timezone), who took part, what it decided."""

    held_at: Annotated[datetime, msgspec.Meta(extra_json_schema={"format": "date-time"})]
    members: Annotated[list[MemberIn], msgspec.Meta(min_length=1, max_length=crisis.MAX_MEMBERS)]
    decisions: text(crisis.MAX_DECISIONS, 1)


class MeetingOut(msgspec.Struct):
    id: int
    held_at: datetime
    members: list[dict]
    decisions: str
    recorded_at: datetime
    recorded_by: str


class ReasonOut(msgspec.Struct):
    reason: str
    title_zh: str
    title_en: str
    note: str
    automatic: bool


class RecipientOut(msgspec.Struct):
    user_id: int
    name: str
    acknowledged_at: datetime | None


class AlertOut(msgspec.Struct):
    id: int
    level: int
    condition: str
    raised_at: datetime
    rounds: int
    settled: bool
    acknowledged: int
    recipients: list[RecipientOut]


ReportOut = msgspec.defstruct("ReportOut", [
    ("status", str), *[(f.name, str) for f in FIELDS], (PEOPLE, list[dict]), ("saved_at", datetime),
    ("filed_at", datetime | None), ("forwarded_at", datetime | None),
], module=__name__)


class MajorOut(msgspec.Struct):
    id: int
    complaint_id: int
    store_id: int
    store_name: str
    customer_name: str
    complaint_state: str
    channel: str
    marked_at: datetime
    marked_by: str
    report_due_at: datetime
    seconds_to_report_deadline: int
    report_status: str
    report_filed_at: datetime | None
    report_overdue: bool
    report_late: bool
    level_reached: int
    levels_total: int
    resolved_at: datetime | None
    closed_at: datetime | None
    reasons: list[ReasonOut]
    alerts: list[AlertOut]
    forward_due_at: datetime | None
    forward_overdue: bool
    meetings: list[MeetingOut]
    report: ReportOut | None = None


class RepeatOut(msgspec.Struct):
    complaint_id: int
    store_id: int
    store_name: str
    received_at: datetime
    channel: str
    same_customer: bool
    same_vehicle: bool
    content: str
    state: str


class SuggestionOut(msgspec.Struct):
    suggested_reasons: list[str]
    window_days: int
    repeats: list[RepeatOut]


class ComplaintMajorOut(msgspec.Struct):
    major: MajorOut | None
    suggestion: SuggestionOut
    repeat: RepeatFlagOut | None = None


class AckOut(msgspec.Struct):
    alert_id: int
    acknowledged: bool


class OpenAlertOut(msgspec.Struct):
    alert_id: int
    major_id: int
    level: int
    raised_at: datetime
    rounds: int


class FiledOut(msgspec.Struct):
    major_id: int
    filed_at: datetime
    on_time: bool


@post("/api/v1/complaints/{complaint_id:int}/major", tags=["major"], guards=[requires(*service.MARKERS)])
async def mark_complaint_major(actor: Scope, complaint_id: IdParam, data: MarkRequest) -> MajorOut:
    """Mark a complaint major with one or more reasons (其他 needs a note). Marking starts the 24-hour clock."""
    reasons = [ReasonInput(reason=r.reason, note=r.note) for r in data.reasons]
    major_id = await service.mark_major(actor=actor, complaint_id=complaint_id, reasons=reasons)
    return major_out(await service.major_detail(actor=actor, major_id=major_id))


@get("/api/v1/complaints/{complaint_id:int}/major", tags=["major"])
async def complaint_major(actor: Scope, complaint_id: IdParam) -> ComplaintMajorOut:
    """Whether the complaint is major, and what the system suggests (repeat complaint, manufacturer channel)."""
    from crm.complaints.tables import Complaint

    complaint = await actor.get(Complaint, complaint_id)
    major = await service.major_for_complaint(actor=actor, complaint_id=complaint.id)
    suggestion = await service.suggest_for_intake(
        actor=actor, customer_id=complaint.customer, vehicle_id=complaint.vehicle, channel=complaint.channel,
        exclude_complaint_id=complaint.id,
    )
    flag = await repeats.flag_for(actor=actor, complaint_id=complaint.id)
    return ComplaintMajorOut(major=major_out(major) if major else None, suggestion=suggestion_out(suggestion),
                             repeat=repeat_out(flag) if flag else None)


@get("/api/v1/complaints/{complaint_id:int}/repeat", tags=["major"])
async def complaint_repeat(actor: Scope, complaint_id: IdParam) -> RepeatFlagOut | None:
    """The repeat flag (疑似重复投诉) of a complaint: the earlier complaints linked, and the decision or its deadline."""
    flag = await repeats.flag_for(actor=actor, complaint_id=complaint_id)
    return repeat_out(flag) if flag else None


@post("/api/v1/complaints/{complaint_id:int}/repeat-decision", tags=["major"], status_code=200,
      guards=[requires(*service.MARKERS)])
async def decide_repeat(actor: Scope, complaint_id: IdParam, data: RepeatDecisionIn) -> RepeatFlagOut:
    """Decide a flagged complaint: the same problem makes it major (重复投诉); a different one needs a reason."""
    await repeats.decide(actor=actor, complaint_id=complaint_id, decision=data.decision, reason=data.reason)
    return repeat_out(await repeats.flag_for(actor=actor, complaint_id=complaint_id))


@post("/api/v1/major/{major_id:int}/crisis-meetings", tags=["major"], status_code=201,
      guards=[requires(*crisis.RECORDERS)])
async def record_crisis_meeting(actor: Scope, major_id: IdParam, data: CrisisMeetingIn) -> MajorOut:
    """Record the store's crisis-team meeting (危机处理小组会议) on a major complaint."""
    await crisis.record_meeting(
        actor=actor, major_id=major_id, held_at=data.held_at, decisions=data.decisions,
        members=[crisis.Member(m.name, m.position) for m in data.members],
    )
    return major_out(await service.major_detail(actor=actor, major_id=major_id))


@get("/api/v1/major/repeat-check", tags=["major"])
async def repeat_check(
    actor: Scope, customer_id: IdParam, vehicle_id: OptionalIdParam = None,
    channel: text_param(20) = "",
) -> SuggestionOut:
    """At intake, before saving: earlier complaints of this customer or vehicle within the group's window."""
    suggestion = await service.repeat_check_at_intake(
        actor=actor, customer_id=customer_id, vehicle_id=vehicle_id, channel=channel
    )
    return suggestion_out(suggestion)


@get("/api/v1/major", tags=["major"], guards=[requires(*service.BOARD_READERS)])
async def major_board(
    actor: Scope, include_closed: bool = False,
    store_id: OptionalIdParam = None, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None,
) -> Page[MajorOut]:
    """The major-complaint board: open major complaints in the caller's scope, overdue first, one page with the
    total. `sort`: `board` (default), `store`, `customer`, `marked`, `deadline`, `report`, `level`; `-key` for
    descending."""
    want = service.BOARD_LIST.parse(sort=sort, page=page, page_size=page_size)
    filters = service.BoardFilter(include_closed=include_closed, store_id=store_id)
    found = await service.board(actor=actor, filters=filters, want=want)
    return want.page_of([major_out(v) for v in found.items], found.total)


@get("/api/v1/major/{major_id:int}", tags=["major"])
async def major_detail(actor: Scope, major_id: IdParam) -> MajorOut:
    """One major complaint (重大投诉): level, alerts, acknowledgements, report and timeline."""
    return major_out(await service.major_detail(actor=actor, major_id=major_id))


@put("/api/v1/major/{major_id:int}/report", tags=["major"], guards=[requires(*service.REPORTERS)])
async def save_report_draft(actor: Scope, major_id: IdParam, data: ReportIn) -> MajorOut:
    """Save 《重大投诉事件处理报告》 as a draft."""
    await service.save_report(actor=actor, major_id=major_id, form=_report_form(data))
    return major_out(await service.major_detail(actor=actor, major_id=major_id))


@post("/api/v1/major/{major_id:int}/report/file", tags=["major"], guards=[requires(*service.REPORTERS)], status_code=200)
async def file_report(actor: Scope, major_id: IdParam, data: ReportIn) -> FiledOut:
    """File the report (every part filled in). Within 24 h of marking this satisfies the rule."""
    filed_at = await service.file_report(actor=actor, major_id=major_id, form=_report_form(data))
    view = await service.major_detail(actor=actor, major_id=major_id)
    return FiledOut(major_id=major_id, filed_at=filed_at, on_time=filed_at <= view.report_due_at)


@post("/api/v1/major/{major_id:int}/report/forward", tags=["major"], guards=[requires(*service.FORWARDERS)], status_code=200)
async def forward_report(actor: Scope, major_id: IdParam) -> MajorOut:
    """The brand division forwards the filed report to the VP operations and the CEO."""
    await service.forward_report(actor=actor, major_id=major_id)
    return major_out(await service.major_detail(actor=actor, major_id=major_id))


@post("/api/v1/major/alerts/{alert_id:int}/acknowledge", tags=["major"], status_code=200)
async def acknowledge_alert(actor: Scope, alert_id: IdParam) -> AckOut:
    """Acknowledge an alert sent to you: it stops re-notifying you."""
    new = await service.acknowledge_alert(actor=actor, alert_id=alert_id)
    return AckOut(alert_id=alert_id, acknowledged=new)


@get("/api/v1/major/alerts/mine", tags=["major"])
async def my_alerts(actor: Scope) -> Page[OpenAlertOut]:
    """Alerts waiting for your acknowledgement, newest first, all on one page (`sort` is `-raised`): only alerts
    of open major complaints wait."""
    return lists.whole([OpenAlertOut(**a) for a in await service.my_open_alerts(actor=actor)], sort="-raised")


@get("/api/v1/major/policy", tags=["major"], guards=[requires(*POLICY_READERS)])
async def read_policy(actor: Scope) -> Policy:
    """The group's repeat window, immediate alert and escalation ladder (defaults if never set)."""
    return await get_policy(actor=actor)


@put("/api/v1/major/policy", tags=["major"], guards=[requires(*POLICY_EDITORS)])
async def write_policy(actor: Scope, data: Policy) -> Policy:
    """Replace the ladder: levels (delay, condition, roles, channels), repeat window, re-notify interval."""
    return await set_policy(actor=actor, policy=data)


@get("/api/v1/major/events", tags=["major"])
async def board_stream(actor: Scope) -> ServerSentEvent:
    """Server-Sent Events: `major` with `{major_id}` whenever a major complaint the caller may see changes."""
    return board_events_stream(actor)


def board_events_stream(actor: Scope) -> ServerSentEvent:
    """The board's live stream for this caller (also served to the web UI at /major/events)."""
    return ServerSentEvent(_events(actor), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(actor: Scope):
    yield {"event": "ready", "data": "{}"}
    if actor.group_id is None:
        return
    async for event in board_events.listen(group_id=actor.group_id, store_ids=actor.store_ids):
        if event is None:
            yield {"comment": "keep-alive", "data": None}
        else:
            yield {"event": "major", "data": msgspec.json.encode({"major_id": event["major_id"]}).decode()}


def major_out(view: MajorView) -> MajorOut:
    report = None
    if view.report is not None:
        r = view.report
        report = ReportOut(
            status=r["status"], **{f.name: r[f.name] for f in FIELDS}, responsible_people=list(r[PEOPLE] or []),
            saved_at=r["saved_at"], filed_at=r["filed_at"], forwarded_at=r["forwarded_at"],
        )
    return MajorOut(
        id=view.id, complaint_id=view.complaint_id, store_id=view.store_id, store_name=view.store_name,
        customer_name=view.customer_name, complaint_state=view.complaint_state, channel=view.channel,
        marked_at=view.marked_at, marked_by=view.marked_by, report_due_at=view.report_due_at,
        seconds_to_report_deadline=int((view.report_due_at - clock.now()).total_seconds()),
        report_status=view.report_status.value, report_filed_at=view.report_filed_at,
        report_overdue=view.report_overdue, report_late=view.report_late, level_reached=view.level_reached,
        levels_total=view.levels_total, resolved_at=view.resolved_at, closed_at=view.closed_at,
        reasons=[ReasonOut(**r) for r in view.reasons],
        alerts=[
            AlertOut(id=a.id, level=a.level, condition=a.condition, raised_at=a.raised_at, rounds=a.rounds,
                     settled=a.settled, acknowledged=a.acknowledged,
                     recipients=[RecipientOut(**r) for r in a.recipients])
            for a in view.alerts
        ],
        forward_due_at=view.forward_due_at, forward_overdue=view.forward_overdue,
        meetings=[MeetingOut(**vars(m)) for m in view.meetings],
        report=report,
    )


def _report_form(data: ReportIn) -> ReportForm:
    return msgspec.convert(msgspec.to_builtins(data), ReportForm)


def repeat_out(flag: repeats.RepeatFlag) -> RepeatFlagOut:
    return RepeatFlagOut(
        complaint_id=flag.complaint_id, earlier_complaint_ids=flag.earlier, flagged_at=flag.flagged_at,
        decision_due_at=flag.decision_due_at, pending=flag.pending, decision=flag.decision, reason=flag.reason,
        decided_at=flag.decided_at, overdue=flag.overdue,
    )


def suggestion_out(suggestion: service.Suggestion) -> SuggestionOut:
    return SuggestionOut(
        suggested_reasons=[r.value for r in suggestion.reasons], window_days=suggestion.window_days,
        repeats=[RepeatOut(**vars(hit)) for hit in suggestion.repeats],
    )


ROUTES = [
    mark_complaint_major, complaint_major, complaint_repeat, decide_repeat, record_crisis_meeting, repeat_check, major_board, major_detail, save_report_draft,
    file_report, forward_report, acknowledge_alert, my_alerts, read_policy, write_policy, board_stream,
]
