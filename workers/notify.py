"""Notification jobs: thin adapters over crm.notify.delivery; each returns what it did."""

from __future__ import annotations

from crm.notify import delivery


async def deliver_notification(ctx: dict, notification_id: int) -> dict:
    return await delivery.deliver(notification_id)


async def deliver_due_notifications(ctx: dict) -> dict:
    return await delivery.deliver_due()
