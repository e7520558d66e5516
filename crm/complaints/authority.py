"""A group's complaint policy: deadlines, and the authority table (权限核决表) that maps compensation
amounts to the role that must approve them (seed 004 #10 §2.9)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from crm import clock
from crm.complaints.tables import AuthorityRule, ComplaintPolicy
from crm.db import transaction
from tenants import audit
from tenants.errors import FieldProblem, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope

# Until a group sets its own: a customer-relations manager approves small amounts, the GM larger
# ones, and above that the group's operations VP / CEO.
DEFAULT_AUTHORITY: list[tuple[Decimal | None, Role]] = [
    (Decimal("1000"), Role.STORE_CR_MANAGER),
    (Decimal("10000"), Role.STORE_GM),
    (None, Role.HQ_VIEWER),
]
MAX_LIMIT = Decimal("9999999999.99")
# Who sets the group's complaint deadlines and its authority table (集团管理员).
POLICY_EDITORS = frozenset({Role.GROUP_ADMIN})
APPROVER_ROLES = frozenset(
    {Role.STORE_CR_MANAGER, Role.STORE_GM, Role.HQ_VIEWER, Role.BRAND_MANAGER, Role.GROUP_ADMIN}
)


@dataclass(frozen=True)
class Policy:
    accept_working_hours: int = 2
    # 紧急 complaints (seed 003 §4) must be accepted sooner; a group setting, shorter by default.
    urgent_accept_working_hours: int = 1
    handle_working_days: int = 1
    report_days: int = 1
    feedback_hours: int = 24
    revisit_days: int = 3
    appeal_forward_working_days: int = 1
    appeal_ruling_working_days: int = 1


# The longest each deadline may be: hours up to 30 days, days up to 30 (the API's bounds, checked here for every caller).
POLICY_LIMITS = {name: 720 if name.endswith("hours") else 30 for name in vars(Policy())}


@dataclass(frozen=True)
class AuthorityTier:
    max_amount: Decimal | None
    approver_role: Role


async def policy_for_group(group_id: int) -> Policy:
    row = await Scope.system(group_id).select(ComplaintPolicy).first()
    if row is None:
        return Policy()
    return Policy(
        accept_working_hours=row["accept_working_hours"],
        urgent_accept_working_hours=row["urgent_accept_working_hours"],
        handle_working_days=row["handle_working_days"],
        report_days=row["report_days"],
        feedback_hours=row["feedback_hours"],
        revisit_days=row["revisit_days"],
        appeal_forward_working_days=row["appeal_forward_working_days"],
        appeal_ruling_working_days=row["appeal_ruling_working_days"],
    )


async def change_policy(*, actor: Scope, changes: dict[str, int]) -> Policy:
    """Change some of the group's deadlines; the others keep their current values (PATCH)."""
    actor.require_role(*POLICY_EDITORS)
    async with transaction():
        current = await policy_for_group(actor.group_id)
        return await set_policy(actor=actor, policy=replace(current, **changes))


async def set_policy(*, actor: Scope, policy: Policy) -> Policy:
    """Group admins set their group's deadlines."""
    actor.require_role(*POLICY_EDITORS)
    problems = [
        FieldProblem(name, f"必须在 1 到 {POLICY_LIMITS[name]} 之间", f"Must be between 1 and {POLICY_LIMITS[name]}")
        for name, value in vars(policy).items()
        if not 1 <= value <= POLICY_LIMITS[name]
    ]
    if policy.urgent_accept_working_hours > policy.accept_working_hours:
        problems.append(FieldProblem("urgent_accept_working_hours", "紧急投诉的受理时限不得长于一般投诉",
                                     "Urgent complaints cannot get longer to be accepted than normal ones"))
    if problems:
        raise InvalidInput(problems)
    values = {**vars(policy), "updated_at": clock.now()}
    async with transaction():
        before = vars(await policy_for_group(actor.group_id))
        existing = await actor.select(ComplaintPolicy, ComplaintPolicy.id).first()
        if existing:
            await actor.update(
                ComplaintPolicy, {getattr(ComplaintPolicy, k): v for k, v in values.items()}
            ).where(ComplaintPolicy.id == existing["id"])
        else:
            await ComplaintPolicy.insert(ComplaintPolicy(group=actor.group_id, **values))
        await audit.record(actor, "complaints.policy", "group", actor.group_id, before=before, after=vars(policy))
    return policy


