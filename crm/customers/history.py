"""The change history of customer records (变更记录): who changed which field, when, from what to what.

Every path that changes a customer or one of its vehicles — an edit, an applied correction, an import
filling blanks, a callback's do-not-call — writes here in its own transaction, so the record and its
history never disagree. Rows are only ever inserted.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from crm import clock, lists
from crm.customers.tables import Customer, CustomerChange
from crm.privacy import vault
from crm.privacy.policy import shield
from tenants.errors import NotFound
from tenants.scope import Scope

VIAS = {
    "edit": ("直接修改", "Edited"),
    "correction": ("资料修正", "Correction"),
    "import": ("文件导入", "Import"),
    "callback": ("回访记录", "Callback"),
}
# Columns that change as a consequence, not as data somebody entered.
_NOT_HISTORY = frozenset({"updated_at", "created_at", "group_identity"})


class Change(msgspec.Struct, kw_only=True):
    """One changed field, as the customer page and the API show it."""

    id: int
    customer_id: int
    vehicle_id: int | None
    field: str
    old_value: str
    new_value: str
    via: str
    correction_id: int | None
    changed_by_name: str
    changed_at: datetime


class Author(msgspec.Struct, kw_only=True):
    """Who made a change: a user, or the system (user_id None)."""

    user_id: int | None
    name: str

    @classmethod
    def of(cls, actor: Scope) -> Author:
        return cls(user_id=actor.user_id, name=actor.display_name)


async def record_changes(
    *,
    row: dict,
    values: dict[str, Any],
    via: str,
    author: Author,
    customer_id: int,
    vehicle_id: int | None = None,
    correction_id: int | None = None,
) -> int:
    """Insert one history row per field of `values` that differs from `row`; returns how many."""
    now = clock.now()
    changes = [
        CustomerChange(
            group=row["group"], store=row["store"], customer=customer_id, vehicle=vehicle_id, field=name,
            old_value=as_text(row.get(name)), new_value=as_text(value), via=via, correction_id=correction_id,
            changed_by=author.user_id, changed_by_name=author.name[:100], changed_at=now,
        )
        for name, value in values.items()
        if name not in _NOT_HISTORY and as_text(row.get(name)) != as_text(value)
    ]
    if changes:
        await CustomerChange.insert(*map(vault.seal_row, changes))
    return len(changes)


CHANGE_LIST = lists.ListSpec(
    name="customer_changes",
    sorts={"changed": (CustomerChange.id,), "field": (CustomerChange.field,), "old": (CustomerChange.old_value,),
           "new": (CustomerChange.new_value,), "by": (CustomerChange.changed_by_name,), "via": (CustomerChange.via,)},
    default_sort="-changed",
    tiebreak=CustomerChange.id,
)


async def customer_changes(*, actor: Scope, customer_id: int, want: lists.ListQuery | None = None
                           ) -> lists.Page[Change]:
    """A customer's history, newest first, a page with the total; a customer outside the scope is NotFound."""
    if not await actor.filter(Customer.exists(), Customer).where(Customer.id == customer_id):
        raise NotFound("customer")
    want = want or CHANGE_LIST.parse()
    mine = CustomerChange.customer == customer_id
    rows, total = await lists.fetch(CHANGE_LIST, want, rows=actor.select(CustomerChange).where(mine),
                                    count=actor.count(CustomerChange).where(mine))
    return want.page_of(shield(actor, [
        Change(
            id=r["id"], customer_id=r["customer"], vehicle_id=r["vehicle"], field=r["field"],
            old_value=r["old_value"], new_value=r["new_value"], via=r["via"], correction_id=r["correction_id"],
            changed_by_name=r["changed_by_name"], changed_at=r["changed_at"],
        )
        for r in rows
    ]), total)


def as_text(value: Any) -> str:
    """A stored value as the history keeps it: ISO dates, plain numbers, 是/否 never — `true`/`false`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
