"""The result report's clock (处理结果报告, seed 001 §5.1: 处理完毕后1天内将处理结果回复给客关部,并提交改善措施;
同时客关部对处理结果进行检核).

Completing the handling (resolve) and reporting are two steps. Resolving starts the clock; it stops
when the department's report (result + improvement measures) reaches the customer-relations
department, which then checks it (检核): accepted, or returned to be redone.

    resolve → due ─submit→ submitted ─accept→ accepted
                              └─return→ returned ─submit→ submitted …

- Due `report_days` working days after completion (group policy, default 1): the department's report
  is the store's internal work, like handling, so a handling completed on Friday evening is reported
  on Monday. On a working day that is exactly 24 hours.
- A returned report is due again `report_days` working days after it was returned: the department
  gets the same time to redo it as it had to write it.
- It runs beside the group feedback and the revisit (which count from the same completion), so it is
  a timer of its own (subject `complaint_report`), not the complaint's `due_kind`.
- A miss is recorded once per handling cycle (`ComplaintDeadlineMiss`, kind `report`, against the
  handler the complaint form was issued to, the department head answering for it): a late redo of
  a report that was already late does not count again. Reopening starts a new cycle, which needs
  its own report.
"""

from __future__ import annotations

from datetime import datetime

from crm.calendar.service import calendar_for_store
from crm.complaints.authority import policy_for_group
from crm.complaints.deadlines import timer_kind
from crm.complaints.tables import Complaint
from crm.timers.service import cancel_timers, schedule_timer
from tenants.scope import Scope

SUBJECT = "complaint_report"
KIND = "report"
DUE, SUBMITTED, RETURNED, ACCEPTED = "due", "submitted", "returned", "accepted"
# The department owes a report in these states; the clock runs.
OWED = frozenset({DUE, RETURNED})
STATE_TITLES: dict[str, tuple[str, str]] = {
    DUE: ("待提交处理结果报告", "Report due"),
    SUBMITTED: ("待客关部检核", "Awaiting CR check"),
    RETURNED: ("报告被退回，待重新提交", "Returned, to be redone"),
    ACCEPTED: ("客关部检核通过", "Accepted by CR"),
}


async def report_due_at(complaint: Complaint, since: datetime) -> datetime:
    """When a report owed since `since` (completion, or the report's return) is due."""
    policy = await policy_for_group(complaint.group)
    calendar = await calendar_for_store(complaint.store)
    return calendar.add_working_days(since, policy.report_days)


async def set_clock(complaint: Complaint, state: str, due_at: datetime | None) -> None:
    """Record the report's state and make its timer match: one pending timer while a report is owed."""
    await cancel_timers(subject_type=SUBJECT, subject_id=complaint.id)
    if state in OWED and due_at is not None:
        await schedule_timer(
            kind=timer_kind(KIND),
            due_at=due_at,
            group_id=complaint.group,
            store_id=complaint.store,
            subject_type=SUBJECT,
            subject_id=complaint.id,
            payload={"cycle": complaint.reopen_count},
        )
    await Scope.of(complaint).update(Complaint, {Complaint.report_state: state, Complaint.report_due_at: due_at}).where(
        Complaint.id == complaint.id
    )
    complaint.report_state, complaint.report_due_at = state, due_at


def is_current(complaint: Complaint, *, cycle: int, due_at: datetime) -> bool:
    """Does a fired report timer still describe the report the complaint owes?"""
    return (
        complaint.report_state in OWED
        and complaint.reopen_count == cycle
        and complaint.report_due_at == due_at
    )
