"""The transaction the customer-records service writes in.

`crm.db.transaction` (from the timers work) is a Piccolo transaction that also
holds back job enqueues until commit; signal handlers that schedule timers need
it to be the outermost transaction. Until it is on main, a plain Piccolo
transaction stands in. Once `crm.db` has landed everywhere, delete the fallback
and import `crm.db.transaction` directly. Nested use joins the outer transaction.
"""

from __future__ import annotations

try:
    from crm.db import transaction
except ImportError:  # crm.db not merged yet
    from piccolo.engine.sqlite import SQLiteEngine, TransactionType

    from crm.customers.tables import Customer

    def transaction():  # type: ignore[no-redef]
        db = Customer._meta.db
        if isinstance(db, SQLiteEngine):
            # Take the write lock up front: a deferred transaction upgrading later gets "database is locked".
            return db.transaction(transaction_type=TransactionType.immediate)
        return db.transaction()

__all__ = ["transaction"]
