"""Hooks other areas connect to (major complaints, issue 5). Handlers are awaited inside the
complaint's transaction, so what they write commits or rolls back with it.

    complaint_created(group_id, store_id, complaint_id, channel, customer_id, customer_identity_id, vehicle_id)
    complaint_state_changed(group_id, store_id, complaint_id, action, from_state, to_state, actor_user_id)

`channel == "manufacturer"` marks a complaint from the manufacturer's customer center (向厂方投诉).
"""

from __future__ import annotations

from crm.signals import Signal

complaint_created = Signal("complaint_created")
complaint_state_changed = Signal("complaint_state_changed")
