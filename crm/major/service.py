"""Major complaints (重大投诉) and the 24-hour rule (seed 004 #10 §2.5–2.7).

Marking a complaint major starts the clock: the store GM, department heads, the
brand division (or management department) and legal are alerted at once; the store
files 《重大投诉事件处理报告》 within `report_deadline_seconds` (24 h); each level of
the group's escalation ladder is a timer that alerts its roles if its condition
still holds when it fires. Manufacturer-channel complaints are major from intake;
repeat complaints are detected at intake and suggested to the agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec

from crm import clock, lists
from crm.complaints.service import register_complaint
from crm.complaints.tables import Complaint
from crm.complaints.workflow import FINAL_STATES, INTAKE_ROLES, State
from crm.db import transaction
from crm.major import alerts, board_events, crisis, repeats
from crm.major.policy import Level, decode_policy, encode_policy, policy_for_group
from crm.major.report_form import (
    FIELDS, MAX_PEOPLE, PEOPLE, PERSON_FIELDS, TEXT_FIELDS, person_struct, plain_text, report_struct,
)
from crm.major.rules import Condition, MajorReason, ReportStatus
from crm.major.tables import (
    MajorAlert,
    MajorAlertRecipient,
    MajorComplaint,
    MajorReasonRow,
    MajorReport,
    CrisisMeeting,
)
from crm.timers.service import cancel_timers, schedule_timer
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.roles import GROUP_ROLES, Role
from tenants.scope import Scope

SUBJECT = "major_complaint"
LEVEL_KINDS = {Condition.REPORT_MISSING: "major.report_missing", Condition.UNRESOLVED: "major.unresolved"}
# The brand division's own step: forward the filed report to the VP operations and the CEO in time.
FORWARD_DUE = "major.forward_due"
FORWARD_CONDITION = "forward_missing"
FORWARD_LEVEL = 100  # the alert's level number: apart from the ladder's 1, 2, …
RESOLVED_STATES = frozenset({State.RESOLVED, State.FED_BACK, State.REVISITED, State.CLOSED})

# Who may mark a complaint major: the group's intake and HQ, and the store's managers.
MARKERS = frozenset({
    Role.GROUP_ADMIN, Role.CALL_CENTER_AGENT, Role.GROUP_CUSTOMER_SERVICE, Role.BRAND_MANAGER,
    Role.STORE_GM, Role.STORE_CR_MANAGER, Role.DEPARTMENT_HEAD,
})
REPORTERS = frozenset({Role.STORE_GM, Role.STORE_CR_MANAGER})  # the store files the report
FORWARDERS = frozenset({Role.BRAND_MANAGER, Role.GROUP_ADMIN})  # brand division / management department
# Who may see the major-complaint board (重大投诉看板): the group, and the store's managers for their own store.
BOARD_READERS = frozenset(GROUP_ROLES | {Role.STORE_GM, Role.STORE_CR_MANAGER, Role.DEPARTMENT_HEAD})


class ReasonInput(msgspec.Struct, forbid_unknown_fields=True):
    reason: MajorReason
    note: str = ""


Person = person_struct("Person", plain_text, module=__name__)
# 《重大投诉事件处理报告》 as the store fills it in (see `crm.major.report_form`).
ReportForm = report_struct("ReportForm", plain_text, list[Person], module=__name__)


@dataclass
class RepeatHit:
    complaint_id: int
    store_id: int
    store_name: str
    received_at: datetime
    channel: str
    same_customer: bool
    same_vehicle: bool
    content: str
    state: str = ""


@dataclass
class Suggestion:
    """What intake shows the agent before (or after) the complaint is saved."""

    reasons: list[MajorReason]
    repeats: list[RepeatHit]
    window_days: int


@dataclass
class AlertView:
    id: int
    level: int
    condition: str
    raised_at: datetime
    rounds: int
    settled: bool
    recipients: list[dict] = field(default_factory=list)  # {user_id, name, acknowledged_at}

    @property
    def acknowledged(self) -> int:
        return sum(1 for r in self.recipients if r["acknowledged_at"] is not None)


@dataclass
class MajorView:
    id: int
    complaint_id: int
    store_id: int
    store_name: str
    customer_name: str
    complaint_state: str
    channel: str
    content: str
    marked_at: datetime
    marked_by: str
    report_due_at: datetime
    report_status: ReportStatus
    report_filed_at: datetime | None
    report_overdue: bool
    level_reached: int
    levels_total: int
    resolved_at: datetime | None
    closed_at: datetime | None
    reasons: list[dict]
    alerts: list[AlertView] = field(default_factory=list)
    report: dict | None = None
    forward_due_at: datetime | None = None  # set once the report is filed
    meetings: list[crisis.MeetingView] = field(default_factory=list)

    @property
    def forward_overdue(self) -> bool:
        return any(a.condition == FORWARD_CONDITION for a in self.alerts)

    @property
    def report_late(self) -> bool:
        if self.report_filed_at is None:
            return self.report_overdue
        return self.report_filed_at > self.report_due_at


# --- marking -------------------------------------------------------------------------------------


async def mark_major(*, actor: Scope, complaint_id: int, reasons: list[ReasonInput]) -> int:
    """Mark a complaint major (or add reasons to one that is). Returns the major-complaint id.

    Marking later than intake starts the clock now: the report is due 24 h from this moment.
    """
    actor.require_role(*MARKERS)
    checked = _check_reasons(reasons)
    async with transaction():
        complaint = await actor.get(Complaint, complaint_id)
        if State(complaint.state) in FINAL_STATES:
            raise Conflict("投诉已结案或作废，不能标记为重大投诉", "A closed or voided complaint cannot be marked major")
        return await _mark(
            group_id=complaint.group, store_id=complaint.store, complaint_id=complaint.id,
            reasons=checked, user_id=actor.user_id, automatic=False,
        )


async def register_with_repeat_decision(
    *, actor: Scope, repeat_decision: str | None, repeat_reason: str = "", decision_required: bool,
    **fields: object,
) -> int:
    """Intake with the agent's answer to "the same problem as the earlier complaint(s)?" (see `repeats`).

    The complaint is recorded (and flagged if it is a repeat) and the decision applied in one transaction:
    a refused or missing decision writes nothing. Without a decision (`decision_required` false: the API),
    group customer service decides later. `fields` are those of `crm.complaints.service.register_complaint`.
    """
    async with transaction():
        complaint_id = await register_complaint(actor=actor, **fields)
        flagged = (await repeats.repeat_flags(actor=actor, complaint_ids=[complaint_id])).get(complaint_id)
        if flagged is not None and (repeat_decision or decision_required):
            await repeats.decide(actor=actor, complaint_id=complaint_id, decision=repeat_decision,
                                 reason=repeat_reason)
    return complaint_id


async def suggest_for_intake(
    *, actor: Scope, customer_id: int, vehicle_id: int | None = None, channel: str = "",
    exclude_complaint_id: int | None = None,
) -> Suggestion:
    """Reasons the agent should consider: 重复投诉 (earlier complaints of the same customer
    identity or vehicle within the group's window) and 向厂方投诉 (manufacturer channel)."""
    if actor.group_id is None:
        raise NotFound("customer")
    from crm.customers.tables import Customer, Vehicle

    customer = await actor.get(Customer, customer_id)
    vin = ""
    if vehicle_id is not None:
        vin = (await actor.get(Vehicle, vehicle_id)).vin
    policy = await policy_for_group(actor.group_id)
    repeats = await find_repeats(
        group_id=actor.group_id, identity_id=customer.group_identity, vin=vin,
        since=clock.now() - timedelta(days=policy.repeat_window_days), exclude_complaint_id=exclude_complaint_id,
    )
    visible = [hit for hit in repeats if actor.can_see_store(hit.store_id)]
    reasons = []
    if repeats:
        reasons.append(MajorReason.REPEAT)
    if channel == "manufacturer":
        reasons.append(MajorReason.MANUFACTURER)
    return Suggestion(reasons=reasons, repeats=visible, window_days=policy.repeat_window_days)


async def find_repeats(
    *, group_id: int, identity_id: int | None, vin: str, since: datetime, exclude_complaint_id: int | None = None
) -> list[RepeatHit]:
    """Earlier complaints in the group since `since` by the same customer identity or the same VIN (voided ones excepted)."""
    if identity_id is None and not vin:
        return []
    match = None
    if identity_id is not None:
        match = Complaint.customer_identity == identity_id
    if vin:
        by_vin = Complaint.vin == vin.upper()
        match = by_vin if match is None else (match | by_vin)
    # Repeats (重复投诉) count group-wide by rule; suggest_for_intake shows only hits in the caller's stores.
    query = Scope.system(group_id).select(
        Complaint,
        Complaint.id, Complaint.store, Complaint.store.name, Complaint.received_at, Complaint.channel,
        Complaint.customer_identity, Complaint.vin, Complaint.content, Complaint.state,
    ).where(Complaint.received_at >= since, Complaint.state != State.VOIDED.value)
    query = query.where(match)
    if exclude_complaint_id is not None:
        query = query.where(Complaint.id != exclude_complaint_id)
    rows = await query.order_by(Complaint.received_at, ascending=False).limit(20)
    return [
        RepeatHit(
            complaint_id=r["id"], store_id=r["store"], store_name=r["store.name"], received_at=r["received_at"],
            channel=r["channel"], same_customer=identity_id is not None and r["customer_identity"] == identity_id,
            same_vehicle=bool(vin) and r["vin"] == vin.upper(), content=r["content"][:200], state=r["state"],
        )
        for r in rows
    ]


async def on_complaint_created(
    *, group_id: int, store_id: int, complaint_id: int, channel: str, **_: object
) -> None:
    """Intake hook, on every path: a repeat complaint is flagged (疑似重复投诉); a complaint to the
    manufacturer (向厂方投诉) is major from the start."""
    await repeats.flag(group_id=group_id, store_id=store_id, complaint_id=complaint_id)
    if channel == "manufacturer":
        await _mark(
            group_id=group_id, store_id=store_id, complaint_id=complaint_id,
            reasons=[ReasonInput(MajorReason.MANUFACTURER)], user_id=None, automatic=True,
        )


async def on_complaint_state_changed(
    *, group_id: int, store_id: int, complaint_id: int, action: str, to_state: str, **_: object
) -> None:
    """Keep the major complaint in step with its complaint: resolved, closed, reopened, re-routed."""
    if to_state and State(to_state) in FINAL_STATES:
        await repeats.stop(group_id=group_id, complaint_id=complaint_id)
    if action == "reroute":
        await repeats.follow_store(group_id=group_id, complaint_id=complaint_id, store_id=store_id)
    in_group = Scope.system(group_id)  # the complaint's group; a re-route moves its store
    major = await in_group.select(MajorComplaint).where(MajorComplaint.complaint == complaint_id).first()
    if major is None:
        return
    now = clock.now()
    changes: dict = {}
    if action == "reroute" and store_id != major["store"]:
        await _move_to_store(group_id, major["id"], store_id)
    state = State(to_state) if to_state else None
    if state in RESOLVED_STATES and major["resolved_at"] is None:
        changes[MajorComplaint.resolved_at] = now
        await cancel_timers(subject_type=SUBJECT, subject_id=major["id"], kinds=[LEVEL_KINDS[Condition.UNRESOLVED]])
    if state in FINAL_STATES and major["closed_at"] is None:
        changes[MajorComplaint.closed_at] = now
        await cancel_timers(subject_type=SUBJECT, subject_id=major["id"], kinds=[*LEVEL_KINDS.values(), FORWARD_DUE])
        await alerts.settle_all(group_id=group_id, major_id=major["id"])
    if state == State.REOPENED:
        changes[MajorComplaint.resolved_at] = None
        changes[MajorComplaint.closed_at] = None
    if changes:
        await in_group.update(MajorComplaint, changes).where(MajorComplaint.id == major["id"])
    if state == State.REOPENED:
        major = await in_group.select(MajorComplaint).where(MajorComplaint.id == major["id"]).first()
        await _schedule_levels(major, reschedule=True)
        await _schedule_forward(major)
    await board_events.changed(group_id=group_id, store_id=store_id, major_id=major["id"])


# --- the report ----------------------------------------------------------------------------------


async def save_report(*, actor: Scope, major_id: int, form: ReportForm) -> None:
    """Save the report as a draft (any field may still be empty)."""
    actor.require_role(*REPORTERS)
    _check_lengths(form)
    async with transaction():
        major = await actor.get(MajorComplaint, major_id)
        report = await actor.filter(MajorReport.objects(), MajorReport).where(MajorReport.major == major.id).first()
        if report is not None and report.status != "draft":
            raise Conflict("报告已提交，不能再修改", "The report is filed and can no longer change")
        await _write_report(major, report, form, actor.user_id, status="draft")


async def file_report(*, actor: Scope, major_id: int, form: ReportForm) -> datetime:
    """File 《重大投诉事件处理报告》: satisfies the 24-hour rule when on time. Returns the filing time."""
    actor.require_role(*REPORTERS)
    _check_lengths(form)
    async with transaction():
        major = await actor.get(MajorComplaint, major_id)
        _check_complete(form)
        report = await actor.filter(MajorReport.objects(), MajorReport).where(MajorReport.major == major.id).first()
        if report is not None and report.status != "draft":
            raise Conflict("报告已提交", "The report is already filed")
        now = clock.now()
        await _write_report(major, report, form, actor.user_id, status="filed", filed_at=now)
        await actor.filter(MajorComplaint.update(
            {MajorComplaint.report_status: ReportStatus.FILED.value, MajorComplaint.report_filed_at: now}
        ), MajorComplaint).where(MajorComplaint.id == major.id)
        await cancel_timers(subject_type=SUBJECT, subject_id=major.id, kinds=[LEVEL_KINDS[Condition.REPORT_MISSING]])
        row = await _major_row(major.group, major.id)
        await _schedule_forward(row)
        label = await complaint_label(major.complaint, major.group)
        user_ids = await alerts.recipients(
            group_id=major.group, store_id=major.store, roles=[Role.BRAND_MANAGER, Role.LEGAL]
        )
        late = "（已逾期）" if now > major.report_due_at else ""
        await alerts.notify_people(
            major=row, user_ids=user_ids, kind="major.report_filed", key=f"major-report-filed:{major.id}",
            title_zh=f"重大投诉事件处理报告已提交{late}：{label}",
            title_en=f"Major-complaint report filed{' (late)' if late else ''}: {label}",
            body_zh=f"请在{_hours(_forward_seconds(row))}内审阅并转呈运营副总裁及总裁。",
            body_en=f"Review it and forward it to the VP operations and the CEO within {_hours_en(_forward_seconds(row))}.",
        )
        await board_events.changed(group_id=major.group, store_id=major.store, major_id=major.id)
    return now


async def forward_report(*, actor: Scope, major_id: int) -> None:
    """The brand division forwards the filed report to the VP operations and the CEO (one action)."""
    actor.require_role(*FORWARDERS)
    async with transaction():
        major = await actor.get(MajorComplaint, major_id)
        report = await actor.filter(MajorReport.objects(), MajorReport).where(MajorReport.major == major.id).first()
        if report is None or report.status == "draft":
            raise Conflict("报告尚未提交，不能转呈", "The report is not filed yet")
        if report.status == "forwarded":
            raise Conflict("报告已转呈", "The report was already forwarded")
        now = clock.now()
        await actor.filter(MajorReport.update(
            {MajorReport.status: "forwarded", MajorReport.forwarded_at: now, MajorReport.forwarded_by: actor.user_id}
        ), MajorReport).where(MajorReport.id == report.id)
        await actor.filter(
            MajorComplaint.update({MajorComplaint.report_status: ReportStatus.FORWARDED.value}), MajorComplaint
        ).where(MajorComplaint.id == major.id)
        # In time, the forwarding deadline is cancelled; late, its escalation stops re-notifying.
        await cancel_timers(subject_type=SUBJECT, subject_id=major.id, kinds=[FORWARD_DUE])
        forward_alert = await actor.filter(MajorAlert.select(MajorAlert.id), MajorAlert).where(
            MajorAlert.major == major.id, MajorAlert.level == FORWARD_LEVEL
        ).first()
        if forward_alert is not None:
            await alerts.settle(group_id=major.group, alert_id=forward_alert["id"])
        row = await _major_row(major.group, major.id)
        label = await complaint_label(major.complaint, major.group)
        user_ids = await alerts.recipients(group_id=major.group, store_id=major.store, roles=[Role.HQ_VIEWER])
        await alerts.notify_people(
            major=row, user_ids=user_ids, kind="major.report_forwarded", key=f"major-report-forwarded:{major.id}",
            title_zh=f"转呈：重大投诉事件处理报告 — {label}",
            title_en=f"Forwarded: major-complaint report — {label}",
            body_zh=f"{actor.display_name} 转呈，请审阅。", body_en=f"Forwarded by {actor.display_name} for your review.",
        )
        await board_events.changed(group_id=major.group, store_id=major.store, major_id=major.id)


# --- alerts --------------------------------------------------------------------------------------


async def acknowledge_alert(*, actor: Scope, alert_id: int) -> bool:
    """The caller acknowledges an alert sent to them; True the first time. Re-notification stops for them."""
    async with transaction():
        alert = await actor.get(MajorAlert, alert_id)
        mine = await actor.filter(MajorAlertRecipient.exists(), MajorAlertRecipient).where(
            MajorAlertRecipient.alert == alert.id, MajorAlertRecipient.user == actor.user_id
        )
        if not mine:
            raise Forbidden("只有预警接收人可以确认", "Only a recipient of the alert can acknowledge it")
        new = await alerts.acknowledge(group_id=alert.group, alert_id=alert.id, user_id=actor.user_id)
        if new:
            await board_events.changed(group_id=alert.group, store_id=alert.store, major_id=alert.major)
        return new


async def my_open_alerts(*, actor: Scope) -> list[dict]:
    """Alerts waiting for the caller's acknowledgement, newest first."""
    rows = await actor.filter(MajorAlertRecipient.select(
        MajorAlertRecipient.alert, MajorAlertRecipient.alert.level, MajorAlertRecipient.alert.raised_at,
        MajorAlertRecipient.alert.major, MajorAlertRecipient.alert.rounds,
    ), MajorAlertRecipient).where(
        MajorAlertRecipient.user == actor.user_id, MajorAlertRecipient.acknowledged_at.is_null(),
        MajorAlertRecipient.alert.settled_at.is_null(),
    ).order_by(MajorAlertRecipient.alert.raised_at, ascending=False)
    return [
        {"alert_id": r["alert"], "level": r["alert.level"], "raised_at": r["alert.raised_at"],
         "major_id": r["alert.major"], "rounds": r["alert.rounds"]}
        for r in rows
    ]


# --- reading -------------------------------------------------------------------------------------


async def repeat_check_at_intake(
    *, actor: Scope, customer_id: int, vehicle_id: int | None = None, channel: str = "",
) -> Suggestion:
    """`suggest_for_intake` while a complaint is being taken (投诉登记): only for those who take complaints."""
    actor.require_role(*INTAKE_ROLES)
    return await suggest_for_intake(actor=actor, customer_id=customer_id, vehicle_id=vehicle_id, channel=channel)


# The board's list: overdue first, then the nearest report deadline, filed reports after those still missing;
# every column that is a fact of the major complaint sorts (reasons and acknowledgements are read per row).
BOARD_LIST = lists.ListSpec(
    name="major",
    sorts={
        "board": (lists.Reverse(MajorComplaint.report_overdue), "report_status <> 'missing'",
                  MajorComplaint.report_due_at),
        "store": (MajorComplaint.store.name,),
        "customer": (MajorComplaint.complaint.complainant_name,),
        "marked": (MajorComplaint.marked_at,),
        "deadline": (MajorComplaint.report_due_at,),
        "report": (MajorComplaint.report_status,),
        "level": (MajorComplaint.level_reached,),
    },
    default_sort="board",
    tiebreak=MajorComplaint.id,
)


@dataclass(frozen=True)
class BoardFilter:
    """What the board keeps: the JSON board and the page each build one and pass it down."""

    include_closed: bool = False
    store_id: int | None = None


async def board(
    *, actor: Scope, filters: BoardFilter = BoardFilter(), want: lists.ListQuery | None = None
) -> lists.Page[MajorView]:
    """The HQ board: the major complaints the caller may see, a page at a time with the total."""
    actor.require_role(*BOARD_READERS)
    want = want or BOARD_LIST.parse()
    where = []
    if not filters.include_closed:
        where.append(MajorComplaint.closed_at.is_null())
    if filters.store_id is not None:
        where.append(MajorComplaint.store == actor.require_store(filters.store_id))
    rows, total = await lists.fetch(BOARD_LIST, want, rows=actor.select(MajorComplaint, MajorComplaint.id).where(*where),
                                    count=actor.count(MajorComplaint).where(*where))
    ids = [r["id"] for r in rows]
    views = {v.id: v for v in await _views(actor, ids, with_report=False)}
    return want.page_of([views[i] for i in ids], total)


async def major_detail(*, actor: Scope, major_id: int) -> MajorView:
    major = await actor.get(MajorComplaint, major_id)
    return (await _views(actor, [major.id], with_report=True))[0]


async def major_for_complaint(*, actor: Scope, complaint_id: int) -> MajorView | None:
    complaint = await actor.get(Complaint, complaint_id)
    row = await actor.filter(MajorComplaint.select(MajorComplaint.id), MajorComplaint).where(
        MajorComplaint.complaint == complaint.id
    ).first()
    if row is None:
        return None
    return (await _views(actor, [row["id"]], with_report=True))[0]


async def complaint_label(complaint_id: int, group_id: int) -> str:
    """How alerts name a complaint of the group."""
    row = await Scope.system(group_id).select(Complaint, Complaint.complainant_name, Complaint.store.name).where(
        Complaint.id == complaint_id
    ).first()
    if row is None:
        return f"#{complaint_id}"
    return _label(row["store.name"], row["complainant_name"], complaint_id)


def _label(store_name: str, complainant: str, complaint_id: int) -> str:
    return f"{store_name} · {complainant} · 投诉#{complaint_id}"


@dataclass(frozen=True)
class MajorFlag:
    major_id: int
    report_status: str
    report_overdue: bool


async def major_flags(*, actor: Scope, complaint_ids: list[int]) -> dict[int, MajorFlag]:
    """Which of these complaints (already read through the caller's scope) are major, and which are
    flagged "report overdue" — for every complaint list and page to show it."""
    if not complaint_ids:
        return {}
    rows = await actor.select(
        MajorComplaint, MajorComplaint.id, MajorComplaint.complaint, MajorComplaint.report_status, MajorComplaint.report_overdue
    ).where(MajorComplaint.complaint.is_in(list(complaint_ids)))
    return {r["complaint"]: MajorFlag(r["id"], r["report_status"], r["report_overdue"]) for r in rows}


# --- internals -----------------------------------------------------------------------------------


async def _mark(
    *, group_id: int, store_id: int, complaint_id: int, reasons: list[ReasonInput], user_id: int | None,
    automatic: bool,
) -> int:
    now = clock.now()
    existing = await Scope.system(group_id).select(MajorComplaint, MajorComplaint.id).where(
        MajorComplaint.complaint == complaint_id
    ).first()
    if existing is not None:
        await _add_reasons(existing["id"], group_id, store_id, reasons, user_id, automatic, now)
        await board_events.changed(group_id=group_id, store_id=store_id, major_id=existing["id"])
        return existing["id"]
    policy = await policy_for_group(group_id)
    rows = await MajorComplaint.insert(
        MajorComplaint(
            group=group_id, store=store_id, complaint=complaint_id, marked_at=now, marked_by=user_id,
            report_due_at=now + timedelta(seconds=policy.report_deadline_seconds),
            report_status=ReportStatus.MISSING.value, policy=encode_policy(policy),
        )
    ).returning(MajorComplaint.id)
    major_id = rows[0]["id"]
    await _add_reasons(major_id, group_id, store_id, reasons, user_id, automatic, now)
    major = await _major_row(group_id, major_id)
    await _schedule_levels(major, reschedule=False)
    label = await complaint_label(complaint_id, group_id)
    reason_text = "、".join(r.reason.title_zh for r in reasons)
    title_zh, title_en = alerts.level_titles(level=0, level_cfg=None, complaint_label=label)
    await alerts.raise_alert(
        major=major, level=0, roles=list(policy.alert_roles), channels=policy.alert_channels, condition="",
        title_zh=title_zh, title_en=title_en,
        body_zh=(f"原因：{reason_text}。门店须在{_hours(policy.report_deadline_seconds)}内提交《重大投诉事件处理报告》。"
                 f"总经理请召集危机处理小组开会，并在重大投诉页面登记会议（参会人员、时间、决定）。"),
        body_en=(f"Reasons: {', '.join(r.reason.title_en for r in reasons)}. The store must file the major-complaint "
                 f"report within {_hours_en(policy.report_deadline_seconds)}. GM: convene the crisis team and record "
                 f"the meeting (members, time, decisions) on the major-complaint page."),
    )
    return major_id


async def _schedule_levels(major: dict, *, reschedule: bool) -> None:
    """One timer per level not reached yet whose condition still holds (due now at the earliest)."""
    policy = decode_policy(major["policy"])
    if reschedule:
        await cancel_timers(subject_type=SUBJECT, subject_id=major["id"], kinds=list(LEVEL_KINDS.values()))
    reached = {
        r["level"]
        for r in await Scope.system(major["group"]).select(MajorAlert, MajorAlert.level).where(
            MajorAlert.major == major["id"]
        )
    }
    now = clock.now()
    for index, level in enumerate(policy.levels, start=1):
        if index in reached or not alerts.condition_holds(major, level.condition):
            continue
        await schedule_timer(
            kind=LEVEL_KINDS[level.condition], due_at=max(alerts.level_due(major, level), now),
            group_id=major["group"], store_id=major["store"], subject_type=SUBJECT, subject_id=major["id"],
            payload={"level": index},
        )


async def escalate(*, major_id: int, level: int, group_id: int) -> int | None:
    """A ladder level's timer fired: alert its roles if its condition still holds. Returns the alert id."""
    in_group = Scope.system(group_id)  # the timer's group: a re-route moves the store
    major = await in_group.select(
        MajorComplaint, MajorComplaint.all_columns(), MajorComplaint.complaint.complainant_name, MajorComplaint.store.name
    ).where(MajorComplaint.id == major_id).first()
    if major is None:
        return None
    policy = decode_policy(major["policy"])
    if not 1 <= level <= len(policy.levels):
        return None
    cfg = policy.levels[level - 1]
    if not alerts.condition_holds(major, cfg.condition):
        return None
    label = _label(major["store.name"], major["complaint.complainant_name"], major["complaint"])
    title_zh, title_en = alerts.level_titles(level=level, level_cfg=cfg, complaint_label=label)
    body_zh, body_en = _level_body(major, cfg)
    alert_id = await alerts.raise_alert(
        major=major, level=level, roles=list(cfg.roles), channels=cfg.channels, condition=cfg.condition.value,
        title_zh=title_zh, title_en=title_en, body_zh=body_zh, body_en=body_en,
    )
    changes: dict = {MajorComplaint.level_reached: max(major["level_reached"], level)}
    if cfg.condition == Condition.REPORT_MISSING:
        changes[MajorComplaint.report_overdue] = True
    await in_group.update(MajorComplaint, changes).where(MajorComplaint.id == major_id)
    return alert_id


async def escalate_forward(*, major_id: int, group_id: int) -> int | None:
    """The forwarding deadline passed and the filed report is not forwarded: alert like a ladder step."""
    major = await Scope.system(group_id).select(MajorComplaint).where(MajorComplaint.id == major_id).first()
    if major is None or major["closed_at"] is not None or major["report_status"] != ReportStatus.FILED.value:
        return None
    policy = decode_policy(major["policy"])
    label = await complaint_label(major["complaint"], group_id)
    hours_zh, hours_en = _hours(policy.forward_deadline_seconds), _hours_en(policy.forward_deadline_seconds)
    return await alerts.raise_alert(
        major=major, level=FORWARD_LEVEL, roles=list(policy.forward_roles), channels=policy.alert_channels,
        condition=FORWARD_CONDITION,
        title_zh=f"重大投诉处理报告未按时转呈：{label}", title_en=f"Major-complaint report not forwarded in time: {label}",
        body_zh=f"门店提交报告已{hours_zh}，品牌事业部仍未转呈运营副总裁及总裁。",
        body_en=f"Filed {hours_en} ago and the brand division has not forwarded it to the VP operations and the CEO.",
    )


async def _schedule_forward(major: dict) -> None:
    """While a filed report waits to be forwarded (and its deadline has not alerted yet): one timer."""
    if major["report_status"] != ReportStatus.FILED.value or major["closed_at"] is not None:
        return
    if await Scope.system(major["group"]).exists(MajorAlert).where(
        MajorAlert.major == major["id"], MajorAlert.level == FORWARD_LEVEL
    ):
        return
    due_at = major["report_filed_at"] + timedelta(seconds=_forward_seconds(major))
    await cancel_timers(subject_type=SUBJECT, subject_id=major["id"], kinds=[FORWARD_DUE])
    await schedule_timer(
        kind=FORWARD_DUE, due_at=max(due_at, clock.now()), group_id=major["group"], store_id=major["store"],
        subject_type=SUBJECT, subject_id=major["id"],
    )


def _forward_seconds(major: dict) -> int:
    return decode_policy(major["policy"]).forward_deadline_seconds


def _level_body(major: dict, cfg: Level) -> tuple[str, str]:
    hours_zh, hours_en = _hours(cfg.delay_seconds), _hours_en(cfg.delay_seconds)
    if cfg.condition == Condition.REPORT_MISSING:
        return (f"标记为重大投诉已{hours_zh}，门店仍未提交《重大投诉事件处理报告》。",
                f"Marked major {hours_en} ago and the store has not filed the major-complaint report.")
    return (f"标记为重大投诉已{hours_zh}，投诉仍未解决。", f"Marked major {hours_en} ago and still unresolved.")


async def _add_reasons(
    major_id: int, group_id: int, store_id: int, reasons: list[ReasonInput], user_id: int | None,
    automatic: bool, now: datetime,
) -> None:
    rows = await Scope.system(group_id).select(MajorReasonRow, MajorReasonRow.reason).where(MajorReasonRow.major == major_id)
    have = {r["reason"] for r in rows}
    new = [r for r in reasons if r.reason.value not in have]
    if new:
        await MajorReasonRow.insert(*[
            MajorReasonRow(group=group_id, store=store_id, major=major_id, reason=r.reason.value,
                           note=r.note.strip(), automatic=automatic, added_at=now, added_by=user_id)
            for r in new
        ])


async def _move_to_store(group_id: int, major_id: int, store_id: int) -> None:
    """Re-routed: the major complaint and its child rows follow the complaint to its new store (same group)."""
    in_group = Scope.system(group_id)
    await in_group.update(MajorComplaint, {MajorComplaint.store: store_id}).where(MajorComplaint.id == major_id)
    await in_group.update(MajorReasonRow, {MajorReasonRow.store: store_id}).where(MajorReasonRow.major == major_id)
    await in_group.update(MajorReport, {MajorReport.store: store_id}).where(MajorReport.major == major_id)
    await in_group.update(CrisisMeeting, {CrisisMeeting.store: store_id}).where(CrisisMeeting.major == major_id)
    alert_ids = [r["id"] for r in await in_group.select(MajorAlert, MajorAlert.id).where(MajorAlert.major == major_id)]
    if alert_ids:
        await in_group.update(MajorAlert, {MajorAlert.store: store_id}).where(MajorAlert.id.is_in(alert_ids))
        await in_group.update(MajorAlertRecipient, {MajorAlertRecipient.store: store_id}).where(
            MajorAlertRecipient.alert.is_in(alert_ids)
        )


async def _write_report(
    major: MajorComplaint, report: MajorReport | None, form: ReportForm, user_id: int, *, status: str,
    filed_at: datetime | None = None,
) -> None:
    now = clock.now()
    values: dict = {
        f.name: getattr(form, f.name).strip() if f.kind == "text" else getattr(form, f.name).value for f in FIELDS
    }
    values |= {
        PEOPLE: msgspec.json.encode([p for p in form.responsible_people if p.name.strip()]).decode(),
        "status": status, "saved_at": now, "saved_by": user_id,
    }
    if filed_at is not None:
        values |= {"filed_at": filed_at, "filed_by": user_id}
    if report is None:
        await MajorReport.insert(MajorReport(group=major.group, store=major.store, major=major.id, **values))
    else:
        await Scope.of(report).update(MajorReport, {getattr(MajorReport, k): v for k, v in values.items()}).where(
            MajorReport.id == report.id
        )


def _check_lengths(form: ReportForm) -> None:
    problems = [
        FieldProblem(f.name, f"{f.zh}不能超过{f.max_len}字", f"{f.en} must be at most {f.max_len} characters")
        for f in TEXT_FIELDS if len(getattr(form, f.name)) > f.max_len
    ]
    if len(form.responsible_people) > MAX_PEOPLE:
        problems.append(FieldProblem(PEOPLE, f"责任人最多{MAX_PEOPLE}人", f"At most {MAX_PEOPLE} responsible people"))
    for i, person in enumerate(form.responsible_people):
        if any(len(getattr(person, f.name)) > f.max_len for f in PERSON_FIELDS):
            problems.append(FieldProblem(f"{PEOPLE}[{i}]", "姓名/职务/电话过长", "Name, position or phone too long"))
    if problems:
        raise InvalidInput(problems)


def _check_complete(form: ReportForm) -> None:
    """Filing needs every required part of the form; a draft does not."""
    problems = [
        FieldProblem(f.name, f"请填写「{f.zh}」", f"{f.en} is required to file the report")
        for f in FIELDS if f.required and not getattr(form, f.name).strip()
    ]
    if not any(p.name.strip() for p in form.responsible_people):
        problems.append(FieldProblem(PEOPLE, "请至少填写一名责任人", "Name at least one responsible person"))
    if problems:
        raise InvalidInput(problems)


def _check_reasons(reasons: list[ReasonInput]) -> list[ReasonInput]:
    if not reasons:
        raise InvalidInput.one("reasons", "请至少选择一个重大投诉原因", "Choose at least one reason")
    problems = []
    seen: set[MajorReason] = set()
    for i, r in enumerate(reasons):
        if r.reason in seen:
            problems.append(FieldProblem(f"reasons[{i}].reason", "原因重复", "Duplicate reason"))
        seen.add(r.reason)
        if r.reason == MajorReason.OTHER and not r.note.strip():
            problems.append(FieldProblem(f"reasons[{i}].note", "选择「其他」时须说明情况", "Describe the case when choosing 'other'"))
        if len(r.note) > 500:
            problems.append(FieldProblem(f"reasons[{i}].note", "说明不能超过500字", "Note must be at most 500 characters"))
    if problems:
        raise InvalidInput(problems)
    return reasons


async def _major_row(group_id: int, major_id: int) -> dict | None:
    return await Scope.system(group_id).select(MajorComplaint).where(MajorComplaint.id == major_id).first()


async def _views(actor: Scope, ids: list[int], *, with_report: bool) -> list[MajorView]:
    if not ids:
        return []
    rows = await actor.select(
        MajorComplaint, MajorComplaint.all_columns(), MajorComplaint.store.name, MajorComplaint.complaint.state,
        MajorComplaint.complaint.channel, MajorComplaint.complaint.content,
        MajorComplaint.complaint.complainant_name, MajorComplaint.marked_by.display_name,
    ).where(MajorComplaint.id.is_in(ids))
    reasons = await actor.select(MajorReasonRow).where(MajorReasonRow.major.is_in(ids)).order_by(MajorReasonRow.id)
    alert_rows = await actor.select(MajorAlert).where(MajorAlert.major.is_in(ids)).order_by(MajorAlert.level)
    alert_ids = [a["id"] for a in alert_rows] or [-1]
    recipient_rows = await actor.select(
        MajorAlertRecipient, MajorAlertRecipient.alert, MajorAlertRecipient.user, MajorAlertRecipient.user.display_name,
        MajorAlertRecipient.acknowledged_at,
    ).where(MajorAlertRecipient.alert.is_in(alert_ids)).order_by(MajorAlertRecipient.id)
    reports = {}
    if with_report:
        rows_of_reports = await actor.select(MajorReport).where(MajorReport.major.is_in(ids)).output(load_json=True)
        reports = {r["major"]: r for r in rows_of_reports}
    views = []
    for row in rows:
        policy = decode_policy(row["policy"])
        view = MajorView(
            id=row["id"], complaint_id=row["complaint"], store_id=row["store"], store_name=row["store.name"],
            customer_name=row["complaint.complainant_name"], complaint_state=row["complaint.state"],
            channel=row["complaint.channel"], content=row["complaint.content"],
            marked_at=row["marked_at"], marked_by=row["marked_by.display_name"] or "系统 / system",
            report_due_at=row["report_due_at"], report_status=ReportStatus(row["report_status"]),
            report_filed_at=row["report_filed_at"], report_overdue=row["report_overdue"],
            level_reached=row["level_reached"], levels_total=len(policy.levels),
            resolved_at=row["resolved_at"], closed_at=row["closed_at"],
            reasons=[
                {"reason": r["reason"], "title_zh": MajorReason(r["reason"]).title_zh,
                 "title_en": MajorReason(r["reason"]).title_en, "note": r["note"], "automatic": r["automatic"]}
                for r in reasons if r["major"] == row["id"]
            ],
            report=reports.get(row["id"]),
            forward_due_at=(row["report_filed_at"] + timedelta(seconds=policy.forward_deadline_seconds)
                            if row["report_filed_at"] is not None else None),
            meetings=await crisis.meetings(group_id=row["group"], major_id=row["id"]) if with_report else [],
        )
        for a in alert_rows:
            if a["major"] != row["id"]:
                continue
            view.alerts.append(AlertView(
                id=a["id"], level=a["level"], condition=a["condition"], raised_at=a["raised_at"], rounds=a["rounds"],
                settled=a["settled_at"] is not None,
                recipients=[
                    {"user_id": r["user"], "name": r["user.display_name"], "acknowledged_at": r["acknowledged_at"]}
                    for r in recipient_rows if r["alert"] == a["id"]
                ],
            ))
        views.append(view)
    return views


def _hours(seconds: int) -> str:
    return f"{seconds // 3600}小时" if seconds % 3600 == 0 else f"{seconds}秒"


def _hours_en(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds} s"

