"""Each group's major-complaint policy: repeat window, immediate alert, escalation ladder.

The defaults follow seed 004 #10 §2.5–2.7: on marking, the store GM and department
heads, the brand division (or the management department) and legal are alerted at
once; 24 hours without a filed 《重大投诉事件处理报告》 alerts the VP operations and the
CEO (role `hq_viewer`) and flags the complaint "report overdue". A group may add
levels (e.g. 48 h unresolved → CEO again), change delays, roles and channels.

A complaint keeps the policy it was marked under (a snapshot on its row): changing
the ladder applies to complaints marked afterwards, so a running clock never moves.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from crm import clock
from crm.db import transaction
from crm.major.rules import Condition
from crm.major.tables import MajorPolicyRow
from crm.notify.tables import EXTERNAL_CHANNELS
from tenants import audit
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope

DAY = 86400
# In-app is always on; a level may add external channels to each recipient's own choice.
CHANNELS = EXTERNAL_CHANNELS
# Nobody outside the group's own staff may be a recipient.
RECIPIENT_ROLES = frozenset(Role) - {Role.PLATFORM_ADMIN}
# Who may read the ladder (HQ, brand divisions, legal) and who may change it (集团管理员).
POLICY_READERS = frozenset({Role.GROUP_ADMIN, Role.HQ_VIEWER, Role.BRAND_MANAGER, Role.LEGAL})
POLICY_EDITORS = frozenset({Role.GROUP_ADMIN})

Seconds = Annotated[int, msgspec.Meta(ge=1, le=90 * DAY)]
Label = Annotated[str, msgspec.Meta(max_length=60, pattern=r"^[^\x00]*$")]  # in notification titles: no U+0000


class Level(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One rung of the ladder: `delay_seconds` after marking, if `condition` still holds, alert `roles`."""

    delay_seconds: Seconds
    condition: Condition
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=12)]
    channels: Annotated[list[str], msgspec.Meta(max_length=4)] = []  # added to each recipient's own choice
    label_zh: Label = ""
    label_en: Label = ""


class Policy(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    repeat_window_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 90
    # Undecided repeat complaints: group customer service decides within these working hours.
    repeat_decision_working_hours: Annotated[int, msgspec.Meta(ge=1, le=80)] = 2
    report_deadline_seconds: Seconds = DAY
    # The brand division forwards the filed report to the VP operations and the CEO within this time.
    forward_deadline_seconds: Seconds = 2 * 3600
    forward_roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=12)] = msgspec.field(
        default_factory=lambda: [Role.BRAND_MANAGER, Role.HQ_VIEWER]
    )
    renotify_seconds: Seconds = 1800  # unacknowledged alerts are sent again this often
    alert_roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=12)] = msgspec.field(
        default_factory=lambda: [Role.STORE_GM, Role.DEPARTMENT_HEAD, Role.BRAND_MANAGER, Role.LEGAL]
    )
    alert_channels: Annotated[list[str], msgspec.Meta(max_length=4)] = []
    levels: Annotated[list[Level], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=lambda: [
            Level(
                delay_seconds=DAY,
                condition=Condition.REPORT_MISSING,
                roles=[Role.HQ_VIEWER],
                label_zh="24小时未报备：上报运营副总裁及总裁",
                label_en="No report in 24 h: VP operations and CEO",
            )
        ]
    )


DEFAULT_POLICY = Policy()


async def policy_for_group(group_id: int) -> Policy:
    """The group's policy, or the defaults when it never configured one."""
    row = await Scope.system(group_id).select(MajorPolicyRow, MajorPolicyRow.config).first()
    if row is None:
        return Policy()
    return decode_policy(row["config"])


async def get_policy(*, actor: Scope) -> Policy:
    actor.require_role(*POLICY_READERS)
    return await policy_for_group(_group_of(actor))


async def set_policy(*, actor: Scope, policy: Policy) -> Policy:
    """Replace the group's policy (集团管理员 only). Complaints already major keep their snapshot."""
    actor.require_role(*POLICY_EDITORS)
    group_id = _group_of(actor)
    policy = validate_policy(policy)
    row = MajorPolicyRow(group=group_id, config=encode_policy(policy), updated_at=clock.now(),
                         updated_by=actor.user_id)
    async with transaction():
        before = await policy_for_group(group_id)
        await MajorPolicyRow.insert(row).on_conflict(
            target=MajorPolicyRow.group, action="DO UPDATE",
            values=[MajorPolicyRow.config, MajorPolicyRow.updated_at, MajorPolicyRow.updated_by],
        )
        await audit.record(actor, "major.policy", "group", group_id,
                           before=msgspec.to_builtins(before), after=msgspec.to_builtins(policy))
    return policy


def validate_policy(policy: Policy) -> Policy:
    """Rules msgspec cannot express; levels come back ordered by delay."""
    problems: list[FieldProblem] = []
    problems += _role_problems("alert_roles", policy.alert_roles)
    problems += _channel_problems("alert_channels", policy.alert_channels)
    problems += _role_problems("forward_roles", policy.forward_roles)
    seen: set[tuple[int, str]] = set()
    for i, level in enumerate(policy.levels):
        problems += _role_problems(f"levels[{i}].roles", level.roles)
        problems += _channel_problems(f"levels[{i}].channels", level.channels)
        key = (level.delay_seconds, level.condition.value)
        if key in seen:
            problems.append(FieldProblem(f"levels[{i}].delay_seconds", "同一时限与条件的级别重复",
                                         "Two levels with the same delay and condition"))
        seen.add(key)
    if problems:
        raise InvalidInput(problems)
    levels = sorted(policy.levels, key=lambda level: level.delay_seconds)
    return msgspec.structs.replace(policy, levels=levels)


def encode_policy(policy: Policy) -> str:
    return msgspec.json.encode(policy).decode()


def decode_policy(config: str | dict) -> Policy:
    raw = config if isinstance(config, str) else msgspec.json.encode(config)
    return msgspec.json.decode(raw, type=Policy)


def _role_problems(field: str, roles: list[Role]) -> list[FieldProblem]:
    problems = []
    if any(role not in RECIPIENT_ROLES for role in roles):
        problems.append(FieldProblem(field, "角色不能接收集团预警", "Role cannot receive group alerts"))
    if len(set(roles)) != len(roles):
        problems.append(FieldProblem(field, "角色重复", "Duplicate role"))
    return problems


def _channel_problems(field: str, channels: list[str]) -> list[FieldProblem]:
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        return [FieldProblem(field, f"未知通知渠道：{', '.join(unknown)}",
                             f"Unknown channel(s): {', '.join(unknown)}; known: {', '.join(CHANNELS)}")]
    if len(set(channels)) != len(channels):
        return [FieldProblem(field, "渠道重复", "Duplicate channel")]
    return []


def _group_of(actor: Scope) -> int:
    if actor.group_id is None:
        raise NotFound("group")
    return actor.group_id
