"""The complaint state machine, in one place: states, actions, where each action may start, who may do it.

    received ─accept→ accepted ─assign→ assigned ─analyse→ analysed ─countermeasure→ countermeasure
        ─resolve→ resolved ─feed_back→ fed_back ─revisit→ revisited ─close→ closed
        (complaints taken by the store skip feed_back: resolved ─revisit→ …, revisited by the store)
    revisit with an unsatisfied customer, or reopen from revisited/closed → reopened ─assign/analyse→ …
    accepted/assigned/analysed ─file_appeal→ appealed ─forward_appeal→ appeal_forwarded
        ─rule_appeal→ voided (upheld) | the state before (rejected)
    appealed ─decline_appeal→ the state before (the department head does not forward it)

An action that cannot start from the complaint's state raises `Conflict` (HTTP 409) listing the
actions that can; an action the caller's role may not do raises `Forbidden`. The staff member a
complaint is about (对原接待个人的投诉,原接待员工不得参与) may do nothing with it but appeal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from tenants.errors import Conflict, Forbidden
from tenants.roles import TENANT_ROLES, Role
from tenants.scope import Scope


class State(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    ANALYSED = "analysed"
    COUNTERMEASURE = "countermeasure"
    RESOLVED = "resolved"
    FED_BACK = "fed_back"
    REVISITED = "revisited"
    CLOSED = "closed"
    REOPENED = "reopened"
    APPEALED = "appealed"
    APPEAL_FORWARDED = "appeal_forwarded"
    VOIDED = "voided"

    @property
    def title_zh(self) -> str:
        return STATE_TITLES[self][0]

    @property
    def title_en(self) -> str:
        return STATE_TITLES[self][1]


STATE_TITLES: dict[State, tuple[str, str]] = {
    State.RECEIVED: ("待门店受理", "Awaiting store"),
    State.ACCEPTED: ("门店已受理", "Accepted by store"),
    State.ASSIGNED: ("已派处理人", "Handler assigned"),
    State.ANALYSED: ("已分析原因", "Cause analysed"),
    State.COUNTERMEASURE: ("对策处理中", "Countermeasure"),
    State.RESOLVED: ("已解决", "Resolved"),
    State.FED_BACK: ("已反馈集团", "Fed back to group"),
    State.REVISITED: ("已回访", "Revisited"),
    State.CLOSED: ("已结案", "Closed"),
    State.REOPENED: ("已重开", "Reopened"),
    State.APPEALED: ("申诉中", "Under appeal"),
    State.APPEAL_FORWARDED: ("申诉待总经理裁决", "Appeal awaiting GM ruling"),
    State.VOIDED: ("已作废", "Voided"),
}

FINAL_STATES = frozenset({State.CLOSED, State.VOIDED})
# Before handling is done the accused may still appeal (seed 001 §5.1: appeal, then handle).
APPEALABLE_STATES = frozenset({State.ACCEPTED, State.ASSIGNED, State.ANALYSED})

STORE_MANAGERS = frozenset({Role.STORE_CR_MANAGER, Role.STORE_GM})
HANDLING_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.STORE_CR_MANAGER, Role.STORE_GM})
GROUP_INTAKE_ROLES = frozenset({Role.CALL_CENTER_AGENT, Role.GROUP_CUSTOMER_SERVICE, Role.GROUP_ADMIN})
GROUP_REVISIT_ROLES = frozenset({Role.GROUP_CUSTOMER_SERVICE, Role.CALL_CENTER_AGENT})
# Everyone who works the store's callback queue (crm.callbacks.service.CALLBACK_WORKERS) may record the
# revisit a callback asks for: the call center too, as group customer service may (DOMAIN.md step 8).
STORE_REVISIT_ROLES = frozenset(
    {Role.CALLBACK_AGENT, Role.STORE_CR_MANAGER, Role.GROUP_CUSTOMER_SERVICE, Role.CALL_CENTER_AGENT}
)
STORE_INTAKE_ROLES = frozenset(
    {Role.STORE_GM, Role.STORE_CR_MANAGER, Role.CALLBACK_AGENT, Role.DEPARTMENT_HEAD, Role.STAFF}
)
INTAKE_ROLES = GROUP_INTAKE_ROLES | STORE_INTAKE_ROLES
REVISIT_ROLES = GROUP_REVISIT_ROLES | STORE_REVISIT_ROLES
# Who may read complaints (within their scope): everyone who works inside the group.
READERS = TENANT_ROLES


class ComplaintLike(Protocol):
    state: str
    via_group: bool
    accused_user: int | None
    handler_user: int | None
    report_state: str


@dataclass(frozen=True)
class Action:
    name: str
    label_zh: str
    label_en: str
    sources: frozenset[State]
    targets: tuple[State, ...]  # empty: the state does not change
    roles: frozenset[Role] = frozenset()
    handler_may: bool = False  # the complaint's assigned handler may do it whatever their role
    accused_only: bool = False
    # Complaints taken by the group differ: the store feeds back first, and the group revisits and closes.
    group_sources: frozenset[State] | None = None
    group_roles: frozenset[Role] | None = None
    # Steps of the result report (crm.complaints.result_report) also need the report in one of these states.
    report_states: frozenset[str] | None = None

    def starts_from(self, complaint: ComplaintLike) -> bool:
        sources = self.group_sources if complaint.via_group and self.group_sources is not None else self.sources
        if self.report_states is not None and complaint.report_state not in self.report_states:
            return False
        return State(complaint.state) in sources

    def roles_for(self, complaint: ComplaintLike) -> frozenset[Role]:
        return self.group_roles if complaint.via_group and self.group_roles is not None else self.roles


_HANDLING_STATES = frozenset({State.ANALYSED, State.COUNTERMEASURE})
_OPEN_STATES = frozenset(State) - FINAL_STATES
# After the handling is complete the result report runs on its own, also once the complaint is closed.
_HANDLED_STATES = frozenset({State.RESOLVED, State.FED_BACK, State.REVISITED, State.CLOSED})
# The department reports (seed 001 §5.1: the department head is answerable); the CR department checks.
REPORT_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.STORE_GM})
REPORT_CHECK_ROLES = frozenset({Role.STORE_CR_MANAGER})
URGENCY_ROLES = frozenset({Role.STORE_CR_MANAGER, Role.GROUP_CUSTOMER_SERVICE})

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action("reroute", "改派门店", "Re-route to another store",
               frozenset({State.RECEIVED, State.ACCEPTED}), (State.RECEIVED,), GROUP_INTAKE_ROLES),
        Action("accept", "门店受理", "Accept at store",
               frozenset({State.RECEIVED}), (State.ACCEPTED,), STORE_MANAGERS),
        Action("assign", "指派处理人", "Assign handler",
               frozenset({State.ACCEPTED, State.ASSIGNED, State.REOPENED}), (State.ASSIGNED,), STORE_MANAGERS),
        Action("analyse", "原因分析", "Analyse cause",
               frozenset({State.ASSIGNED, State.ANALYSED, State.REOPENED}), (State.ANALYSED,),
               HANDLING_ROLES, handler_may=True),
        Action("countermeasure", "制定对策", "Record countermeasure",
               _HANDLING_STATES, (State.COUNTERMEASURE,), HANDLING_ROLES, handler_may=True),
        Action("resolve", "处理完毕", "Complete handling",
               frozenset({State.COUNTERMEASURE}), (State.RESOLVED,), HANDLING_ROLES, handler_may=True),
        Action("feed_back", "反馈集团", "Feed back to group",
               frozenset(), (State.FED_BACK,), STORE_MANAGERS, group_sources=frozenset({State.RESOLVED})),
        Action("revisit", "回访客户", "Revisit customer",
               frozenset({State.RESOLVED}), (State.REVISITED, State.REOPENED), STORE_REVISIT_ROLES,
               group_sources=frozenset({State.FED_BACK}), group_roles=GROUP_REVISIT_ROLES),
        Action("close", "结案", "Close",
               frozenset({State.REVISITED}), (State.CLOSED,), STORE_REVISIT_ROLES | STORE_MANAGERS,
               group_roles=GROUP_REVISIT_ROLES),
        Action("reopen", "重新处理", "Reopen",
               frozenset({State.REVISITED, State.CLOSED}), (State.REOPENED,),
               frozenset({Role.GROUP_CUSTOMER_SERVICE, Role.STORE_CR_MANAGER, Role.STORE_GM})),
        Action("file_appeal", "提出申诉", "File appeal",
               APPEALABLE_STATES, (State.APPEALED,), accused_only=True),
        # Seed 001 §5.1: the appeal goes to the department head, who forwards it (提报) — only then the GM rules.
        Action("forward_appeal", "部门主管提报", "Forward appeal to GM",
               frozenset({State.APPEALED}), (State.APPEAL_FORWARDED,), frozenset({Role.DEPARTMENT_HEAD})),
        Action("decline_appeal", "部门主管驳回申诉", "Decline appeal (department head)",
               frozenset({State.APPEALED}), tuple(APPEALABLE_STATES), frozenset({Role.DEPARTMENT_HEAD})),
        Action("rule_appeal", "总经理裁决", "GM ruling",
               frozenset({State.APPEAL_FORWARDED}), (State.VOIDED, *APPEALABLE_STATES),
               frozenset({Role.STORE_GM})),
        Action("request_compensation", "申请补偿", "Request compensation",
               _HANDLING_STATES, (), HANDLING_ROLES, handler_may=True),
        # Who decides is the authority table's business (crm.complaints.authority), checked by the service.
        Action("decide_compensation", "审批补偿", "Decide compensation",
               _HANDLING_STATES, (), frozenset(Role)),
        Action("add_note", "添加备注", "Add note",
               _OPEN_STATES, (), frozenset(Role)),
        Action("submit_report", "提交处理结果报告", "Submit result report",
               _HANDLED_STATES, (), REPORT_ROLES, handler_may=True, report_states=frozenset({"due", "returned"})),
        Action("check_report", "客关部检核", "CR check of the report",
               _HANDLED_STATES, (), REPORT_CHECK_ROLES, report_states=frozenset({"submitted"})),
        Action("set_urgency", "调整紧急程度", "Change urgency",
               _OPEN_STATES, (), URGENCY_ROLES),
    ]
}

def actions_from(complaint: ComplaintLike) -> list[str]:
    """Every action that can start from the complaint's state, whoever asks."""
    return [name for name, action in ACTIONS.items() if action.starts_from(complaint)]


