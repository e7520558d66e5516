"""Staff accountability as the seeds count it (DOMAIN.md "Accountability"; seed 000 §6, 001 §5.2).

Per staff member and month, three separate counts:

- complaints judged 有责 (liable) in the month, voided ones excepted (seed 000: 50–100 RMB);
- complaints not handled in time: complaints whose handling or result-report deadline the staff
  member missed as handler in the month, each complaint once (seed 000: 200 RMB);
- process violations (业务流程违规), including customer data changed privately or wrongly
  (客户资料私自更改或错误), recorded by a store manager.

Only process violations climb the ladder 1st → 2nd → 3rd = dismissal (第三次直接辞退), and they
climb it per department (sales, service, accessories, other) and per calendar month of the day
the violation happened: a violation in another department starts its own ladder, and the 1st of
the next month starts again. A violation's step is its place among the staff member's violations
of that department and month, by date then by the order recorded.

Amounts are group settings per department (`AccountabilityAmount`); the seeds name only a few, which
are the defaults. The product shows counts and a suggested amount; it does no payroll.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

import msgspec
from openpyxl import Workbook
from openpyxl.styles import Font

from crm import clock
from crm.complaints.tables import (
    AccountabilityAmount,
    Complaint,
    ComplaintDeadlineMiss,
    ProcessViolation,
)
from crm.complaints.workflow import State
from crm.db import transaction
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope, timezone_of
from tenants.tables import User

# The ladder's departments (seed 001 §5.2: 销售部, 售后服务部, 精品部, 公司其他部门).
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "sales": ("销售部", "Sales"),
    "service": ("售后服务部", "After-sales service"),
    "accessories": ("精品部", "Accessories"),
    "other": ("其他部门", "Other"),
}
VIOLATION_KINDS: dict[str, tuple[str, str]] = {
    "process": ("业务流程违规", "Process violation"),
    "customer_data": ("客户资料私自更改或错误", "Customer data changed without authority or wrongly"),
}
# The third violation of a month in one department is the dismissal step (第三次直接辞退).
DISMISSAL_STEP = 3
# Who reads the counts: the store's managers for their store, the group's HQ for the group.
READERS = frozenset(
    {Role.GROUP_ADMIN, Role.HQ_VIEWER, Role.BRAND_MANAGER, Role.GROUP_CUSTOMER_SERVICE,
     Role.STORE_GM, Role.STORE_CR_MANAGER, Role.DEPARTMENT_HEAD}
)
# Who records a process violation: the store's managers (seed 001 §5.2, 11: 总经理, 客关部, 部门主管).
RECORDERS = frozenset({Role.STORE_GM, Role.STORE_CR_MANAGER, Role.DEPARTMENT_HEAD})
MAX_AMOUNT = Decimal("99999999.99")
MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class Amounts:
    """Suggested amounts (RMB) of one department; None: the group has not set it."""

    liable: Decimal | None = None
    not_in_time: Decimal | None = None
    first_violation: Decimal | None = None
    second_violation: Decimal | None = None


# The seed figures: 有责 50–100 and 未及时处理 200 for after-sales (000 §6, the lower bound of the range);
# a first violation 50 for service, accessories and other departments (001 §5.2). The rest is blank there.
DEFAULT_AMOUNTS: dict[str, Amounts] = {
    "sales": Amounts(),
    "service": Amounts(liable=Decimal(50), not_in_time=Decimal(200), first_violation=Decimal(50)),
    "accessories": Amounts(first_violation=Decimal(50)),
    "other": Amounts(first_violation=Decimal(50)),
}


def step_zh(step: int) -> str:
    """第一次 / 第二次 / 第三次(辞退): the one wording of a ladder step, for pages and exports."""
    if step >= DISMISSAL_STEP:
        return "第三次（辞退）" if step == DISMISSAL_STEP else f"第{step}次（辞退）"
    return {1: "第一次", 2: "第二次"}.get(step, "")


def step_en(step: int) -> str:
    ordinal = {1: "1st", 2: "2nd", 3: "3rd"}.get(step, f"{step}th")
    return f"{ordinal} (dismissal)" if step >= DISMISSAL_STEP else ordinal


def is_dismissal(step: int) -> bool:
    return step >= DISMISSAL_STEP


def ladder_department(department: str) -> str:
    """A complaint's department on the ladder: parts (配件部) and unknown ones count as other departments."""
    return department if department in DEPARTMENTS else "other"


