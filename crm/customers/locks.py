"""Locks on natural keys, held until the surrounding transaction ends."""

from __future__ import annotations

from piccolo.querystring import QueryString

from crm.customers.tables import Customer


async def lock_keys(*keys: str) -> None:
    """Serialise concurrent writers of the same natural key (a mobile, a VIN) until commit.

    Checking "does it exist yet" and inserting are two statements; two requests
    doing both at once would both insert. On PostgreSQL each key takes a
    transaction-scoped advisory lock (sorted, so two writers never deadlock);
    SQLite's immediate transactions already let one writer in at a time.
    """
    if Customer._meta.db.engine_type != "postgres":
        return
    for key in sorted({k for k in keys if k}):
        await Customer._meta.db.run_querystring(QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", key))
