"""The DMS webhook (经销商管理系统推送): deliveries and service visits pushed by the store's DMS, signed.

Each store gets keys (`key_id` + secret, the secret shown once). The DMS sends

    POST /api/v1/dms/webhook
    X-DMS-Key: <key_id>
    X-DMS-Timestamp: <unix seconds>
    X-DMS-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

A request older or newer than `MAX_SKEW` is refused (replays), and an event id
already applied changes nothing (DMS retries). The event is recorded through the
customer records' service, so its signals plan the callbacks as for manual entry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm import clock
from crm.callbacks.tables import DmsEvent, DmsWebhookKey
from crm.customers import service as customers
from crm.customers.tables import Sale, ServiceVisit, Vehicle
from crm.db import transaction
from tenants import audit
from tenants.errors import DomainError, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope
from tenants.tables import Store

MAX_SKEW = timedelta(minutes=5)
KEY_MANAGERS = frozenset({Role.GROUP_ADMIN, Role.STORE_GM})


class BadSignature(DomainError):
    """The request is not from a DMS holding a valid key (401)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass
class IssuedKey:
    key_id: str
    secret: str  # shown once
    store_id: int


@dataclass
class KeyInfo:
    key_id: str
    store_id: int
    active: bool
    created_at: datetime


@dataclass
class Applied:
    status: str  # applied | duplicate
    event: str
    sale_id: int | None = None
    visit_id: int | None = None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


async def verify(*, key_id: str, timestamp: str, signature: str, body: bytes) -> dict:
    """The active key that signed this body, or BadSignature."""
    key = await DmsWebhookKey.select().where(DmsWebhookKey.key_id == key_id, DmsWebhookKey.active.eq(True)).first()
    if key is None:
        raise BadSignature("DMS密钥无效", "Unknown or revoked DMS key")
    try:
        sent_at = datetime.fromtimestamp(int(timestamp), tz=clock.now().tzinfo)
    except (ValueError, OverflowError):
        raise BadSignature("时间戳无效", "Invalid timestamp")
    if abs(clock.now() - sent_at) > MAX_SKEW:
        raise BadSignature("请求已过期", "The request is too old or from the future")
    if not hmac.compare_digest(sign(key["secret"], timestamp, body), signature):
        raise BadSignature("签名错误", "Bad signature")
    return key


async def apply_event(*, key: dict, event_id: str, event: str, customer: dict, vehicle: dict,
                      delivery: dict | None, service_visit: dict | None) -> Applied:
    """Record what the DMS reports, once per event id, in one transaction."""
    actor = _dms_actor(key)
    async with transaction():
        inserted = await DmsEvent.insert(DmsEvent(
            group=key["group"], store=key["store"], event_key=f"{key['key_id']}:{event_id}",
            received_at=clock.now())).on_conflict(action="DO NOTHING").returning(DmsEvent.id)
        if not inserted:
            return Applied(status="duplicate", event=event)
        kind, action = event.split(".")
        if kind == "delivery":
            if delivery is None:
                raise InvalidInput.one("delivery", "缺少交车信息", "The delivery is missing")
            return Applied(status="applied", event=event,
                           sale_id=await _delivery(actor, key["store"], action, customer, vehicle, delivery))
        if service_visit is None:
            raise InvalidInput.one("service_visit", "缺少维修信息", "The service visit is missing")
        return Applied(status="applied", event=event,
                       visit_id=await _visit(actor, key["store"], action, customer, vehicle, service_visit))


async def issue_key(*, actor: Scope, store_id: int) -> IssuedKey:
    """A new key for the store's DMS; its secret is in this answer only."""
    actor.require_store(store_id)
    actor.require_role(*KEY_MANAGERS)
    async with transaction():
        return await _issue(actor, store_id)


async def list_keys(*, actor: Scope, store_id: int) -> list[KeyInfo]:
    actor.require_store(store_id)
    actor.require_role(*KEY_MANAGERS)
    rows = await actor.filter(DmsWebhookKey.select(), DmsWebhookKey).where(DmsWebhookKey.store == store_id).order_by(
        DmsWebhookKey.id)
    return [KeyInfo(key_id=r["key_id"], store_id=r["store"], active=r["active"], created_at=r["created_at"])
            for r in rows]


async def revoke_key(*, actor: Scope, key_id: str) -> None:
    async with transaction():
        await _revoke(actor, await _key_row(actor, key_id))


async def rotate_key(*, actor: Scope, key_id: str) -> IssuedKey:
    """Replace an active key: a new key for the same store, the old one revoked, together (轮换密钥)."""
    async with transaction():
        row = await _key_row(actor, key_id)
        if not row["active"]:
            raise InvalidInput.one("key_id", "该密钥已停用，无法轮换", "This key is revoked and cannot be rotated")
        await _revoke(actor, row)
        return await _issue(actor, row["store"])


