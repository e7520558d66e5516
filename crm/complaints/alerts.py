"""Who hears about a complaint, and when. Delivery (in-app, e-mail, WeCom, DingTalk, SMS) is the
notify area's business; each message here has an idempotency key naming the step it reports, so a
retried request never tells anyone twice."""

from __future__ import annotations

from decimal import Decimal

from crm.complaints.deadlines import HANDLER_KINDS
from crm.complaints.tables import Complaint
from crm.notify.service import notify_roles, notify_users
from tenants.roles import Role


def link(complaint: Complaint) -> str:
    return f"/complaints/{complaint.id}"


def _key(complaint: Complaint, step: str) -> str:
    return f"complaint:{complaint.id}:{step}:{complaint.updated_at.isoformat()}"


def _who(complaint: Complaint) -> str:
    return f"{complaint.complainant_name} {complaint.plate}".strip()


async def routed(complaint: Complaint) -> None:
    """The store's customer-relations manager hears at once (seed 004 #10 §2.4: SMS)."""
    await notify_roles(
        group_id=complaint.group,
        roles=[Role.STORE_CR_MANAGER],
        store_id=complaint.store,
        kind="complaint.routed",
        title_zh=f"新投诉待受理：{_who(complaint)}",
        title_en=f"New complaint to accept: {_who(complaint)}",
        body_zh=complaint.content[:200],
        body_en=complaint.content[:200],
        link=link(complaint),
        idempotency_key=f"complaint:{complaint.id}:routed:{complaint.store}:{complaint.routed_at.isoformat()}",
    )


async def assigned(complaint: Complaint) -> None:
    await notify_users(
        group_id=complaint.group,
        user_ids=[complaint.handler_user],
        store_id=complaint.store,
        kind="complaint.assigned",
        title_zh=f"投诉处理表已下发给您：{_who(complaint)}",
        title_en=f"A complaint was assigned to you: {_who(complaint)}",
        link=link(complaint),
        idempotency_key=_key(complaint, "assigned"),
    )


async def fed_back(complaint: Complaint) -> None:
    await notify_roles(
        group_id=complaint.group,
        roles=[Role.GROUP_CUSTOMER_SERVICE],
        store_id=complaint.store,
        kind="complaint.fed_back",
        title_zh=f"门店已反馈处理结果，请回访：{_who(complaint)}",
        title_en=f"The store reported the result; please revisit: {_who(complaint)}",
        link=link(complaint),
        idempotency_key=_key(complaint, "fed_back"),
    )


async def reopened(complaint: Complaint) -> None:
    await notify_roles(
        group_id=complaint.group,
        roles=[Role.STORE_CR_MANAGER],
        store_id=complaint.store,
        kind="complaint.reopened",
        title_zh=f"客户不满意，投诉已重开（第{complaint.reopen_count}次）：{_who(complaint)}",
        title_en=f"Customer not satisfied; complaint reopened (#{complaint.reopen_count}): {_who(complaint)}",
        link=link(complaint),
        idempotency_key=_key(complaint, "reopened"),
    )
    if complaint.handler_user:
        await notify_users(
            group_id=complaint.group,
            user_ids=[complaint.handler_user],
            store_id=complaint.store,
            kind="complaint.reopened",
            title_zh=f"您处理的投诉已重开：{_who(complaint)}",
            title_en=f"A complaint you handled was reopened: {_who(complaint)}",
            link=link(complaint),
            idempotency_key=_key(complaint, "reopened-handler"),
        )


async def appeal_filed(complaint: Complaint) -> None:
    await notify_roles(
        group_id=complaint.group,
        roles=[Role.DEPARTMENT_HEAD],
        store_id=complaint.store,
        kind="complaint.appeal_filed",
        title_zh=f"员工提出申诉，请提报总经理：{_who(complaint)}",
        title_en=f"A staff member appealed; forward to the GM: {_who(complaint)}",
        link=link(complaint),
        idempotency_key=_key(complaint, "appeal_filed"),
    )