async def authority_table(group_id: int) -> list[AuthorityTier]:
    """The group's tiers, smallest limit first, the unlimited tier last."""
    rows = await Scope.system(group_id).select(AuthorityRule)
    if not rows:
        return [AuthorityTier(limit, role) for limit, role in DEFAULT_AUTHORITY]
    tiers = [AuthorityTier(r["max_amount"], Role(r["approver_role"])) for r in rows]
    return sorted(tiers, key=lambda t: (t.max_amount is None, t.max_amount or 0))


async def set_authority_table(*, actor: Scope, tiers: list[AuthorityTier]) -> list[AuthorityTier]:
    """Replace the group's table. Limits must rise, and the last tier must have no limit."""
    actor.require_role(*POLICY_EDITORS)
    problems: list[FieldProblem] = []
    if not tiers:
        problems.append(FieldProblem("tiers", "至少需要一档", "At least one tier is needed"))
    previous: Decimal | None = None
    for i, tier in enumerate(tiers):
        last = i == len(tiers) - 1
        field = f"tiers[{i}].max_amount"
        if tier.approver_role not in APPROVER_ROLES:
            problems.append(FieldProblem(f"tiers[{i}].approver_role", "该角色不能审批补偿", "This role may not approve"))
        if last:
            if tier.max_amount is not None:
                problems.append(FieldProblem(field, "最后一档不得设上限", "The last tier has no limit"))
        elif not _is_limit(tier.max_amount):
            problems.append(FieldProblem(field, "须为正数，最多两位小数，不超过 99.99 亿",
                                         "Must be positive, with at most 2 decimals, below 10,000,000,000"))
        elif previous is not None and tier.max_amount <= previous:
            problems.append(FieldProblem(field, "金额须逐档递增", "Limits must rise"))
        if not last and _is_limit(tier.max_amount):
            previous = tier.max_amount
    if problems:
        raise InvalidInput(problems)
    async with transaction():
        before = await authority_table(actor.group_id)
        await actor.delete(AuthorityRule)
        await AuthorityRule.insert(
            *[AuthorityRule(group=actor.group_id, max_amount=t.max_amount, approver_role=str(t.approver_role)) for t in tiers]
        )
        await audit.record(actor, "complaints.authority", "group", actor.group_id,
                           before={"tiers": _describe(before)}, after={"tiers": _describe(tiers)})
    return tiers


def _describe(tiers: list[AuthorityTier]) -> list[str]:
    """The table as the audit log shows it: "≤1000.00 store_cr_manager", "— hq_viewer"."""
    return [f"{f'≤{t.max_amount:.2f}' if t.max_amount is not None else '—'} {t.approver_role}" for t in tiers]


def _is_limit(amount: Decimal | None) -> bool:
    """A tier limit the `Numeric(12, 2)` column holds: finite, positive, cents at most."""
    return (
        amount is not None
        and amount.is_finite()
        and Decimal("0") < amount <= MAX_LIMIT
        and amount == amount.quantize(Decimal("0.01"))
    )


def approver_for(tiers: list[AuthorityTier], amount: Decimal) -> Role:
    """The role that must approve this amount: the first tier whose limit covers it."""
    for tier in tiers:
        if tier.max_amount is None or amount <= tier.max_amount:
            return tier.approver_role
    return tiers[-1].approver_role


def may_approve(tiers: list[AuthorityTier], roles: frozenset[Role], required: Role) -> bool:
    """The required role, or any role of a higher tier, may approve."""
    needed = next((i for i, tier in enumerate(tiers) if tier.approver_role == required), len(tiers))
    held = [i for i, tier in enumerate(tiers) if tier.approver_role in roles]
    return bool(held) and max(held) >= needed