# ---------------------------------------------------------------- what the month shows


class LadderStep(msgspec.Struct, kw_only=True):
    department: str
    department_zh: str
    violations: int
    step_zh: str
    step_en: str
    dismissal: bool


class AccountabilityRow(msgspec.Struct, kw_only=True):
    """One staff member's month: the three counts, the ladder per department, and the suggested amount."""

    user_id: int
    display_name: str
    store_id: int | None
    store_name: str
    liable_complaints: int
    missed_deadlines: int  # complaints not handled in time (each complaint once)
    violations: int  # process violations, all departments
    ladder: list[LadderStep]
    dismissal: bool
    suggested_amount: Decimal
    amounts_missing: bool  # some count has no amount set: the suggestion is incomplete


class ViolationRecord(msgspec.Struct, kw_only=True):
    id: int
    store_id: int
    store_name: str
    staff_user_id: int
    staff_name: str
    department: str
    department_zh: str
    kind: str
    kind_zh: str
    occurred_on: date
    description: str
    complaint_id: int | None
    recorded_by_name: str
    recorded_at: datetime
    step: int
    step_zh: str
    dismissal: bool


class AccountabilityMonth(msgspec.Struct, kw_only=True):
    month: str
    store_id: int | None
    rows: list[AccountabilityRow]
    violations: list[ViolationRecord]
    may_record: bool


async def accountability_month(*, actor: Scope, month: str, store_id: int | None = None) -> AccountabilityMonth:
    """The month view: the rows per staff member and the process violations of the month."""
    actor.require_role(*READERS)
    if store_id is not None:
        actor.require_store(store_id)
    violations = await _violations(actor, month, store_id)
    rows = await _rows(actor, month, store_id, violations)
    return AccountabilityMonth(
        month=month, store_id=store_id, rows=rows, violations=violations, may_record=may_record(actor)
    )


async def staff_accountability(*, actor: Scope, month: str, store_id: int | None = None) -> list[AccountabilityRow]:
    """The rows of the month (YYYY-MM, group time), most serious first."""
    return (await accountability_month(actor=actor, month=month, store_id=store_id)).rows


async def current_month(*, actor: Scope) -> str:
    """This month (YYYY-MM) on the group's clock: the page's default."""
    return clock.now().astimezone(await timezone_of(group=actor.group_id)).strftime("%Y-%m")


def may_record(actor: Scope) -> bool:
    return actor.has_role(*RECORDERS) and not actor.is_group_level


# ---------------------------------------------------------------- process violations


