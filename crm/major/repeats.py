"""Repeat complaints (重复投诉) detected on every intake path, and the decision they need.

Every new complaint — API, web form, a dissatisfied callback, the manufacturer channel — goes
through `crm.complaints.service.create_complaint`, whose `complaint_created` hook calls `flag`: when
the same customer identity or vehicle complained within the group's window, the complaint links
those complaints and is flagged 疑似重复投诉. Someone must decide:

| decision  | effect                                                      |
|-----------|-------------------------------------------------------------|
| same      | the same problem: the complaint becomes major, reason 重复投诉 |
| different | a different problem: not a repeat; a short reason is required |

The intake screen asks for the decision. Where nobody decided at intake, group customer service
(集团客服部) decides within the group's working hours (policy, default 2): a reminder timer halfway,
and at the deadline an escalation to the group's management, recorded once on the flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from crm import clock
from crm.calendar.service import calendar_for_group
from crm.complaints.tables import Complaint, ComplaintEvent
from crm.db import transaction
from crm.major.policy import policy_for_group
from crm.major.tables import RepeatCheck
from crm.notify.service import notify_roles
from crm.timers.service import cancel_timers, schedule_timer
from tenants.errors import Conflict, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope

SUBJECT = "repeat_check"
REMIND = "repeat.decision_remind"
DUE = "repeat.decision_due"
# Who is reminded of an open decision, and who hears when it is overdue.
DECIDING_ROLES = [Role.GROUP_CUSTOMER_SERVICE]
ESCALATION_ROLES = [Role.GROUP_ADMIN, Role.GROUP_CUSTOMER_SERVICE]
MAX_REASON = 200


class Decision(StrEnum):
    SAME = "same"
    DIFFERENT = "different"

    @property
    def title_zh(self) -> str:
        return {"same": "同一问题（重复投诉，转重大投诉）", "different": "不同问题（非重复投诉）"}[self.value]

    @property
    def title_en(self) -> str:
        return {"same": "Same problem (repeat complaint, made major)",
                "different": "Different problem (not a repeat)"}[self.value]


@dataclass(frozen=True)
class RepeatFlag:
    """What a complaint page or list shows: the earlier complaints and the decision (or its deadline)."""

    complaint_id: int
    earlier: list[int]
    flagged_at: datetime
    decision_due_at: datetime
    decision: str
    reason: str
    decided_at: datetime | None
    overdue: bool

    @property
    def pending(self) -> bool:
        return not self.decision


def check_decision(decision: str | None, reason: str) -> Decision:
    """The decision as given (field-level messages when it is missing or incomplete)."""
    if decision not in {d.value for d in Decision}:
        raise InvalidInput.one("repeat_decision", "请判断是否与之前的投诉为同一问题",
                               "Decide whether this is the same problem as the earlier complaint(s)")
    if decision == Decision.DIFFERENT and not reason.strip():
        raise InvalidInput.one("repeat_reason", "判断为不同问题时须简要说明原因",
                               "Give a short reason why it is a different problem")
    if len(reason) > MAX_REASON:
        raise InvalidInput.one("repeat_reason", f"原因不能超过{MAX_REASON}字",
                               f"Reason must be at most {MAX_REASON} characters")
    return Decision(decision)


async def flag(*, group_id: int, store_id: int, complaint_id: int) -> int | None:
    """Intake hook: flag the complaint when earlier complaints of its customer or vehicle fall in the window,
    and start the decision deadline. Returns the flag's id, None when it is no repeat."""
    from crm.major.service import find_repeats

    complaint = await Scope.system(group_id, store_id).select(Complaint, Complaint.customer_identity, Complaint.vin).where(
        Complaint.id == complaint_id
    ).first()
    policy = await policy_for_group(group_id)
    now = clock.now()
    hits = await find_repeats(
        group_id=group_id, identity_id=complaint["customer_identity"], vin=complaint["vin"],
        since=now - timedelta(days=policy.repeat_window_days), exclude_complaint_id=complaint_id,
    )
    if not hits:
        return None
    calendar = await calendar_for_group(group_id)
    hours = policy.repeat_decision_working_hours
    due_at = calendar.add_working_hours(now, hours)
    earlier = [hit.complaint_id for hit in hits]
    rows = await RepeatCheck.insert(RepeatCheck(
        group=group_id, store=store_id, complaint=complaint_id, earlier=msgspec.json.encode(earlier).decode(),
        flagged_at=now, decision_due_at=due_at,
    )).returning(RepeatCheck.id)
    check_id = rows[0]["id"]
    common = dict(group_id=group_id, store_id=store_id, subject_type=SUBJECT, subject_id=check_id)
    await schedule_timer(kind=REMIND, due_at=calendar.add_working_hours(now, hours / 2), **common)
    await schedule_timer(kind=DUE, due_at=due_at, **common)
    await _timeline(group_id, store_id, complaint_id, None, "repeat_flagged",
                    f"疑似重复投诉：关联投诉 {_ids(earlier)} / Suspected repeat of {_ids(earlier)}",
                    {"earlier": earlier, "decision_due_at": due_at.isoformat()})
    return check_id


