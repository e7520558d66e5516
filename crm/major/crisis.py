"""The store's crisis team (危机处理小组, seed 004 §2.6): told of a major complaint, the store GM convenes
the crisis team to agree how to respond. Each meeting is recorded on the major complaint — who took
part, when it was held, what was decided — and appears on the complaint's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from crm import clock
from crm.complaints.tables import Complaint, ComplaintEvent
from crm.db import transaction
from crm.major import board_events
from crm.major.tables import CrisisMeeting, MajorComplaint
from tenants.errors import FieldProblem, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope

# The GM convenes; the customer-relations manager may keep the minutes.
RECORDERS = frozenset({Role.STORE_GM, Role.STORE_CR_MANAGER})
MAX_MEMBERS = 30
MAX_DECISIONS = 5000
# A meeting cannot be in the future (a little clock drift between devices is tolerated).
_DRIFT = timedelta(minutes=5)


class Member(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    position: str = ""


@dataclass(frozen=True)
class MeetingView:
    id: int
    held_at: datetime
    members: list[dict]
    decisions: str
    recorded_at: datetime
    recorded_by: str


async def record_meeting(
    *, actor: Scope, major_id: int, held_at: datetime | None, members: list[Member], decisions: str
) -> int:
    """Record one crisis-team meeting (危机处理小组会议) of a major complaint; returns its id."""
    actor.require_role(*RECORDERS)
    present = [Member(m.name.strip(), m.position.strip()) for m in members if m.name.strip()]
    async with transaction():
        major = await actor.get(MajorComplaint, major_id)
        complaint = await actor.select(Complaint, Complaint.received_at, Complaint.state).where(
            Complaint.id == major.complaint
        ).first()
        _check(held_at, present, decisions, earliest=complaint["received_at"])
        now = clock.now()
        rows = await CrisisMeeting.insert(CrisisMeeting(
            group=major.group, store=major.store, major=major.id, held_at=held_at,
            members=msgspec.json.encode(present).decode(), decisions=decisions.strip(),
            recorded_at=now, recorded_by=actor.user_id,
        )).returning(CrisisMeeting.id)
        names = "、".join(m.name for m in present)
        await ComplaintEvent.insert(ComplaintEvent(
            group=major.group, store=major.store, complaint=major.complaint, at=now, actor_user=actor.user_id,
            actor_name=actor.display_name, action="crisis_meeting", from_state=complaint["state"],
            to_state=complaint["state"], note=f"危机处理小组会议（{names}）：{decisions.strip()[:200]}",
            data={"meeting_id": rows[0]["id"], "held_at": held_at.isoformat(), "members": len(present)},
        ))
        await board_events.changed(group_id=major.group, store_id=major.store, major_id=major.id)
    return rows[0]["id"]


async def meetings(*, group_id: int, major_id: int) -> list[MeetingView]:
    """The meetings of a major complaint of the group, earliest first."""
    rows = await Scope.system(group_id).select(
        CrisisMeeting, CrisisMeeting.all_columns(), CrisisMeeting.recorded_by.display_name
    ).where(CrisisMeeting.major == major_id).order_by(CrisisMeeting.held_at).output(load_json=True)
    return [
        MeetingView(id=r["id"], held_at=r["held_at"], members=list(r["members"] or []), decisions=r["decisions"],
                    recorded_at=r["recorded_at"], recorded_by=r["recorded_by.display_name"] or "")
        for r in rows
    ]


def _check(held_at: datetime | None, members: list[Member], decisions: str, *, earliest: datetime) -> None:
    problems = []
    if held_at is None:
        problems.append(FieldProblem("held_at", "请填写会议时间", "Enter when the meeting was held"))
    elif held_at.tzinfo is None:
        problems.append(FieldProblem("held_at", "会议时间须带时区", "The meeting time needs a timezone"))
    elif held_at > clock.now() + _DRIFT:
        problems.append(FieldProblem("held_at", "会议时间不能晚于现在", "The meeting cannot be in the future"))
    elif held_at < earliest:
        problems.append(FieldProblem("held_at", "会议时间不能早于投诉登记时间",
                                     "The meeting cannot be before the complaint was received"))
    if not members:
        problems.append(FieldProblem("members", "请至少填写一名参会人员", "Name at least one member"))
    if len(members) > MAX_MEMBERS:
        problems.append(FieldProblem("members", f"参会人员最多{MAX_MEMBERS}人", f"At most {MAX_MEMBERS} members"))
    for i, m in enumerate(members):
        if len(m.name) > 50 or len(m.position) > 50:
            problems.append(FieldProblem(f"members[{i}]", "姓名或职务过长", "Name or position too long"))
    if not decisions.strip():
        problems.append(FieldProblem("decisions", "请填写会议决定的应对办法", "Record what the meeting decided"))
    if len(decisions) > MAX_DECISIONS:
        problems.append(FieldProblem("decisions", f"会议决定不能超过{MAX_DECISIONS}字",
                                     f"Decisions must be at most {MAX_DECISIONS} characters"))
    if problems:
        raise InvalidInput(problems)