async def record_violation(
    *,
    actor: Scope,
    staff_user_id: int,
    department: str,
    occurred_on: date,
    description: str,
    kind: str = "process",
    complaint_id: int | None = None,
) -> int:
    """Record a process violation (业务流程违规) against a staff member of the actor's store; returns its id."""
    actor.require_role(*RECORDERS)
    problems: list[FieldProblem] = []
    if department not in DEPARTMENTS:
        problems.append(FieldProblem("department", "部门无效", "Unknown department"))
    if kind not in VIOLATION_KINDS:
        problems.append(FieldProblem("kind", "违规类别无效", "Unknown kind"))
    if not description.strip():
        problems.append(FieldProblem("description", "请填写违规说明", "A description is required"))
    elif len(description) > MAX_DESCRIPTION:
        problems.append(FieldProblem("description", "说明不得超过2000字", "At most 2000 characters"))
    today = clock.now().astimezone(await timezone_of(group=actor.group_id)).date()
    if occurred_on > today:
        problems.append(FieldProblem("occurred_on", "日期不能晚于今天", "The date cannot be in the future"))
    elif occurred_on < today - timedelta(days=366):
        problems.append(FieldProblem("occurred_on", "日期不能早于一年前", "The date cannot be over a year ago"))
    staff = await actor.group_wide().select(User, User.id, User.store).where(User.id == staff_user_id).first()
    if staff is None or staff["store"] is None or not actor.can_see_store(staff["store"]):
        problems.append(FieldProblem("staff_user_id", "该门店没有此员工", "No such staff member at this store"))
    complaint = None
    if complaint_id is not None:
        try:
            complaint = await actor.get(Complaint, complaint_id)
        except NotFound:
            problems.append(FieldProblem("complaint_id", "投诉不存在", "Unknown complaint"))
        else:
            if staff is not None and complaint.store != staff["store"]:
                problems.append(FieldProblem("complaint_id", "投诉不属于该员工的门店",
                                             "The complaint is not of the staff member's store"))
    if problems:
        raise InvalidInput(problems)
    async with transaction():
        rows = await ProcessViolation.insert(
            ProcessViolation(
                group=actor.group_id, store=staff["store"], staff=staff_user_id, department=department, kind=kind,
                occurred_on=occurred_on, description=description.strip(),
                complaint=complaint.id if complaint else None, recorded_by=actor.user_id, recorded_at=clock.now(),
            )
        ).returning(ProcessViolation.id)
    return rows[0]["id"]


async def violation(*, actor: Scope, violation_id: int) -> ViolationRecord:
    """One recorded violation with its step on the ladder."""
    actor.require_role(*READERS)
    row = await actor.get(ProcessViolation, violation_id)
    month = row.occurred_on.strftime("%Y-%m")
    same = [v for v in await _violations(actor, month, row.store) if v.id == row.id]
    return same[0]


# ---------------------------------------------------------------- amounts (group settings)


async def amounts_for_group(group_id: int) -> dict[str, Amounts]:
    """The group's amounts per department: its own where set, else the seed defaults."""
    rows = await Scope.system(group_id).select(AccountabilityAmount)
    amounts = dict(DEFAULT_AMOUNTS)
    for r in rows:
        if r["department"] in DEPARTMENTS:
            amounts[r["department"]] = Amounts(**{f.name: r[f.name] for f in fields(Amounts)})
    return amounts


async def group_amounts(*, actor: Scope) -> dict[str, Amounts]:
    """`amounts_for_group` of the caller's group, for those who read the accountability figures."""
    actor.require_role(*READERS)
    return await amounts_for_group(actor.group_id)


async def set_amounts(*, actor: Scope, amounts: dict[str, Amounts]) -> dict[str, Amounts]:
    """Group admins set the amounts of the departments given (None: not set)."""
    actor.require_role(Role.GROUP_ADMIN)
    problems = [FieldProblem(f"amounts.{d}", "部门无效", "Unknown department") for d in amounts if d not in DEPARTMENTS]
    for department, values in amounts.items():
        for f in fields(Amounts):
            value = getattr(values, f.name)
            if value is not None and not (
                value.is_finite() and Decimal(0) <= value <= MAX_AMOUNT and value == value.quantize(Decimal("0.01"))
            ):
                problems.append(FieldProblem(f"amounts.{department}.{f.name}", "金额须为非负数，最多两位小数",
                                             "Must be zero or more, with at most 2 decimals"))
    if problems:
        raise InvalidInput(problems)
    now = clock.now()
    async with transaction():
        await actor.delete(AccountabilityAmount).where(AccountabilityAmount.department.is_in(list(amounts) or [""]))
        if amounts:
            await AccountabilityAmount.insert(*[
                AccountabilityAmount(group=actor.group_id, department=d, updated_at=now, **vars(a))
                for d, a in amounts.items()
            ])
    return await amounts_for_group(actor.group_id)


