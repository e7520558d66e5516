"""DMS integration: the signed webhook for deliveries and service visits, and the store's keys."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, delete, get, post

from api.errors import _translate as translate_validation
from api.errors import error_body
from api.params import StoreIdQuery, text, text_param
from crm import lists
from crm.callbacks import dms
from crm.callbacks.dms import Applied, IssuedKey, KeyInfo
from crm.lists import Page
from tenants.errors import FieldProblem, InvalidInput
from tenants.scope import Scope

Text = text(100)


class DmsCustomer(msgspec.Struct, forbid_unknown_fields=True):
    name: text(100, 1)
    mobile: text(20) = ""
    id_number: text(18) = ""
    gender: Literal["male", "female", ""] = ""
    dms_ref: text(64) = ""


class DmsVehicle(msgspec.Struct, forbid_unknown_fields=True):
    vin: text(17, 17)
    plate: text(10) = ""
    brand: Text = ""
    model: Text = ""
    colour: text(30) = ""


class DmsDelivery(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    order_no: text(64, 1)
    delivered_at: datetime | None = None
    salesperson: text(50) | None = None
    price: Decimal | None = None


class DmsServiceVisit(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    repair_order_no: text(64, 1)
    left_at: datetime | None = None
    arrived_at: datetime | None = None
    advisor: text(50) | None = None
    repair_type: Literal["maintenance", "repair", "warranty", "accident", "other"] | None = None
    mileage: Annotated[int, msgspec.Meta(ge=0, le=2_000_000)] | None = None
    amount: Decimal | None = None
    next_visit_on: date | None = None


class DmsEventIn(msgspec.Struct, forbid_unknown_fields=True):
    event_id: text(64, 1)
    event: Literal["delivery.recorded", "delivery.changed", "delivery.cancelled",
                   "service_visit.recorded", "service_visit.changed", "service_visit.cancelled"]
    customer: DmsCustomer
    vehicle: DmsVehicle
    delivery: DmsDelivery | None = None
    service_visit: DmsServiceVisit | None = None


@post("/api/v1/dms/webhook", exclude_from_auth=True, tags=["dms"], status_code=200)
async def dms_webhook(request: Request) -> Response:
    """A delivery or service visit pushed by the store's DMS (signed; see `crm.callbacks.dms`)."""
    body = await request.body()
    try:
        key = await dms.verify(
            key_id=request.headers.get("x-dms-key", ""),
            timestamp=request.headers.get("x-dms-timestamp", ""),
            signature=request.headers.get("x-dms-signature", ""),
            body=body,
        )
    except dms.BadSignature as exc:
        return Response(content=error_body(401, exc.zh, exc.en), status_code=401)
    try:
        event = msgspec.json.decode(body, type=DmsEventIn)
    except msgspec.ValidationError as exc:
        raise InvalidInput([_problem(str(exc))]) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput.one("body", "请求不是有效的JSON", f"Not JSON: {exc}") from exc
    applied = await dms.apply_event(
        key=key, event_id=event.event_id, event=event.event,
        customer=_fields(event.customer), vehicle=_fields(event.vehicle),
        delivery=_fields(event.delivery) if event.delivery else None,
        service_visit=_fields(event.service_visit) if event.service_visit else None,
    )
    return Response(content=msgspec.to_builtins(_applied(applied)), status_code=200)


@post("/api/v1/dms/keys", tags=["dms"], status_code=201)
async def issue_key(actor: Scope, store_id: StoreIdQuery) -> IssuedKey:
    """A new key for the store's DMS; the secret is shown only in this answer."""
    return await dms.issue_key(actor=actor, store_id=store_id)


@get("/api/v1/dms/keys", tags=["dms"])
async def list_keys(actor: Scope, store_id: StoreIdQuery) -> Page[KeyInfo]:
    """The store's DMS webhook keys (without their secrets): id, whether active, when issued; oldest first, on one
    page (`sort` is `created`: a store keeps a key or two)."""
    return lists.whole(await dms.list_keys(actor=actor, store_id=store_id), sort="created")


@delete("/api/v1/dms/keys/{key_id:str}", tags=["dms"], status_code=204)
async def revoke_key(actor: Scope, key_id: text_param(64)) -> None:
    """Revoke a DMS webhook key at once; deliveries signed with it are refused from now on."""
    await dms.revoke_key(actor=actor, key_id=key_id)


@post("/api/v1/dms/keys/{key_id:str}/rotate", tags=["dms"], status_code=201)
async def rotate_key(actor: Scope, key_id: text_param(64)) -> IssuedKey:
    """Replace a key: the old one stops working, the new secret is shown only in this answer."""
    return await dms.rotate_key(actor=actor, key_id=key_id)


def _fields(struct: msgspec.Struct) -> dict:
    return {k: v for k, v in msgspec.structs.asdict(struct).items() if v is not None}


def _applied(applied: Applied) -> dict:
    return {k: v for k, v in applied.__dict__.items() if v is not None}


def _problem(message: str) -> FieldProblem:
    return translate_validation({"message": message})


ROUTES = [dms_webhook, issue_key, list_keys, revoke_key, rotate_key]