async def appeal_forwarded(complaint: Complaint) -> None:
    await notify_roles(
        group_id=complaint.group,
        roles=[Role.STORE_GM],
        store_id=complaint.store,
        kind="complaint.appeal_forwarded",
        title_zh=f"申诉待总经理裁决：{_who(complaint)}",
        title_en=f"An appeal awaits your ruling: {_who(complaint)}",
        link=link(complaint),
        idempotency_key=_key(complaint, "appeal_forwarded"),
    )


async def compensation_requested(complaint: Complaint, compensation_id: int, amount: Decimal, role: Role) -> None:
    await notify_roles(
        group_id=complaint.group,
        roles=[role],
        store_id=complaint.store,
        kind="complaint.compensation_requested",
        title_zh=f"补偿申请待审批：{amount} 元（{_who(complaint)}）",
        title_en=f"Compensation of CNY {amount} awaits approval ({_who(complaint)})",
        link=link(complaint),
        idempotency_key=f"complaint:{complaint.id}:compensation:{compensation_id}",
    )


async def deadline_missed(complaint: Complaint, kind: str, title_zh: str, title_en: str, roles: list[Role]) -> None:
    # The deadline's due time tells apart two appeals of one handling cycle.
    key = f"complaint:{complaint.id}:missed:{kind}:{complaint.reopen_count}:{complaint.due_at.isoformat()}"
    await notify_roles(
        group_id=complaint.group,
        roles=roles,
        store_id=complaint.store,
        kind="complaint.deadline_missed",
        title_zh=f"投诉已超时：{title_zh}（{_who(complaint)}）",
        title_en=f"Complaint overdue: {title_en} ({_who(complaint)})",
        link=link(complaint),
        idempotency_key=key,
    )
    if kind in HANDLER_KINDS and complaint.handler_user:
        await notify_users(
            group_id=complaint.group,
            user_ids=[complaint.handler_user],
            store_id=complaint.store,
            kind="complaint.deadline_missed",
            title_zh=f"您处理的投诉已超时：{title_zh}（{_who(complaint)}）",
            title_en=f"Your complaint is overdue: {title_en} ({_who(complaint)})",
            link=link(complaint),
            idempotency_key=f"{key}:handler",
        )


async def deadline_near(complaint: Complaint, kind: str, title_zh: str, title_en: str, roles: list[Role]) -> None:
    """A reminder before the deadline passes (the appeal's forwarding and ruling)."""
    await notify_roles(
        group_id=complaint.group,
        roles=roles,
        store_id=complaint.store,
        kind="complaint.deadline_near",
        title_zh=f"投诉即将超时：{title_zh}（{_who(complaint)}）",
        title_en=f"Complaint deadline near: {title_en} ({_who(complaint)})",
        link=link(complaint),
        idempotency_key=f"complaint:{complaint.id}:near:{kind}:{complaint.due_at.isoformat()}",
    )


async def report_submitted(complaint: Complaint) -> None:
    """The result report reached the CR department, which checks it (检核)."""
    await notify_roles(
        group_id=complaint.group,
        roles=[Role.STORE_CR_MANAGER],
        store_id=complaint.store,
        kind="complaint.report_submitted",
        title_zh=f"处理结果报告待检核：{_who(complaint)}",
        title_en=f"Result report to check: {_who(complaint)}",
        link=link(complaint),
        idempotency_key=_key(complaint, "report_submitted"),
    )


async def report_returned(complaint: Complaint) -> None:
    """The CR department sent the report back: the handler and the department heads redo it."""
    await notify_roles(
        group_id=complaint.group,
        roles=[Role.DEPARTMENT_HEAD],
        store_id=complaint.store,
        kind="complaint.report_returned",
        title_zh=f"处理结果报告被退回，请重新提交：{_who(complaint)}",
        title_en=f"Result report sent back; please redo it: {_who(complaint)}",
        link=link(complaint),
        idempotency_key=_key(complaint, "report_returned"),
    )
    if complaint.handler_user:
        await notify_users(
            group_id=complaint.group,
            user_ids=[complaint.handler_user],
            store_id=complaint.store,
            kind="complaint.report_returned",
            title_zh=f"您提交的处理结果报告被退回：{_who(complaint)}",
            title_en=f"Your result report was sent back: {_who(complaint)}",
            link=link(complaint),
            idempotency_key=_key(complaint, "report_returned-handler"),
        )