async def _issue(actor: Scope, store_id: int) -> IssuedKey:
    store = await Store.select(Store.group).where(Store.id == store_id).first()
    key = IssuedKey(key_id=f"dms_{secrets.token_hex(8)}", secret=secrets.token_urlsafe(32), store_id=store_id)
    await DmsWebhookKey.insert(DmsWebhookKey(group=store["group"], store=store_id, key_id=key.key_id,
                                             secret=key.secret, created_at=clock.now()))
    await audit.record(actor, "dms.key.issue", "dms_key", key.key_id, before=None,
                       after={"store_id": store_id, "active": True})
    return key


async def _key_row(actor: Scope, key_id: str) -> dict:
    row = await actor.filter(DmsWebhookKey.select(DmsWebhookKey.id, DmsWebhookKey.key_id, DmsWebhookKey.store,
                                                  DmsWebhookKey.active), DmsWebhookKey).where(
        DmsWebhookKey.key_id == key_id).first()
    if row is None:
        raise NotFound("dms_webhook_key")
    actor.require_role(*KEY_MANAGERS)
    return row


async def _revoke(actor: Scope, row: dict) -> None:
    await actor.filter(DmsWebhookKey.update({DmsWebhookKey.active: False}), DmsWebhookKey).where(
        DmsWebhookKey.id == row["id"]
    )
    await audit.record(actor, "dms.key.revoke", "dms_key", row["key_id"], before={"active": row["active"]},
                       after={"active": False})


def _dms_actor(key: dict) -> Scope:
    """The DMS acts as a staff member of its store, with no more reach than that."""
    return Scope(user_id=0, group_id=key["group"], roles=frozenset({Role.STAFF}), store_ids=frozenset({key["store"]}),
                 home_store_id=key["store"], display_name="DMS")


async def _vehicle_of(actor: Scope, store_id: int, customer: dict, vehicle: dict) -> tuple[int, int]:
    """The store's vehicle with this VIN (and its owner), or a new customer profile and vehicle."""
    vin = str(vehicle.get("vin", "")).strip().upper()
    found = await actor.filter(Vehicle.select(Vehicle.id, Vehicle.customer), Vehicle).where(
        Vehicle.store == store_id, Vehicle.vin == vin, Vehicle.active.eq(True)).first()
    if found:
        return found["customer"], found["id"]
    customer_id = await customers.find_or_create_customer(actor=actor, store_id=store_id, source="dms", **customer)
    vehicle_id = await customers.create_vehicle(actor=actor, customer_id=customer_id, source="dms",
                                                **{**vehicle, "vin": vin})
    return customer_id, vehicle_id


async def _delivery(actor: Scope, store_id: int, action: str, customer: dict, vehicle: dict, delivery: dict) -> int:
    existing = await actor.filter(Sale.select(Sale.id), Sale).where(
        Sale.store == store_id, Sale.order_no == delivery["order_no"], Sale.cancelled_at.is_null()).first()
    if action == "recorded" and existing is None:
        customer_id, vehicle_id = await _vehicle_of(actor, store_id, customer, vehicle)
        return await customers.record_sale(actor=actor, customer_id=customer_id, vehicle_id=vehicle_id,
                                           source="dms", **delivery)
    if existing is None:
        raise InvalidInput.one("delivery.order_no", "找不到该订单号的交车记录", "No delivery with this order number")
    if action == "cancelled":
        await customers.cancel_sale(actor=actor, sale_id=existing["id"])
    else:
        await customers.update_sale(actor=actor, sale_id=existing["id"],
                                    **{k: v for k, v in delivery.items() if k != "order_no"})
    return existing["id"]


async def _visit(actor: Scope, store_id: int, action: str, customer: dict, vehicle: dict, visit: dict) -> int:
    existing = await actor.filter(ServiceVisit.select(ServiceVisit.id), ServiceVisit).where(
        ServiceVisit.store == store_id, ServiceVisit.repair_order_no == visit["repair_order_no"],
        ServiceVisit.cancelled_at.is_null()).first()
    if action == "recorded" and existing is None:
        customer_id, vehicle_id = await _vehicle_of(actor, store_id, customer, vehicle)
        return await customers.record_visit(actor=actor, customer_id=customer_id, vehicle_id=vehicle_id,
                                            source="dms", **visit)
    if existing is None:
        raise InvalidInput.one("service_visit.repair_order_no", "找不到该工单号的维修记录",
                               "No service visit with this repair-order number")
    if action == "cancelled":
        await customers.cancel_visit(actor=actor, visit_id=existing["id"])
    else:
        await customers.update_visit(actor=actor, visit_id=existing["id"],
                                     **{k: v for k, v in visit.items() if k != "repair_order_no"})
    return existing["id"]
