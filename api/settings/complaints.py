"""投诉处理时限 and 权限核决表: the group's complaint deadlines and who approves which compensation amount.
Saved by `crm.complaints.authority`, which checks both."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.settings.menu import settings_context
from crm.complaints import authority
from crm.setting_screens import SCREENS
from tenants.errors import FieldProblem, InvalidInput
from tenants.roles import Role
from tenants.scope import Scope

FIELD_TITLES = {
    "accept_working_hours": ("受理时限（工作小时）", "Acceptance (working hours)"),
    "urgent_accept_working_hours": ("紧急投诉受理时限（工作小时）", "Urgent acceptance (working hours)"),
    "handle_working_days": ("处理时限（工作日）", "Handling (working days)"),
    "report_days": ("处理完毕后回复结果及改善措施（天）", "Result and improvement report after handling (days)"),
    "feedback_hours": ("集团转来的投诉向集团客服反馈（小时）", "Feedback to group customer service (hours)"),
    "revisit_days": ("处理后回访客户（天）", "Revisit the customer after handling (days)"),
    "appeal_forward_working_days": ("申诉转呈总经理（工作日）", "Appeal forwarded to the GM (working days)"),
    "appeal_ruling_working_days": ("总经理裁决申诉（工作日）", "GM rules on the appeal (working days)"),
}
_EXTRA_TIER_ROWS = 2


@get("/settings/complaint-deadlines", guards=[requires(*SCREENS["complaint_deadlines"])], include_in_schema=False)
async def deadlines_page(actor: Scope) -> Template:
    policy = await authority.policy_for_group(actor.group_id or -1)
    return _deadlines(actor, {k: str(v) for k, v in vars(policy).items()})


@post("/settings/complaint-deadlines", guards=[requires(*authority.POLICY_EDITORS)], include_in_schema=False)
async def deadlines_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    form = await request.form()
    typed = {name: str(form.get(name, "")).strip() for name in vars(authority.Policy())}
    try:
        values, problems = {}, []
        for name, raw in typed.items():
            if raw.isdigit():
                values[name] = int(raw)
            else:
                problems.append(FieldProblem(name, "请输入整数", "Enter a whole number"))
        if problems:
            raise InvalidInput(problems)
        await authority.set_policy(actor=actor, policy=authority.Policy(**values))
    except InvalidInput as problem:
        return _deadlines(actor, typed, errors=problem.problems, status_code=400)
    return Redirect(path="/settings/complaint-deadlines?saved=1", status_code=HTTP_303_SEE_OTHER)


@get("/settings/authority", guards=[requires(*SCREENS["authority"])], include_in_schema=False)
async def authority_page(actor: Scope) -> Template:
    tiers = await authority.authority_table(actor.group_id or -1)
    rows = [{"max_amount": "" if t.max_amount is None else str(t.max_amount), "role": str(t.approver_role)} for t in tiers]
    return _authority(actor, rows)


@post("/settings/authority", guards=[requires(*authority.POLICY_EDITORS)], include_in_schema=False)
async def authority_submit(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    form = await request.form()
    amounts, roles = form.getall("max_amount", []), form.getall("role", [])
    # Rows without a role are not used; the rest keep their order (the field names count only those).
    rows = [{"max_amount": str(a).strip(), "role": str(r)} for a, r in zip(amounts, roles) if r]
    try:
        tiers, problems = [], []
        for i, row in enumerate(rows):
            if row["role"] not in Role._value2member_map_:
                problems.append(FieldProblem(f"tiers[{i}].approver_role", "角色无效", "Unknown role"))
                continue
            tiers.append(authority.AuthorityTier(_amount(row["max_amount"], i, problems), Role(row["role"])))
        if problems:
            raise InvalidInput(problems)
        await authority.set_authority_table(actor=actor, tiers=tiers)
    except InvalidInput as problem:
        return _authority(actor, rows, errors=problem.problems, status_code=400)
    return Redirect(path="/settings/authority?saved=1", status_code=HTTP_303_SEE_OTHER)


ROUTES = [deadlines_page, deadlines_submit, authority_page, authority_submit]


def _deadlines(actor: Scope, form: dict, *, errors: list | None = None, status_code: int = 200) -> Template:
    return Template("settings/complaint_deadlines.html", status_code=status_code, context={
        **settings_context(actor, "complaint_deadlines"), "form": form, "errors": errors or [], "field_titles": FIELD_TITLES,
        "editable": actor.has_role(*authority.POLICY_EDITORS),
    })


def _authority(actor: Scope, rows: list[dict], *, errors: list | None = None, status_code: int = 200) -> Template:
    return Template("settings/authority.html", status_code=status_code, context={
        **settings_context(actor, "authority"), "rows": [*rows, *([None] * _EXTRA_TIER_ROWS)], "errors": errors or [],
        "roles": [r for r in Role if r in authority.APPROVER_ROLES],
    })


def _amount(raw: str, index: int, problems: list[FieldProblem]) -> Decimal | None:
    """An empty amount is "no limit" (the service requires it on the last tier only)."""
    if not raw:
        return None
    try:
        return Decimal(raw.replace(",", "").replace(",", ""))
    except InvalidOperation:
        problems.append(FieldProblem(f"tiers[{index}].max_amount", "请输入金额", "Enter an amount"))
        return None