# ---------------------------------------------------------------- export


EXPORT_HEADERS = [
    "员工", "门店", "有责投诉（次）", "未及时处理投诉（次）", "业务流程违规（次）", "违规阶梯（按部门）", "辞退", "建议金额（元）", "金额未设置",
]
VIOLATION_HEADERS = ["日期", "员工", "门店", "部门", "类别", "本部门本月第几次", "辞退", "说明", "关联投诉", "记录人"]


async def export_month_xlsx(*, actor: Scope, month: str, store_id: int | None = None) -> bytes:
    """The month as an XLSX workbook (Chinese headers, frozen header row): the rows, then the violations."""
    view = await accountability_month(actor=actor, month=month, store_id=store_id)
    book = Workbook()
    sheet = book.active
    sheet.title = f"责任统计 {month}"
    sheet.append(EXPORT_HEADERS)
    for r in view.rows:
        sheet.append([
            r.display_name, r.store_name, r.liable_complaints, r.missed_deadlines, r.violations,
            ";".join(f"{s.department_zh}{s.step_zh}" for s in r.ladder), "是" if r.dismissal else "",
            float(r.suggested_amount), "是" if r.amounts_missing else "",
        ])
    details = book.create_sheet("流程违规明细")
    details.append(VIOLATION_HEADERS)
    for v in view.violations:
        details.append([
            v.occurred_on, v.staff_name, v.store_name, v.department_zh, v.kind_zh, v.step_zh,
            "是" if v.dismissal else "", v.description, v.complaint_id, v.recorded_by_name,
        ])
    for ws in (sheet, details):
        ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- helpers


async def _violations(actor: Scope, month: str, store_id: int | None) -> list[ViolationRecord]:
    first, following = _month_days(month)
    query = actor.filter(
        ProcessViolation.select(
            ProcessViolation.all_columns(),
            ProcessViolation.store.name.as_alias("store_name"),
            ProcessViolation.staff.display_name.as_alias("staff_name"),
            ProcessViolation.recorded_by.display_name.as_alias("recorded_by_name"),
        ),
        ProcessViolation,
    ).where(ProcessViolation.occurred_on >= first, ProcessViolation.occurred_on < following)
    if store_id is not None:
        query = query.where(ProcessViolation.store == store_id)
    rows = await query.order_by(ProcessViolation.occurred_on).order_by(ProcessViolation.id)
    seen: dict[tuple[int, str], int] = {}
    records = []
    for r in rows:
        key = (r["staff"], r["department"])
        seen[key] = step = seen.get(key, 0) + 1
        records.append(ViolationRecord(
            id=r["id"], store_id=r["store"], store_name=r["store_name"] or "", staff_user_id=r["staff"],
            staff_name=r["staff_name"] or "", department=r["department"], department_zh=DEPARTMENTS[r["department"]][0],
            kind=r["kind"], kind_zh=VIOLATION_KINDS[r["kind"]][0], occurred_on=r["occurred_on"],
            description=r["description"], complaint_id=r["complaint"], recorded_by_name=r["recorded_by_name"] or "",
            recorded_at=r["recorded_at"], step=step, step_zh=step_zh(step), dismissal=is_dismissal(step),
        ))
    return records


