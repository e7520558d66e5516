"""A complaint's deadlines, each a timer (DOMAIN.md "Complaints", steps 1, 7, 8):

| kind     | runs while                      | due                                              | responsible           |
|----------|---------------------------------|--------------------------------------------------|-----------------------|
| accept   | received (routed, not accepted) | N working hours after routing (group policy: 2,  | store CR manager      |
|          |                                 | urgent 紧急 complaints 1)                         |                       |
| handle   | accepted, assigned, analysed,   | N working days after acceptance, reopening or a  | handler, dept. head,  |
|          | countermeasure, reopened        | rejected appeal (group policy, 1): handling done | store CR manager      |
| feedback | resolved, taken by the group    | 24 h after resolution: result to group service   | store CR manager      |
| revisit  | fed back (group) / resolved     | 3 days after feedback / resolution               | group CS / store      |
| report   | handling done, report not yet   | its own clock beside the ones above              | handler, dept. head   |
|          | accepted by the CR department   | (`crm.complaints.result_report`)                 |                       |
| appeal_forward | appealed                  | N working days after filing (policy, 1): forward | department head       |
|          |                                 | to the GM or decline                             |                       |
| appeal_ruling  | appeal_forwarded          | N working days after forwarding (policy, 1)      | store GM              |

The two appeal deadlines also get a reminder timer `REMIND_BEFORE` ahead of the deadline (told: the
responsible role), so the head and the GM hear of it before it is missed.

A store's own resolved complaint is revisited through the store's callback queue when the callback
rule is enabled: that callback's deadline is `revisit_due_at` (the same policy) and the complaint
runs no revisit timer of its own, so there is one timer and one overdue count per revisit.

The handling deadline closes the gap between acceptance and the completed handling (resolve): without
it a store that accepts and never handles, or ignores a reopened complaint, would never be overdue.
It counts working days because it is the store's internal work, like acceptance (a complaint accepted
on Friday evening is due on Monday, not on Saturday). Reassigning the handler, re-analysing or
recording the countermeasure does not restart it.
While an appeal (申诉) is open the handling deadline does not run — handling is paused until the
head declines it or the GM rules, and the appeal's own deadlines run instead — and a rejected
appeal restarts the handling day from the ruling (`handle_from`).

Completing the handling starts the result report (seed 001 §5.1 处理完毕后1天内将处理结果回复给客关部):
a second clock that runs while the complaint goes on to the group feedback and the revisit, so it is
not one of the kinds `due` returns.

The due time follows from the complaint's state and timestamps alone, so `sync` can always
recompute it: a state change that moves or ends a deadline cancels the old timer and creates the
new one. The complaint keeps a copy (`due_kind`, `due_at`) for sorting and countdowns.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crm import clock
from crm.calendar.service import calendar_for_store
from crm.complaints.authority import Policy, policy_for_group
from crm.complaints.tables import Complaint, ComplaintAppeal
from crm.complaints.workflow import State
from crm.timers.service import cancel_timers, schedule_timer
from tenants.roles import Role
from tenants.scope import Scope

SUBJECT = "complaint"
URGENT = "urgent"
URGENCIES: dict[str, tuple[str, str]] = {"urgent": ("紧急", "Urgent"), "normal": ("一般", "Normal")}
KINDS = ("accept", "handle", "report", "feedback", "revisit", "appeal_forward", "appeal_ruling")
KIND_TITLES: dict[str, tuple[str, str]] = {
    "accept": ("门店受理", "Store acceptance"),
    "handle": ("处理完毕", "Handling complete"),
    "report": ("处理结果报告", "Result report"),
    "feedback": ("反馈集团", "Feedback to group"),
    "revisit": ("回访", "Revisit"),
    "appeal_forward": ("部门主管提报申诉", "Appeal forwarding"),
    "appeal_ruling": ("总经理裁决申诉", "Appeal ruling"),
}
# The appeal's deadlines are reminded before they pass, this long before.
APPEAL_KINDS = frozenset({"appeal_forward", "appeal_ruling"})
REMIND_BEFORE = timedelta(hours=2)


# Deadlines the assigned handler is answerable for (staff accountability).
HANDLER_KINDS = frozenset({"handle", "report"})
HANDLING_STATES = frozenset({State.ACCEPTED, State.ASSIGNED, State.ANALYSED, State.COUNTERMEASURE, State.REOPENED})


def timer_kind(kind: str) -> str:
    return f"complaint.{kind}_due"


def reminder_kind(kind: str) -> str:
    return f"complaint.{kind}_remind"


def responsible_roles(kind: str, *, via_group: bool) -> list[Role]:
    """Who is told when the deadline passes (the handler, if any, is told as well)."""
    if kind in HANDLER_KINDS:
        return [Role.DEPARTMENT_HEAD, Role.STORE_CR_MANAGER]
    if kind == "revisit":
        return [Role.GROUP_CUSTOMER_SERVICE] if via_group else [Role.CALLBACK_AGENT, Role.STORE_CR_MANAGER]
    if kind == "appeal_forward":
        return [Role.DEPARTMENT_HEAD]
    if kind == "appeal_ruling":
        return [Role.STORE_GM]
    return [Role.STORE_CR_MANAGER]


async def due(complaint: Complaint, policy: Policy | None = None) -> tuple[str, datetime] | None:
    """The deadline running in the complaint's current state, or None."""
    policy = policy or await policy_for_group(complaint.group)
    state = State(complaint.state)
    if state not in (State.RECEIVED, State.RESOLVED, State.FED_BACK, *HANDLING_STATES,
                     State.APPEALED, State.APPEAL_FORWARDED):
        return None
    calendar = await calendar_for_store(complaint.store)
    if state in (State.APPEALED, State.APPEAL_FORWARDED):
        appeal = await pending_appeal(complaint)
        if appeal is None:
            return None
        if state == State.APPEALED:
            return "appeal_forward", calendar.add_working_days(appeal.filed_at, policy.appeal_forward_working_days)
        return "appeal_ruling", calendar.add_working_days(appeal.forwarded_at, policy.appeal_ruling_working_days)
    if state == State.RECEIVED:
        return "accept", calendar.add_working_hours(complaint.routed_at, accept_working_hours(complaint, policy))
    if state in HANDLING_STATES and complaint.handle_from is not None:
        return "handle", calendar.add_working_days(complaint.handle_from, policy.handle_working_days)
    if state == State.RESOLVED and complaint.resolved_at is not None:
        if complaint.via_group:
            return "feedback", complaint.resolved_at + timedelta(hours=policy.feedback_hours)
        return "revisit", calendar.add_calendar_days(complaint.resolved_at, policy.revisit_days)
    if state == State.FED_BACK and complaint.fed_back_at is not None:
        return "revisit", calendar.add_calendar_days(complaint.fed_back_at, policy.revisit_days)
    return None