async def decide(*, actor: Scope, complaint_id: int, decision: str | None, reason: str = "") -> Decision:
    """Record the decision on a flagged complaint: the same problem marks it major (重复投诉)."""
    from crm.major.service import MARKERS, ReasonInput, mark_major
    from crm.major.rules import MajorReason

    actor.require_role(*MARKERS)
    async with transaction():
        complaint = await actor.get(Complaint, complaint_id)
        chosen = check_decision(decision, reason)
        check = await actor.filter(RepeatCheck.objects(), RepeatCheck).where(
            RepeatCheck.complaint == complaint.id
        ).first()
        if check is None:
            raise Conflict("该投诉未被识别为疑似重复投诉", "This complaint is not flagged as a suspected repeat")
        now = clock.now()
        # Conditional on "still pending": of two people deciding at once, one wins, the other gets 409.
        won = await actor.filter(RepeatCheck.update({
            RepeatCheck.decision: chosen.value, RepeatCheck.reason: reason.strip(),
            RepeatCheck.decided_at: now, RepeatCheck.decided_by: actor.user_id,
        }), RepeatCheck).where(RepeatCheck.id == check.id, RepeatCheck.decision == "").returning(RepeatCheck.id)
        if not won:
            raise Conflict("已判断过是否为重复投诉", "Whether it is a repeat was already decided")
        await cancel_timers(subject_type=SUBJECT, subject_id=check.id)
        if chosen == Decision.SAME:
            await mark_major(actor=actor, complaint_id=complaint.id,
                             reasons=[ReasonInput(MajorReason.REPEAT, reason.strip())])
        note = f"{chosen.title_zh}{'：' + reason.strip() if reason.strip() else ''} / {chosen.title_en}"
        await _timeline(complaint.group, complaint.store, complaint.id, actor, "repeat_decided", note,
                        {"decision": chosen.value, "reason": reason.strip(), "late": check.overdue})
    return chosen


async def remind(*, check_id: int, group_id: int) -> bool:
    """Halfway to the deadline and still undecided: remind group customer service. True when reminded."""
    check = await _pending(check_id, group_id)
    if check is None:
        return False
    label = await _label(check["complaint"], group_id)
    due = await _local(group_id, check["decision_due_at"])
    await notify_roles(
        group_id=group_id, roles=DECIDING_ROLES, store_id=check["store"], kind="repeat.remind",
        title_zh=f"疑似重复投诉待判断：{label}", title_en=f"Suspected repeat complaint to decide: {label}",
        body_zh=f"请在 {due} 前判断是否与之前的投诉为同一问题。",
        body_en=f"Decide by {due} whether it is the same problem as before.",
        link=f"/complaints/{check['complaint']}", idempotency_key=f"repeat-remind:{check_id}",
    )
    return True