def may(actor: Scope, complaint: ComplaintLike, name: str) -> bool:
    """May this caller do this action on this complaint (ignoring its state)?"""
    action = ACTIONS[name]
    accused = complaint.accused_user is not None and complaint.accused_user == actor.user_id
    if action.accused_only:
        return accused
    if accused:
        return False
    if action.handler_may and complaint.handler_user == actor.user_id:
        return True
    return actor.has_role(*action.roles_for(complaint))


def available_actions(actor: Scope, complaint: ComplaintLike) -> list[str]:
    """What the caller can do now: the buttons the complaint page shows."""
    return [name for name in actions_from(complaint) if may(actor, complaint, name)]


# The lifecycle's forward steps, in order: the complaint page highlights the first the caller can take.
# Appeals and reopening are exceptions someone chooses, never "the next step"; re-recording a step
# (assign again while assigned) does not move the complaint on, so it is not next either.
NEXT_STEPS = (
    "accept", "assign", "analyse", "countermeasure", "resolve", "submit_report", "check_report",
    "feed_back", "revisit", "close", "forward_appeal", "rule_appeal",
)


def next_action(actor: Scope, complaint: ComplaintLike) -> str | None:
    """THE next step for this caller now (the one highlighted button), or None when they have none."""
    available = set(available_actions(actor, complaint))
    for name in NEXT_STEPS:
        if name in available and ACTIONS[name].targets != (State(complaint.state),):
            return name
    return None