async def pending_appeal(complaint: Complaint) -> ComplaintAppeal | None:
    """The complaint's appeal still waiting for the head or the GM, if any (appeals follow the complaint's store)."""
    return await Scope.of(complaint).objects(ComplaintAppeal).where(
        ComplaintAppeal.complaint == complaint.id, ComplaintAppeal.status.is_in(["filed", "forwarded"])
    ).order_by(ComplaintAppeal.id, ascending=False).first()


def accept_working_hours(complaint: Complaint, policy: Policy) -> int:
    """紧急 complaints get the group's shorter acceptance deadline."""
    return policy.urgent_accept_working_hours if complaint.urgency == URGENT else policy.accept_working_hours


async def revisit_due_at(*, group_id: int, store_id: int, since: datetime) -> datetime:
    """When the revisit of a complaint resolved (or fed back) at `since` is due: the group's policy, the
    one rule for the complaint's own revisit deadline and for the store's revisit callback."""
    policy = await policy_for_group(group_id)
    calendar = await calendar_for_store(store_id)
    return calendar.add_calendar_days(since, policy.revisit_days)


async def hand_revisit_to_callback(*, group_id: int, complaint_id: int, callback_id: int) -> None:
    """A store's own resolved complaint is revisited through the store's callback queue: the callback (due
    by `revisit_due_at`) is then the one timer and the one overdue count. The complaint keeps the due time
    for its countdown but drops its own timer."""
    await Scope.system(group_id).update(Complaint, {Complaint.revisit_callback_id: callback_id}).where(
        Complaint.id == complaint_id
    )
    await cancel_timers(subject_type=SUBJECT, subject_id=complaint_id, kinds=[timer_kind("revisit")])


def _carried_by_callback(complaint: Complaint, kind: str) -> bool:
    return kind == "revisit" and not complaint.via_group and complaint.revisit_callback_id is not None


async def sync(complaint: Complaint, *, moved_store: bool = False) -> None:
    """Make the complaint's pending timer match its state: keep, move, create or cancel it."""
    wanted = await due(complaint)
    current = (complaint.due_kind, complaint.due_at) if complaint.due_kind else None
    if wanted == current and not moved_store:
        return
    await cancel_timers(subject_type=SUBJECT, subject_id=complaint.id)
    kind, due_at = wanted if wanted else ("", None)
    if wanted and not _carried_by_callback(complaint, kind):
        await schedule_timer(
            kind=timer_kind(kind),
            due_at=due_at,
            group_id=complaint.group,
            store_id=complaint.store,
            subject_type=SUBJECT,
            subject_id=complaint.id,
            payload={"cycle": complaint.reopen_count},
        )
        remind_at = due_at - REMIND_BEFORE
        if kind in APPEAL_KINDS and remind_at > clock.now():
            await schedule_timer(
                kind=reminder_kind(kind),
                due_at=remind_at,
                group_id=complaint.group,
                store_id=complaint.store,
                subject_type=SUBJECT,
                subject_id=complaint.id,
                payload={"due_at": due_at.isoformat()},
            )
    await Scope.of(complaint).update(Complaint, {Complaint.due_kind: kind, Complaint.due_at: due_at}).where(
        Complaint.id == complaint.id
    )
    complaint.due_kind, complaint.due_at = kind, due_at
