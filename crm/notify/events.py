"""Hooks of the notification mechanism, for areas that need to know how a message they raised ended.

    delivery_settled(notification_id, group_id, store_id, kind, channel, subject_type, subject_id,
                     status, error, text)

Sent once per external notification, when it is delivered (`status="delivered"`) or
fails for good (`status="failed"`, `error` says why), inside the transaction that
records it — a handler that raises leaves the notification to be tried again.
Handlers filter on `subject_type` / `kind` and load what they need by id.
"""

from __future__ import annotations

from crm.signals import Signal

delivery_settled = Signal("delivery_settled")
