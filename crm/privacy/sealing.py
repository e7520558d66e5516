"""Sealing stored rows: the migration that encrypts existing clear values, and key rotation (`dealerdesk pii-rotate`).

Both are one operation: every row whose personal data is in clear or sealed with an older key is re-sealed with
the current key, a batch at a time, group by group through the group's system scope. Rows already sealed with
the current key are skipped, so an interrupted run simply continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from piccolo.table import Table

from crm.privacy import vault
from tenants.scope import Scope
from tenants.tables import DealerGroup


async def reseal(table: type[Table], *, group_id: int | None = None, batch: int = 500,
                 progress: Callable[[str, int], None] | None = None) -> int:
    """Re-seal `table`'s stale rows (of one group, or all) with the current key; the number of rows rewritten.

    A table of field values (`vault.FIELD_VALUES`) is re-sealed in its rows about a sealed field only."""
    tablename = table._meta.tablename
    names = vault.SEALED.get(tablename) or vault.FIELD_VALUES[tablename]
    current = f"{vault.VERSION}:{vault.get_keys().current}:%"
    stale = None
    for name in names:
        column = table._meta.get_column_by_name(name)
        condition = (column != "") & column.not_like(current)
        stale = condition if stale is None else stale | condition
    selected = [table.id, *(table._meta.get_column_by_name(n) for n in names)]
    if tablename in vault.FIELD_VALUES:
        stale = stale & table._meta.get_column_by_name("field").is_in(sorted(vault.SEALED_FIELDS))
        selected.append(table._meta.get_column_by_name("field"))
    done = 0
    for group in await _groups(group_id):
        scope = Scope.system(group)
        last_id = 0
        while True:
            rows = await scope.select(table, *selected).where(stale, table.id > last_id).order_by(table.id).limit(batch)
            if not rows:
                break
            for row in rows:  # opened by the scope's read, sealed again by its update (field values: here)
                values = {n: row[n] if tablename in vault.SEALED else vault.seal(row[n]) for n in names}
                await scope.update(table, values, use_auto_update=False).where(table.id == row["id"])
            last_id = rows[-1]["id"]
            done += len(rows)
            if progress is not None:
                progress(table._meta.tablename, done)
    return done


async def reseal_callback_corrections(*, group_id: int | None = None) -> int:
    """Re-seal the sealed fields' values in callbacks' corrections records (JSON); the number of rows rewritten."""
    import json

    from crm.callbacks.tables import Callback

    current = f"{vault.VERSION}:{vault.get_keys().current}:"
    done = 0
    for group in await _groups(group_id):  # a JSON column: scanned in batches, checked here
        scope = Scope.system(group)
        last_id = 0
        while rows := await scope.select(Callback, Callback.id, Callback.corrections).where(
            Callback.id > last_id
        ).order_by(Callback.id).limit(2000):
            last_id = rows[-1]["id"]
            for row in rows:
                record = row["corrections"] if isinstance(row["corrections"], dict) else json.loads(
                    row["corrections"] or "{}")
                if any(name in vault.SEALED_FIELDS and v and not v.startswith(current)
                       for name, values in record.items() for v in values):
                    fresh = vault.sealed_corrections(vault.opened_corrections(record))
                    await scope.update(Callback, {Callback.corrections: json.dumps(fresh, ensure_ascii=False)}).where(
                        Callback.id == row["id"])
                    done += 1
    return done


async def _groups(group_id: int | None) -> list[int]:
    if group_id is not None:
        return [group_id]
    return [g["id"] for g in await DealerGroup.select(DealerGroup.id).order_by(DealerGroup.id)]


async def reseal_all(*, group_id: int | None = None, batch: int = 500,
                     progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Every sealed table (of one group, or all) re-sealed with the current key: rows rewritten per table."""
    from crm.complaints.tables import Complaint
    from crm.customers.tables import Customer, CustomerChange, CustomerCorrection, CustomerIdentity
    from crm.notify.tables import Notification

    done = {table._meta.tablename: await reseal(table, group_id=group_id, batch=batch, progress=progress)
            for table in (CustomerIdentity, Customer, CustomerChange, CustomerCorrection, Complaint, Notification)}
    done["callback_corrections"] = await reseal_callback_corrections(group_id=group_id)
    return done
