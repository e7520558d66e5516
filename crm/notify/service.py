"""Raising notifications (通知): who gets what, over which channels, recorded once.

`notify_users` / `notify_roles` write one row per recipient and channel inside
the caller's transaction (or their own). In-app rows are delivered at once and
pushed to the user's live stream after commit; external channels are delivered
by the worker (`crm.notify.delivery`) with retries. The idempotency key makes a
repeated call — a retried job, a re-fired handler — add nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from piccolo.query.mixins import OnConflictAction

from crm import clock
from crm.db import after_commit, transaction
from crm.notify.objects import object_of
from crm.notify.tables import EXTERNAL_CHANNELS, Notification, NotificationPreference
from crm.privacy import vault
from crm.queue import enqueue_after_commit
from tenants.roles import GROUP_ROLES, STORE_ROLES, Role
from tenants.tables import Store, User, UserRole
from tenants.scope import Scope

DELIVER_JOB = "deliver_notification"


@dataclass(frozen=True)
class Attachment:
    """A file to send with the e-mails: `path` relative to DEALERDESK_VAR (a stored, never rewritten file)."""

    path: str
    name: str


async def notify_users(
    *,
    group_id: int,
    user_ids: Iterable[int],
    kind: str,
    title_zh: str,
    title_en: str,
    body_zh: str = "",
    body_en: str = "",
    link: str = "",
    idempotency_key: str,
    store_id: int | None = None,
    extra_channels: Iterable[str] = (),
    attachment: Attachment | None = None,
    about: tuple[str, int] | None = None,
) -> int:
    """Notify users of the group over in-app plus their preferred channels; returns the rows created.

    `extra_channels` (external channel names) are used as well wherever the user is reachable on
    them, whatever their preferences — for alerts a group wants on e.g. SMS (major-complaint escalation).
    `attachment` goes with the e-mails (within the size limit; see `crm.notify.channels.send_email`).
    `about` names the object (type, id) when the link does not (see `crm.notify.objects`).
    """
    extra = [c for c in EXTERNAL_CHANNELS if c in set(extra_channels)]
    object_type, object_id = about or object_of(link)
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return 0
    async with transaction():
        users = await Scope.system(group_id).select(User, User.id, User.email, User.phone).where(
            User.id.is_in(user_ids), User.active.eq(True)
        )
        preferences = {
            p["user"]: p
            for p in await NotificationPreference.select().where(
                NotificationPreference.user.is_in([u["id"] for u in users] or [-1])
            )
        }
        now = clock.now()
        rows = []
        for user in users:
            for channel in ("inapp", *_preferred_channels(user, preferences.get(user["id"]), extra)):
                inapp = channel == "inapp"
                rows.append(
                    Notification(
                        group=group_id, store=store_id, recipient=user["id"], channel=channel, kind=kind,
                        title_zh=title_zh[:200], title_en=title_en[:200], body_zh=body_zh, body_en=body_en,
                        link=link, object_type=object_type, object_id=object_id,
                        idempotency_key=idempotency_key[:200],
                        attachment_path=attachment.path if attachment and channel == "email" else "",
                        attachment_name=attachment.name if attachment and channel == "email" else "",
                        status="delivered" if inapp else "pending",
                        delivered_at=now if inapp else None,
                        next_attempt_at=None if inapp else now,
                        created_at=now,
                    )
                )
        if not rows:
            return 0
        created = await Notification.insert(*rows).on_conflict(action=OnConflictAction.do_nothing).returning(
            Notification.id, Notification.channel, Notification.recipient
        )
        for row in created:
            if row["channel"] == "inapp":
                await after_commit(_push_live(group_id, row["recipient"], row["id"]))
            else:
                await enqueue_after_commit(DELIVER_JOB, row["id"], job_id=delivery_job_id(row["id"], 0))
    return len(created)


async def message_customer(
    *,
    group_id: int,
    store_id: int | None,
    mobile: str,
    kind: str,
    label_zh: str,
    label_en: str,
    text: str,
    idempotency_key: str,
    subject_type: str = "",
    subject_id: int | None = None,
) -> int:
    """Send `text` to a customer's mobile by SMS (短信), recorded once per key; returns the notification's id.

    The row has no user recipient: `address` is the number, `label_*` names it in the admins' failed list.
    Delivery is the worker's, with the same retries as every notification; `crm.notify.events.delivery_settled`
    tells the caller's area when it was delivered or failed for good.
    """
    async with transaction():
        now = clock.now()
        created = await Notification.insert(vault.seal_row(Notification(
            group=group_id, store=store_id, recipient=None, address=mobile[:40], channel="sms", kind=kind,
            title_zh=label_zh[:200], title_en=label_en[:200], body_zh=text, idempotency_key=idempotency_key[:200],
            subject_type=subject_type, subject_id=subject_id, status="pending", next_attempt_at=now, created_at=now,
        ))).on_conflict(action=OnConflictAction.do_nothing).returning(Notification.id)
        if created:
            await enqueue_after_commit(DELIVER_JOB, created[0]["id"], job_id=delivery_job_id(created[0]["id"], 0))
            return created[0]["id"]
        existing = await Scope.system(group_id).select(Notification, Notification.id).where(
            Notification.idempotency_key == idempotency_key[:200], Notification.channel == "sms",
            Notification.recipient.is_null(),
        ).first()
        return existing["id"]


async def notify_roles(
    *,
    group_id: int,
    roles: Iterable[Role],
    store_id: int | None = None,
    brand_division_id: int | None = None,
    kind: str,
    title_zh: str,
    title_en: str,
    body_zh: str = "",
    body_en: str = "",
    link: str = "",
    idempotency_key: str,
    about: tuple[str, int] | None = None,
) -> int:
    """Notify everyone holding `roles`: store roles in that store, group roles in the group.

    Users of a brand division (品牌事业部) are included only for their division's stores.
    """
    user_ids = await users_with_roles(
        group_id=group_id, roles=roles, store_id=store_id, brand_division_id=brand_division_id
    )
    return await notify_users(
        group_id=group_id, user_ids=user_ids, kind=kind, title_zh=title_zh, title_en=title_en,
        body_zh=body_zh, body_en=body_en, link=link, idempotency_key=idempotency_key, store_id=store_id,
        about=about,
    )


async def users_with_roles(
    *, group_id: int, roles: Iterable[Role], store_id: int | None = None, brand_division_id: int | None = None
) -> list[int]:
    """Active users of the group holding any of `roles`, as `notify_roles` addresses them."""
    roles = {Role(r) for r in roles}
    ids: set[int] = set()
    store_roles = roles & STORE_ROLES
    if store_roles and store_id is not None:
        query = Scope.system(group_id, store_id).select(User, User.id).where(
            User.active.eq(True),
            User.id.is_in(await _holders(store_roles)),
        )
        ids |= {r["id"] for r in await query}
    group_roles = roles & GROUP_ROLES
    if group_roles:
        division = brand_division_id
        if division is None and store_id is not None:
            store = await Store.select(Store.brand_division).where(Store.id == store_id).first()
            division = store["brand_division"] if store else None
        query = Scope.system(group_id).select(User, User.id, User.brand_division).where(
            User.store.is_null(), User.active.eq(True),
            User.id.is_in(await _holders(group_roles)),
        )
        for user in await query:
            if division is None or user["brand_division"] in (None, division):
                ids.add(user["id"])
    return sorted(ids)


async def _holders(roles: set[Role]) -> list[int]:
    rows = await UserRole.select(UserRole.user).where(UserRole.role.is_in(sorted(roles)))
    return [r["user"] for r in rows] or [-1]


def delivery_job_id(notification_id: int, attempt: int) -> str:
    return f"notify:{notification_id}:{attempt}"


def _preferred_channels(
    user: dict[str, Any], preference: dict[str, Any] | None, extra: list[str] = ()
) -> list[str]:
    """External channels the user chose (or the caller added) and can be reached on
    (e-mail needs an address, SMS a phone)."""
    reachable = {"email": bool(user["email"]), "sms": bool(user["phone"]), "wecom": True, "dingtalk": True}
    chosen = {c for c in EXTERNAL_CHANNELS if preference is not None and preference.get(c)} | set(extra)
    return [c for c in EXTERNAL_CHANNELS if c in chosen and reachable[c]]


def _push_live(group_id: int, user_id: int, notification_id: int):
    async def push() -> None:
        from crm.notify.live import publish

        await publish(group_id, user_id, notification_id)

    return push
