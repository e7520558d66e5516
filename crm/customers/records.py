"""What the customer-records service returns: plain msgspec Structs, no ORM objects.

The API returns them as they are and the web UI renders them, so a field added
here shows up in both without a second mapping.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec


class CustomerSummary(msgspec.Struct, kw_only=True):
    """One line of a search result."""

    id: int
    store_id: int
    store_name: str
    identity_id: int
    kind: str
    name: str
    mobile: str
    plates: list[str]
    vins: list[str]
    active: bool


class CustomerRecord(msgspec.Struct, kw_only=True):
    """A store's profile of a customer (客户档案), every field."""

    id: int
    group_id: int
    store_id: int
    identity_id: int
    kind: str
    name: str
    gender: str
    birthday: date | None
    birthday_is_lunar: bool
    marital_status: str
    mobile: str
    phone2: str
    email: str
    id_number: str
    address: str
    postcode: str
    employer: str
    occupation: str
    hobbies: str
    industry: str
    contact_person: str
    source: str
    do_not_call: bool
    dms_ref: str
    note: str
    active: bool
    created_at: datetime
    updated_at: datetime


class VehicleRecord(msgspec.Struct, kw_only=True):
    id: int
    store_id: int
    customer_id: int
    vin: str
    engine_no: str
    plate: str
    brand: str
    model: str
    colour: str
    insurer: str
    insurance_expires_on: date | None
    inspection_due_on: date | None
    source: str
    active: bool
    created_at: datetime
    updated_at: datetime


class SaleRecord(msgspec.Struct, kw_only=True):
    """A sale and its delivery (交车)."""

    id: int
    store_id: int
    customer_id: int
    vehicle_id: int
    order_no: str
    salesperson: str
    price: Decimal | None
    discount: Decimal | None
    delivered_at: datetime
    source: str
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime


class VisitRecord(msgspec.Struct, kw_only=True):
    """A service visit (维修/保养) up to the customer leaving (离站)."""

    id: int
    store_id: int
    customer_id: int
    vehicle_id: int
    repair_order_no: str
    advisor: str
    repair_type: str
    amount: Decimal | None
    mileage: int | None
    arrived_at: datetime | None
    left_at: datetime
    next_visit_on: date | None
    source: str
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime


class StoreHistory(msgspec.Struct, kw_only=True):
    """One store's profile of a customer with everything that store recorded."""

    store_id: int
    store_name: str
    customer: CustomerRecord
    vehicles: list[VehicleRecord]
    sales: list[SaleRecord]
    visits: list[VisitRecord]


class CustomerProfile(msgspec.Struct, kw_only=True):
    """A customer page: the profile asked for, plus — for group-level readers — the same
    person's profiles in the other stores they may see (`other_stores`)."""

    customer: CustomerRecord
    store_name: str
    vehicles: list[VehicleRecord]
    sales: list[SaleRecord]
    visits: list[VisitRecord]
    other_stores: list[StoreHistory]


class IdentityHistory(msgspec.Struct, kw_only=True):
    """HQ's view of one group-wide customer (集团客户): every visible store's history."""

    identity_id: int
    name: str
    mobile: str
    id_number: str
    stores: list[StoreHistory]
