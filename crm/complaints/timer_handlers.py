"""What happens when a complaint deadline passes: a `ComplaintDeadlineMiss` record (counted against
the store, and against the handler for the handling and result-report deadlines), a timeline row, and the responsible role
told. A timer that no longer matches the complaint's deadline (it moved on) does nothing. The appeal's
deadlines are also reminded ahead (`deadlines.REMIND_BEFORE`)."""

from __future__ import annotations

from datetime import datetime

from crm import clock
from crm.complaints import alerts, result_report
from crm.complaints.deadlines import (
    APPEAL_KINDS,
    HANDLER_KINDS,
    KIND_TITLES,
    KINDS,
    pending_appeal,
    reminder_kind,
    responsible_roles,
    timer_kind,
)
from crm.complaints.tables import Complaint, ComplaintDeadlineMiss, ComplaintEvent
from crm.db import transaction
from crm.timers.registry import FiredTimer
from tenants.scope import Scope


async def deadline_passed(timer: FiredTimer) -> None:
    kind = timer.kind.removeprefix("complaint.").removesuffix("_due")
    complaint = await _subject(timer)
    if complaint is None or complaint.due_kind != kind or complaint.due_at != timer.due_at:
        return
    await _record_miss(complaint, kind, complaint.due_at, timer.id)


async def report_overdue(timer: FiredTimer) -> None:
    """The result report (its own clock, `crm.complaints.result_report`) did not reach the CR department."""
    complaint = await _subject(timer)
    if complaint is None or not result_report.is_current(
        complaint, cycle=timer.payload.get("cycle", -1), due_at=timer.due_at
    ):
        return
    await _record_miss(complaint, result_report.KIND, complaint.report_due_at, timer.id)


async def _subject(timer: FiredTimer) -> Complaint | None:
    return await timer.scope.objects(Complaint).where(Complaint.id == timer.subject_id).first()


async def _record_miss(complaint: Complaint, kind: str, due_at: datetime, timer_id: int) -> None:
    """Once per deadline per handling cycle (reopen count), however often a timer for it fires."""
    dedupe_key = f"{complaint.id}:{kind}:{complaint.reopen_count}"
    if kind in APPEAL_KINDS:  # a complaint may be appealed again after a rejection: one miss per appeal
        appeal = await pending_appeal(complaint)
        dedupe_key += f":appeal{appeal.id if appeal else 0}"
    async with transaction():
        if await Scope.system(complaint.group).exists(ComplaintDeadlineMiss).where(ComplaintDeadlineMiss.dedupe_key == dedupe_key):
            return
        roles = responsible_roles(kind, via_group=complaint.via_group)
        now = clock.now()
        await ComplaintDeadlineMiss.insert(
            ComplaintDeadlineMiss(
                group=complaint.group,
                store=complaint.store,
                complaint=complaint.id,
                kind=kind,
                due_at=due_at,
                missed_at=now,
                responsible_role=str(roles[0]),
                handler_user=complaint.handler_user if kind in HANDLER_KINDS else None,
                dedupe_key=dedupe_key,
            )
        )
        title_zh, title_en = KIND_TITLES[kind]
        await ComplaintEvent.insert(
            ComplaintEvent(
                group=complaint.group,
                store=complaint.store,
                complaint=complaint.id,
                at=now,
                actor_user=None,
                actor_name="系统",
                action="deadline_missed",
                from_state=complaint.state,
                to_state=complaint.state,
                note=f"{title_zh}超时 / {title_en} overdue",
                data={"kind": kind, "due_at": due_at.isoformat(), "timer_id": timer_id},
            )
        )
        await alerts.deadline_missed(complaint, kind, title_zh, title_en, roles)


async def deadline_near(timer: FiredTimer) -> None:
    """Remind the responsible role of an appeal deadline that is still running."""
    kind = timer.kind.removeprefix("complaint.").removesuffix("_remind")
    complaint = await timer.scope.objects(Complaint).where(Complaint.id == timer.subject_id).first()
    if complaint is None or complaint.due_kind != kind or complaint.due_at is None:
        return
    if complaint.due_at.isoformat() != timer.payload.get("due_at"):
        return
    title_zh, title_en = KIND_TITLES[kind]
    await alerts.deadline_near(complaint, kind, title_zh, title_en, responsible_roles(kind, via_group=False))


HANDLERS = {
    **{timer_kind(kind): deadline_passed for kind in KINDS if kind != result_report.KIND},
    timer_kind(result_report.KIND): report_overdue,
    **{reminder_kind(kind): deadline_near for kind in APPEAL_KINDS},
}
