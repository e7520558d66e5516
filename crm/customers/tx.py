"""The transaction the customer-records service writes in, and locks held until it ends.

`crm.db.transaction` (from the timers work) is a Piccolo transaction that also
holds back job enqueues until commit; signal handlers that schedule timers need
it to be the outermost transaction. Until it is on main, a plain Piccolo
transaction stands in: once `crm.db` has landed, delete `_piccolo_transaction`
and the try/except. Nested use joins the outer transaction either way.
"""

from __future__ import annotations

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from crm.customers.tables import Customer


def _piccolo_transaction():
    db = Customer._meta.db
    if isinstance(db, SQLiteEngine):
        # Take the write lock up front: a deferred transaction upgrading later gets "database is locked".
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


try:
    from crm.db import transaction
except ImportError:  # crm.db not merged yet
    transaction = _piccolo_transaction


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
        await Customer.raw("SELECT pg_advisory_xact_lock(hashtext({}))", key)
