"""Reveals and bulk reads of personal data, written to the access log; the log as the group admin reads it.

The areas own their records: `crm.customers` and `crm.complaints` find the row through the caller's
scope and call `record_reveal` in the same transaction that returns the clear value; list reads call
`record_bulk_read` with what they are about to return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from crm import clock, lists
from crm.privacy import limits
from crm.privacy.policy import ACCESS_LOG_READERS, FIELDS, KIND_TITLES, may_reveal, sees_clear
from crm.privacy.tables import PersonalDataAccess
from tenants.errors import Forbidden, InvalidInput
from tenants.scope import Scope

REASON_MAX = 200


class AccessEntry(msgspec.Struct, kw_only=True):
    """One row of the access log (个人信息访问记录)."""

    id: int
    at: datetime
    user_id: int | None
    user_name: str
    action: str
    store_id: int | None
    store_name: str
    subject: str
    subject_id: int | None
    field: str
    records: int
    reason: str


def check_reveal(actor: Scope, field: str, reason: str) -> str:
    """The cleaned reason, once the actor may reveal `field`; Forbidden or InvalidInput otherwise."""
    if field not in FIELDS:
        raise InvalidInput.one("field", "该字段不可查看", "This field cannot be revealed")
    if not may_reveal(actor, field):
        raise Forbidden("无权查看完整的个人信息", "Your role may not see this personal data in full")
    reason = reason.strip()
    if not reason:
        raise InvalidInput.one("reason", "请填写查看原因", "Give the reason for looking")
    if len(reason) > REASON_MAX:
        raise InvalidInput.one("reason", f"原因不能超过{REASON_MAX}字", f"At most {REASON_MAX} characters")
    return reason


async def record_reveal(
    *, actor: Scope, store_id: int | None, subject: str, subject_id: int, field: str, reason: str
) -> None:
    """Log one reveal (who, whose, when, which field, why), counted against the actor's hourly limit."""
    reason = check_reveal(actor, field, reason)
    await limits.spend(actor, "reveal")
    await PersonalDataAccess.insert(PersonalDataAccess(
        group=actor.group_id, store=store_id, user=actor.user_id or None, user_name=actor.display_name,
        action="reveal", subject=subject, subject_id=subject_id, field=field, reason=reason, at=clock.now(),
    ))


async def record_bulk_read(*, actor: Scope, subject: str, records: list[Any], fields: tuple[str, ...]) -> None:
    """A list read returning `records` whose `fields` the actor sees in clear: counted and logged once.

    Reads that show only masked values are neither counted nor logged.
    """
    clear = [f for f in fields if sees_clear(actor, f)]
    if not records or not clear or actor.group_id is None:
        return
    await limits.spend(actor, "bulk_read", len(records))
    await PersonalDataAccess.insert(PersonalDataAccess(
        group=actor.group_id, user=actor.user_id or None, user_name=actor.display_name, action="bulk_read",
        subject=subject, field=",".join(clear), records=len(records), at=clock.now(),
    ))


ACCESS_LIST = lists.ListSpec(
    name="personal_data_access",
    sorts={"at": (PersonalDataAccess.id,), "user": (PersonalDataAccess.user_name,),
           "action": (PersonalDataAccess.action,), "subject": (PersonalDataAccess.subject, PersonalDataAccess.subject_id),
           "field": (PersonalDataAccess.field,), "reason": (PersonalDataAccess.reason, PersonalDataAccess.records)},
    default_sort="-at",
    tiebreak=PersonalDataAccess.id,
    page_size=100,
)


@dataclass(frozen=True)
class AccessLogFilter:
    """What the access log keeps: the JSON list builds one and passes it down (the page shows everything)."""

    user_id: int | None = None  # whose reads


async def access_log(*, actor: Scope, filters: AccessLogFilter = AccessLogFilter(),
                     want: lists.ListQuery | None = None) -> lists.Page[AccessEntry]:
    """The group's access log, newest first unless sorted otherwise, a page at a time (group admin only)."""
    actor.require_role(*ACCESS_LOG_READERS)
    want = want or ACCESS_LIST.parse()
    where = [] if filters.user_id is None else [PersonalDataAccess.user == filters.user_id]
    scope = actor.group_wide()
    rows, total = await lists.fetch(ACCESS_LIST, want, rows=scope.select(
        PersonalDataAccess, *PersonalDataAccess.all_columns(), PersonalDataAccess.store.name.as_alias("store_name"),
        group_rows=True,
    ).where(*where), count=scope.count(PersonalDataAccess, group_rows=True).where(*where))
    return want.page_of([
        AccessEntry(id=r["id"], at=r["at"], user_id=r["user"], user_name=r["user_name"], action=r["action"],
                    store_id=r["store"], store_name=r["store_name"] or "", subject=r["subject"],
                    subject_id=r["subject_id"], field=r["field"], records=r["records"], reason=r["reason"])
        for r in rows
    ], total)


def field_title(field: str) -> tuple[str, str]:
    """The zh/en name of a personal field's kind, for the log page."""
    return KIND_TITLES.get(FIELDS.get(field, ""), (field, field))