async def escalate(*, check_id: int, group_id: int) -> bool:
    """The decision deadline passed undecided: recorded once on the flag and the timeline, management told."""
    check = await _pending(check_id, group_id)
    if check is None or check["overdue"]:
        return False
    await Scope.system(group_id).update(RepeatCheck, {RepeatCheck.overdue: True}).where(RepeatCheck.id == check_id)
    label = await _label(check["complaint"], group_id)
    await notify_roles(
        group_id=group_id, roles=ESCALATION_ROLES, store_id=check["store"], kind="repeat.overdue",
        title_zh=f"疑似重复投诉判断超时：{label}", title_en=f"Repeat-complaint decision overdue: {label}",
        body_zh="集团客服部未在时限内判断是否为重复投诉，请督办。",
        body_en="Group customer service did not decide in time whether it is a repeat; please follow up.",
        link=f"/complaints/{check['complaint']}", idempotency_key=f"repeat-overdue:{check_id}",
    )
    await _timeline(group_id, check["store"], check["complaint"], None, "repeat_overdue",
                    "重复投诉判断超时 / Repeat decision overdue", {"due_at": check["decision_due_at"].isoformat()})
    return True


async def stop(*, group_id: int, complaint_id: int) -> None:
    """The complaint closed or was voided: nobody needs to decide any more."""
    row = await Scope.system(group_id).select(RepeatCheck, RepeatCheck.id).where(RepeatCheck.complaint == complaint_id).first()
    if row is not None:
        await cancel_timers(subject_type=SUBJECT, subject_id=row["id"])


async def follow_store(*, group_id: int, complaint_id: int, store_id: int) -> None:
    """Re-routed: the flag follows its complaint to the new store (same group)."""
    await Scope.system(group_id).update(RepeatCheck, {RepeatCheck.store: store_id}).where(
        RepeatCheck.complaint == complaint_id
    )


async def flag_for(*, actor: Scope, complaint_id: int) -> RepeatFlag | None:
    complaint = await actor.get(Complaint, complaint_id)
    flags = await repeat_flags(actor=actor, complaint_ids=[complaint.id])
    return flags.get(complaint.id)


async def repeat_flags(*, actor: Scope, complaint_ids: list[int], pending_only: bool = False) -> dict[int, RepeatFlag]:
    """The flags of these complaints (already read through the caller's scope), by complaint id."""
    if not complaint_ids:
        return {}
    query = actor.select(RepeatCheck).where(RepeatCheck.complaint.is_in(list(complaint_ids)))
    if pending_only:
        query = query.where(RepeatCheck.decision == "")
    return {
        r["complaint"]: RepeatFlag(
            complaint_id=r["complaint"], earlier=list(r["earlier"] or []), flagged_at=r["flagged_at"],
            decision_due_at=r["decision_due_at"], decision=r["decision"], reason=r["reason"],
            decided_at=r["decided_at"], overdue=r["overdue"],
        )
        for r in await query.output(load_json=True)
    }


async def _pending(check_id: int, group_id: int) -> dict | None:
    return await Scope.system(group_id).select(RepeatCheck).where(
        RepeatCheck.id == check_id, RepeatCheck.decision == ""
    ).first()


async def _timeline(
    group_id: int, store_id: int, complaint_id: int, actor: Scope | None, action: str, note: str, data: dict
) -> None:
    complaint = await Scope.system(group_id).select(Complaint, Complaint.state).where(Complaint.id == complaint_id).first()
    await ComplaintEvent.insert(ComplaintEvent(
        group=group_id, store=store_id, complaint=complaint_id, at=clock.now(),
        actor_user=actor.user_id if actor else None, actor_name=actor.display_name if actor else "系统",
        action=action, from_state=complaint["state"], to_state=complaint["state"], note=note, data=data,
    ))


async def _label(complaint_id: int, group_id: int) -> str:
    from crm.major.service import complaint_label

    return await complaint_label(complaint_id, group_id)


def _ids(ids: list[int]) -> str:
    return "、".join(f"#{i}" for i in ids)


async def _local(group_id: int, moment: datetime) -> str:
    """The deadline as the group reads it (its own timezone)."""
    return (await calendar_for_group(group_id)).local(moment).strftime("%Y-%m-%d %H:%M")

