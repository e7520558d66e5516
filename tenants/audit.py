"""The audit log (操作日志): every administrative change, who made it and what it was before and after.

Services call `record` inside the same transaction as the change, so a change and its entry land together or not
at all. Entries are only ever inserted: the table has no update or delete path in the code, and the database
refuses both (see the migration's triggers).

The log is read by a group admin (their group's entries, the platform's actions on the group included) and
by the platform admin (the platform's own: entries of no group, and what platform admins did to a group): `entries`
and `export_rows`, filtered by date range (the reader's wall clock), action and who.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from openpyxl import Workbook
from openpyxl.styles import Font

from crm import clock, lists
from crm.db import like_term
from tenants.errors import Forbidden
from tenants.roles import Role
from tenants.scope import Scope, timezone_of
from tenants.tables import AuditEntry

# Who reads the log: the route guards, the navigation and `entries` read this one definition.
AUDIT_READERS = frozenset({Role.GROUP_ADMIN, Role.PLATFORM_ADMIN})
PAGE_SIZE = 50
EXPORT_LIMIT = 50_000
AUDIT_LIST = lists.ListSpec(
    name="audit",
    sorts={
        "at": (AuditEntry.at,),
        "who": (AuditEntry.actor_name,),
        "action": (AuditEntry.action,),
        "target": (AuditEntry.target_type, AuditEntry.target_id),
        "before": ("CAST(before AS TEXT)",),
        "after": ("CAST(after AS TEXT)",),
    },
    default_sort="-at",
    tiebreak=AuditEntry.id,
    page_size=PAGE_SIZE,
)
EXPORT_HEADERS = ["时间", "操作人", "操作", "对象", "对象编号", "变更前", "变更后"]

# Every action the log records, as the log shows it (中文, English). `record` refuses an action not named here,
# so the log never shows a bare code.
ACTIONS: dict[str, tuple[str, str]] = {
    "calendar.override.delete": ("删除日历例外", "Calendar exception deleted"),
    "calendar.overrides": ("设置日历例外", "Calendar exceptions set"),
    "calendar.settings": ("修改营业时间与联系时段", "Opening hours and contact window changed"),
    "callbacks.rule": ("修改回访规则", "Callback rule changed"),
    "callbacks.rule.reset": ("回访规则恢复默认", "Callback rule reset"),
    "callbacks.targets": ("修改回访目标", "Callback targets changed"),
    "complaint.attachment.add": ("上传投诉附件", "Complaint attachment added"),
    "complaint.attachment.remove": ("删除投诉附件", "Complaint attachment removed"),
    "complaints.authority": ("修改处理权限", "Complaint authority changed"),
    "complaints.policy": ("修改投诉时限", "Complaint deadlines changed"),
    "dashboard.settings": ("修改看板设置", "Dashboard settings changed"),
    "division.create": ("新建品牌事业部", "Brand division created"),
    "division.update": ("修改品牌事业部", "Brand division changed"),
    "dms.key.issue": ("签发 DMS 密钥", "DMS key issued"),
    "dms.key.revoke": ("吊销 DMS 密钥", "DMS key revoked"),
    "group.create": ("新建集团", "Group created"),
    "group.reactivate": ("恢复集团", "Group reactivated"),
    "group.suspend": ("停用集团", "Group suspended"),
    "major.policy": ("修改重大投诉规则", "Major-complaint policy changed"),
    "notify.channel": ("修改通知渠道", "Notification channel changed"),
    "region.create": ("新建区域", "Region created"),
    "region.update": ("修改区域", "Region changed"),
    "store.close": ("关闭门店", "Store closed"),
    "store.create": ("新建门店", "Store created"),
    "store.reopen": ("重新开放门店", "Store reopened"),
    "store.update": ("修改门店", "Store changed"),
    "user.activate": ("激活账号", "Account activated"),
    "user.create": ("新建用户", "User created"),
    "user.disable": ("停用用户", "User disabled"),
    "user.enable": ("启用用户", "User enabled"),
    "user.import": ("批量导入用户", "Users imported"),
    "user.password_change": ("修改密码", "Password changed"),
    "user.temporary_password": ("重置临时密码", "Temporary password set"),
    "user.token_revoke": ("吊销访问令牌", "Access token revoked"),
    "user.update": ("修改用户", "User changed"),
}
# What an action was done to (中文, English); an unknown kind is shown as recorded.
TARGETS: dict[str, tuple[str, str]] = {
    "brand_division": ("品牌事业部", "Brand division"),
    "calendar_override": ("日历例外", "Calendar exception"),
    "callback_rule": ("回访规则", "Callback rule"),
    "channel": ("通知渠道", "Notification channel"),
    "complaint_attachment": ("投诉附件", "Complaint attachment"),
    "dashboard_setting": ("看板设置", "Dashboard setting"),
    "dealer_group": ("集团", "Group"),
    "dms_key": ("DMS 密钥", "DMS key"),
    "group": ("集团", "Group"),
    "region": ("区域", "Region"),
    "store": ("门店", "Store"),
    "user": ("用户", "User"),
}


@dataclass(frozen=True)
class AuditFilter:
    """What the log keeps; the texts as typed (the page shows them so), trimmed where they are applied."""

    since: date | None = None  # first day, inclusive
    until: date | None = None  # last day, inclusive
    action: str = ""
    who: str = ""  # part of the actor's name


async def record(
    actor: Scope,
    action: str,
    target_type: str,
    target_id: int | str | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    group_id: int | None = None,
) -> None:
    """Append one entry. `group_id` defaults to the actor's group; the platform admin passes the group it acted on.

    `before`/`after` hold only the fields that changed, never a password hash or a token.
    """
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} has no label in tenants.audit.ACTIONS")
    changed_before, changed_after = _changes(before, after)
    await AuditEntry.insert(
        AuditEntry(
            group=group_id if group_id is not None else actor.group_id,
            actor=actor.user_id or None,
            actor_name=actor.display_name,
            action=action,
            target_type=target_type,
            target_id="" if target_id is None else str(target_id),
            before=changed_before,
            after=changed_after,
            at=clock.now(),
        )
    )


def _changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Keep the fields that differ (all of them on a creation or a removal)."""
    if before is None or after is None:
        return before, after
    keys = [k for k in after.keys() | before.keys() if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in sorted(keys)}, {k: after.get(k) for k in sorted(keys)}


