"""The transaction the customer-records service writes in.

The timers area brings `crm.db.transaction` (a Piccolo transaction that also
holds back job enqueues until commit). Until it lands, this is a plain Piccolo
transaction; swapping is a one-line change here. Nested use joins the outer
transaction, so a service called from another service's transaction commits
with it.
"""

from __future__ import annotations

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from crm.customers.tables import Customer


def transaction():
    db = Customer._meta.db
    if isinstance(db, SQLiteEngine):
        # Take the write lock up front: a deferred transaction upgrading later gets "database is locked".
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()
