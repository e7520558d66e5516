"""The audit log keeps only what changed, and the database refuses to rewrite or erase it."""

from __future__ import annotations

import pytest

from crm import db
from tenants import audit
from tenants.tables import AuditEntry


async def test_an_entry_keeps_who_and_only_the_changed_fields(tenant):
    admin = await tenant.scope("group_admin")
    await audit.record(
        admin, "store.update", "store", tenant.store_a,
        before={"name": "旧店名", "city": "上海"}, after={"name": "新店名", "city": "上海"},
    )
    entry = await AuditEntry.select().where(AuditEntry.group == tenant.group_id).first()  # test reads its own group
    assert entry["actor"] == tenant.users["group_admin"]
    assert entry["actor_name"] == admin.display_name
    assert (entry["action"], entry["target_type"], entry["target_id"]) == ("store.update", "store", str(tenant.store_a))
    assert (db_json(entry["before"]), db_json(entry["after"])) == ({"name": "旧店名"}, {"name": "新店名"})


async def test_entries_cannot_be_updated_or_deleted(tenant):
    admin = await tenant.scope("group_admin")
    await audit.record(admin, "user.disable", "user", tenant.users["staff@A"], before={"active": True},
                       after={"active": False})
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction():
            await AuditEntry.update({AuditEntry.action: "nothing"}).where(AuditEntry.group == tenant.group_id)
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction():
            await AuditEntry.delete().where(AuditEntry.group == tenant.group_id)
    assert await AuditEntry.count().where(AuditEntry.group == tenant.group_id) == 1


def db_json(value):
    import json

    return json.loads(value) if isinstance(value, str) else value