async def entries(actor: Scope, where: AuditFilter = AuditFilter(), want: lists.ListQuery | None = None
                  ) -> dict[str, Any]:
    """One page of the reader's entries (newest first unless sorted otherwise), with the list's envelope and the
    actions to filter by."""
    want = want or AUDIT_LIST.parse()
    query = await _scoped(actor, where)
    rows, total = await lists.fetch(AUDIT_LIST, want, rows=AuditEntry.select(*_COLUMNS).where(*query),
                                    count=AuditEntry.count().where(*query))
    actions = await AuditEntry.select(AuditEntry.action).where(*(await _scoped(actor, AuditFilter()))).distinct()
    zone = await timezone_of(group=actor.group_id)
    found = want.page_of([_entry(r, zone) for r in rows], total)
    codes = sorted(a["action"] for a in actions)
    return {**msgspec.structs.asdict(found), "actions": codes, "action_labels": {c: _label(ACTIONS, c) for c in codes}}


async def export_rows(actor: Scope, where: AuditFilter = AuditFilter(), want: lists.ListQuery | None = None
                      ) -> list[dict[str, Any]]:
    """Every entry the filter keeps, in the list's order (at most EXPORT_LIMIT)."""
    query = await _scoped(actor, where)
    rows = await lists.export_rows(AUDIT_LIST, want or AUDIT_LIST.parse(),
                                   rows=AuditEntry.select(*_COLUMNS).where(*query), limit=EXPORT_LIMIT)
    zone = await timezone_of(group=actor.group_id)
    return [_entry(r, zone) for r in rows]


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text as it is."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADERS)
    writer.writerows(_export_line(r) for r in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "操作日志"
    sheet.append(EXPORT_HEADERS)
    for row in rows:
        sheet.append(_export_line(row))
    sheet.freeze_panes = "A2"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_COLUMNS = (
    AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.actor_name, AuditEntry.action,
    AuditEntry.target_type, AuditEntry.target_id, AuditEntry.before, AuditEntry.after,
)


async def _scoped(actor: Scope, where: AuditFilter) -> list[Any]:
    """The conditions of the reader's entries: their group's, or the platform's own for the platform admin."""
    if actor.group_id is not None and actor.has_role(Role.GROUP_ADMIN):
        conditions = [AuditEntry.group == actor.group_id]
    elif actor.group_id is None and actor.has_role(Role.PLATFORM_ADMIN):
        # The platform's own: what a platform admin did (creating, suspending a group) or what concerns no group.
        by_platform = AuditEntry.actor.is_not_null() & AuditEntry.actor.group.is_null()
        conditions = [AuditEntry.group.is_null() | by_platform]
    else:
        raise Forbidden()
    zone = await timezone_of(group=actor.group_id)
    if where.since is not None:
        conditions.append(AuditEntry.at >= datetime.combine(where.since, time(0), zone))
    if where.until is not None:
        conditions.append(AuditEntry.at < datetime.combine(where.until + timedelta(days=1), time(0), zone))
    if where.action.strip():
        conditions.append(AuditEntry.action == where.action.strip())
    if like_term(where.who).strip():
        conditions.append(AuditEntry.actor_name.ilike(f"%{like_term(where.who).strip()}%"))
    return conditions


def _entry(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """An entry with its JSON decoded and its time on the reader's wall clock (`at_local`)."""
    local = row["at"].astimezone(zone).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    before, after = _json(row["before"]), _json(row["after"])
    action_zh, action_en = _label(ACTIONS, row["action"])
    target_zh, target_en = _label(TARGETS, row["target_type"])
    return {**row, "at_local": local, "before": before, "after": after,
            "before_text": _shown(before), "after_text": _shown(after), "action_zh": action_zh,
            "action_en": action_en, "target_zh": target_zh, "target_en": target_en}


def _label(labels: dict[str, tuple[str, str]], code: str) -> tuple[str, str]:
    """A code's (中文, English) label; entries written before a label existed show their code."""
    return labels.get(code, (code, code))


def _json(value: Any) -> Any:
    """JSON columns come back as text on some engines."""
    return json.loads(value) if isinstance(value, str) else value


def _shown(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _export_line(row: dict[str, Any]) -> list[Any]:
    return [
        row["at_local"], row["actor_name"], row["action_zh"], row["target_zh"], row["target_id"], row["before_text"],
        row["after_text"],
    ]