def check(actor: Scope, complaint: ComplaintLike, name: str) -> Action:
    """The action if it may start now and the caller may do it; else Conflict (409) or Forbidden (403)."""
    action = ACTIONS[name]
    if not action.starts_from(complaint):
        state = State(complaint.state)
        allowed = actions_from(complaint)
        raise Conflict(
            f"投诉当前状态为「{state.title_zh}」，不能执行「{action.label_zh}」",
            f"A complaint in state '{state}' cannot '{name}'",
            {"state": str(state), "action": name, "allowed": allowed},
        )
    if not may(actor, complaint, name):
        if complaint.accused_user == actor.user_id:
            raise Forbidden("被投诉员工不得参与处理本投诉", "The staff member complained about may not handle it")
        raise Forbidden()
    return action


def describe() -> list[dict[str, Any]]:
    """The machine as data, for the API and the docs."""
    return [
        {
            "action": a.name,
            "label_zh": a.label_zh,
            "label_en": a.label_en,
            "from": sorted(str(s) for s in a.sources),
            "from_when_taken_by_group": sorted(str(s) for s in (a.group_sources if a.group_sources is not None else a.sources)),
            "to": [str(s) for s in a.targets],
            "roles": sorted(str(r) for r in a.roles),
            "roles_when_taken_by_group": sorted(str(r) for r in (a.group_roles or a.roles)),
            "handler_may": a.handler_may,
            "report_states": sorted(a.report_states) if a.report_states is not None else None,
            "accused_only": a.accused_only,
        }
        for a in ACTIONS.values()
    ]
