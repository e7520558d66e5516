"""Hooks other areas register on when a delivery (交车) or a service visit (离站) is recorded.

Callbacks schedule their care calls here (2-hour, 3-day, 7-day after delivery;
3 days after a visit) without the customer records knowing about callbacks:
dependencies keep pointing down.

Handlers are awaited one after another inside the service's transaction, with
keyword arguments `group_id`, `store_id` and `sale_id` or `visit_id`. A handler
that raises rolls the whole change back, so a sale never exists without its
timers. Handlers must load what they need by id (no ORM objects are passed).
"""

from __future__ import annotations

from crm.signals import Signal

sale_recorded = Signal("sale_recorded")
"""A delivery was recorded (manually or by import): kwargs group_id, store_id, sale_id."""

sale_changed = Signal("sale_changed")
"""A delivery's details changed (e.g. the delivery time): kwargs group_id, store_id, sale_id."""

sale_cancelled = Signal("sale_cancelled")
"""A delivery was cancelled: kwargs group_id, store_id, sale_id."""

visit_recorded = Signal("visit_recorded")
"""A service visit was recorded: kwargs group_id, store_id, visit_id."""

visit_changed = Signal("visit_changed")
"""A service visit's details changed (e.g. the 离站 time): kwargs group_id, store_id, visit_id."""

visit_cancelled = Signal("visit_cancelled")
"""A service visit was cancelled: kwargs group_id, store_id, visit_id."""