async def _rows(
    actor: Scope, month: str, store_id: int | None, violations: list[ViolationRecord]
) -> list[AccountabilityRow]:
    start, end = await _month_bounds(actor, month)
    liable_q = actor.filter(
        Complaint.select(Complaint.accused_user, Complaint.cause_department), Complaint
    ).where(
        Complaint.liability == "liable",
        Complaint.accused_user.is_not_null(),
        Complaint.state != State.VOIDED,
        Complaint.judged_at >= start,
        Complaint.judged_at < end,
    )
    missed_q = actor.filter(
        ComplaintDeadlineMiss.select(
            ComplaintDeadlineMiss.handler_user, ComplaintDeadlineMiss.complaint,
            ComplaintDeadlineMiss.complaint.handler_department.as_alias("department"),
        ),
        ComplaintDeadlineMiss,
    ).where(
        ComplaintDeadlineMiss.handler_user.is_not_null(),
        ComplaintDeadlineMiss.missed_at >= start,
        ComplaintDeadlineMiss.missed_at < end,
    )
    if store_id is not None:
        liable_q = liable_q.where(Complaint.store == store_id)
        missed_q = missed_q.where(ComplaintDeadlineMiss.store == store_id)
    liable: dict[int, list[str]] = {}
    for r in await liable_q:
        liable.setdefault(r["accused_user"], []).append(ladder_department(r["cause_department"]))
    late: dict[int, dict[int, str]] = {}  # each complaint once per staff member
    for r in await missed_q:
        late.setdefault(r["handler_user"], {})[r["complaint"]] = ladder_department(r["department"] or "")
    ladders: dict[int, dict[str, int]] = {}
    for v in violations:
        counts = ladders.setdefault(v.staff_user_id, {})
        counts[v.department] = counts.get(v.department, 0) + 1
    user_ids = set(liable) | set(late) | set(ladders)
    if not user_ids:
        return []
    amounts = await amounts_for_group(actor.group_id)
    users = await actor.group_wide().select(
        User, User.id, User.display_name, User.store, User.store.name.as_alias("store_name")
    ).where(
        User.id.is_in(sorted(user_ids))
    )
    rows = []
    for u in users:
        owed: list[Decimal | None] = [amounts[d].liable for d in liable.get(u["id"], [])]
        owed += [amounts[d].not_in_time for d in late.get(u["id"], {}).values()]
        ladder = []
        for department, n in sorted(ladders.get(u["id"], {}).items(), key=lambda kv: list(DEPARTMENTS).index(kv[0])):
            owed += [amounts[department].first_violation, amounts[department].second_violation][: min(n, DISMISSAL_STEP - 1)]
            ladder.append(LadderStep(
                department=department, department_zh=DEPARTMENTS[department][0], violations=n,
                step_zh=step_zh(n), step_en=step_en(n), dismissal=is_dismissal(n),
            ))
        rows.append(AccountabilityRow(
            user_id=u["id"], display_name=u["display_name"], store_id=u["store"], store_name=u["store_name"] or "",
            liable_complaints=len(liable.get(u["id"], [])), missed_deadlines=len(late.get(u["id"], {})),
            violations=sum(s.violations for s in ladder), ladder=ladder, dismissal=any(s.dismissal for s in ladder),
            suggested_amount=sum((a for a in owed if a is not None), Decimal(0)),
            amounts_missing=any(a is None for a in owed),
        ))
    return sorted(rows, key=lambda r: (not r.dismissal, -r.violations, -r.liable_complaints - r.missed_deadlines,
                                       r.store_name, r.display_name))


def _month_days(month: str) -> tuple[date, date]:
    try:
        first = date.fromisoformat(f"{month}-01") if len(month) == 7 else None
    except ValueError:
        first = None
    if first is None:
        raise InvalidInput.one("month", "月份格式应为 YYYY-MM", "Month must be YYYY-MM")
    if not 1900 <= first.year <= 9998:  # the month's bounds in UTC must exist
        raise InvalidInput.one("month", "月份须在1900年至9998年之间", "The month must be between 1900 and 9998")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following


async def _month_bounds(actor: Scope, month: str) -> tuple[datetime, datetime]:
    first, following = _month_days(month)
    tz = await timezone_of(group=actor.group_id)
    return (
        datetime(first.year, first.month, 1, tzinfo=tz),
        datetime(following.year, following.month, 1, tzinfo=tz),
    )



