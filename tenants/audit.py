"""The audit log (操作日志): every administrative change, who made it and what it was before and after.

Services call `record` inside the same transaction as the change, so a change and its entry land together or not
at all. Entries are only ever inserted: the table has no update or delete path in the code, and the database
refuses both (see the migration's triggers).
"""

from __future__ import annotations

from typing import Any

from crm import clock
from tenants.scope import Scope
from tenants.tables import AuditEntry


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
