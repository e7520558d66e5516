"""Delivering external notifications: at least once, recorded once, retried with backoff.

A delivery first takes a lease on its row (a conditional UPDATE), so a job and
the retry sweep never send the same notification at the same time; a worker that
dies mid-send leaves a lease that expires, and the notification is sent again.
After `MAX_ATTEMPTS` transient failures, or one permanent failure, the row is
marked failed — once — and shows up in the admins' failed list. Either end is
announced once through `crm.notify.events.delivery_settled`, in the transaction
that records it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import structlog

from crm import clock
from crm.db import transaction
from crm.notify.channels import ChannelError, Message, endpoint_for, send
from crm.notify.events import delivery_settled
from crm.notify.service import DELIVER_JOB, delivery_job_id
from crm.notify.tables import Notification
from crm.privacy import vault
from crm.queue import enqueue_after_commit
from crm.settings import get_settings
from tenants.tables import User
from tenants.scope import Scope

log = structlog.get_logger()

MAX_ATTEMPTS = 6
LEASE = timedelta(seconds=60)
_BACKOFF_BASE = timedelta(seconds=10)
_BACKOFF_CAP = timedelta(minutes=30)


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, … capped at 30 minutes."""
    return min(_BACKOFF_BASE * 2 ** max(attempts - 1, 0), _BACKOFF_CAP)


async def deliver(notification_id: int) -> dict:
    """Send one notification if it is due and nobody else is sending it. Returns what happened."""
    now = clock.now()
    claimed = await Notification.update(
        {Notification.status: "sending", Notification.lease_until: now + LEASE,
         Notification.attempts: Notification.attempts + 1}
    ).where(
        (Notification.id == notification_id)
        & (
            ((Notification.status == "pending") & (Notification.next_attempt_at <= now))
            | ((Notification.status == "sending") & (Notification.lease_until < now))
        )
    ).returning(
        Notification.id, Notification.group, Notification.store, Notification.recipient, Notification.address,
        Notification.channel, Notification.kind, Notification.attempts, Notification.title_zh, Notification.title_en,
        Notification.body_zh, Notification.body_en, Notification.link, Notification.object_type,
        Notification.object_id, Notification.subject_type,
        Notification.subject_id, Notification.attachment_path, Notification.attachment_name,
    )
    if not claimed:
        return {"notification": notification_id, "outcome": "skipped"}
    row = vault.open_rows(claimed[0])  # a customer's mobile is sealed at rest
    try:
        endpoint = await endpoint_for(row["group"], row["channel"])
        await send(row["channel"], endpoint, await _message(row))
    except ChannelError as exc:
        return await _failed(row, exc)
    async with transaction():
        recorded = await Scope.system(row["group"]).update(
            Notification,
            {Notification.status: "delivered", Notification.delivered_at: clock.now(),
             Notification.lease_until: None, Notification.last_error: ""}
        ).where(Notification.id == notification_id, Notification.status == "sending").returning(Notification.id)
        if recorded:
            await _settled(row, "delivered", "")
    return {"notification": notification_id, "outcome": "delivered", "attempts": row["attempts"]}


async def deliver_due(*, limit: int = 500, concurrency: int = 10) -> dict:
    """The retry sweep: send what is due now (covers lost jobs, expired leases, a flushed Redis)."""
    now = clock.now()
    rows = await Notification.select(Notification.id).where(
        ((Notification.status == "pending") & (Notification.next_attempt_at <= now))
        | ((Notification.status == "sending") & (Notification.lease_until < now))
    ).order_by(Notification.next_attempt_at).limit(limit)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(notification_id: int) -> str:
        async with semaphore:
            return (await deliver(notification_id))["outcome"]

    outcomes = await asyncio.gather(*(one(r["id"]) for r in rows))
    return {outcome: outcomes.count(outcome) for outcome in set(outcomes)} | {"due": len(rows)}


async def _failed(row: dict, exc: ChannelError) -> dict:
    now = clock.now()
    attempts = row["attempts"]
    permanent = exc.permanent or attempts >= MAX_ATTEMPTS
    async with transaction():
        if permanent:
            recorded = await Scope.system(row["group"]).update(
                Notification,
                {Notification.status: "failed", Notification.failed_at: now, Notification.lease_until: None,
                 Notification.last_error: str(exc)[:2000]}
            ).where(Notification.id == row["id"], Notification.status == "sending").returning(Notification.id)
            if recorded:
                await _settled(row, "failed", str(exc)[:2000])
        else:
            retry_at = now + backoff(attempts)
            await Scope.system(row["group"]).update(
                Notification,
                {Notification.status: "pending", Notification.next_attempt_at: retry_at,
                 Notification.lease_until: None, Notification.last_error: str(exc)[:2000]}
            ).where(Notification.id == row["id"], Notification.status == "sending")
            await enqueue_after_commit(
                DELIVER_JOB, row["id"], job_id=delivery_job_id(row["id"], attempts), defer_until=retry_at
            )
    log.warning("notification_failed", notification=row["id"], channel=row["channel"], attempts=attempts,
                permanent=permanent, error=str(exc))
    outcome = "failed" if permanent else "retry"
    return {"notification": row["id"], "outcome": outcome, "attempts": attempts}


async def _settled(row: dict, status: str, error: str) -> None:
    await delivery_settled.send(
        notification_id=row["id"], group_id=row["group"], store_id=row["store"], kind=row["kind"],
        channel=row["channel"], subject_type=row["subject_type"], subject_id=row["subject_id"], status=status,
        error=error, text=row["body_zh"],
    )


async def _message(row: dict) -> Message:
    if row["recipient"] is None:  # a message to a customer: the text as written, to the number recorded
        return Message(title="", body=row["body_zh"], link="", email="", phone=row["address"], name="")
    user = await Scope.system(row["group"]).select(User, User.email, User.phone, User.display_name, User.locale).where(
        User.id == row["recipient"]
    ).first()
    english = (user or {}).get("locale") == "en"
    return Message(
        title=(row["title_en"] or row["title_zh"]) if english else row["title_zh"],
        body=(row["body_en"] or row["body_zh"]) if english else row["body_zh"],
        link=absolute_link(row["link"]),
        email=(user or {}).get("email", ""),
        phone=(user or {}).get("phone", ""),
        name=(user or {}).get("display_name", ""),
        attachment=attachment_file(row["attachment_path"]), attachment_name=row["attachment_name"],
        object_type=row["object_type"], object_id=row["object_id"],
    )


def attachment_file(relative: str) -> Path | None:
    """The attached file under DEALERDESK_VAR; a path leading outside it is no attachment."""
    if not relative:
        return None
    root = get_settings().var_dir.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) else None


def absolute_link(link: str) -> str:
    """In-app links are paths (`/complaints/12`); outside the app they need the site's address."""
    if link.startswith("/"):
        return get_settings().public_base_url + link
    return link
