"""The transaction the customer-records service writes in: `crm.db.transaction`.

A Piccolo transaction (IMMEDIATE on SQLite) that holds back job enqueues until
commit and runs `before_commit` work — the callbacks area plans a whole import's
callbacks there in one go. Nested use joins the outer transaction, so a service
called from another service's transaction commits with it.
"""

from __future__ import annotations

from crm.db import transaction

__all__ = ["transaction"]
