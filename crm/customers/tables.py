"""Customer records (客户档案). Every row but the identity is owned by one store.

A `CustomerIdentity` is the group-wide person or company (matched by mobile
number or ID number); each store that deals with them keeps its own `Customer`
profile linked to it. HQ reads across the identity; a store reads its own rows.
"""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tenants.tables import DealerGroup, Store, User

# A sealed value: "v1:<key id>:" and the base64 of nonce, ciphertext and tag of a value up to 40 characters.
SEALED_LENGTH = 120


class CustomerIdentity(Table, tablename="customer_identity"):
    """The group-wide identity of a customer, matched by normalised mobile or ID number.

    Two keys rather than one: a store may know a customer by phone only and
    another by ID number only; whichever arrives first is kept, the other is
    filled in when a later profile brings it.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    # Sealed (`crm.privacy.vault`): found by the keyed hashes beside them.
    mobile = Varchar(length=SEALED_LENGTH, default="")
    id_number = Varchar(length=SEALED_LENGTH, default="")
    mobile_hash = Varchar(length=64, index=True, default="")
    id_number_hash = Varchar(length=64, index=True, default="")
    name = Varchar(length=100)
    created_at = Timestamptz()


class Customer(Table):
    """A store's profile of a private customer (个人) or a company (单位)."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    group_identity = ForeignKey(CustomerIdentity, null=False, index=True)
    kind = Varchar(length=10, default="private")  # private | company
    name = Varchar(length=100, index=True)
    gender = Varchar(length=10, default="")  # male | female | ""
    birthday = Date(null=True, default=None)
    birthday_is_lunar = Boolean(default=False)
    marital_status = Varchar(length=10, default="")
    # Sealed (`crm.privacy.vault`): found by the keyed hashes (whole value, phone's last 4 digits) below.
    mobile = Varchar(length=SEALED_LENGTH, default="")
    phone2 = Varchar(length=SEALED_LENGTH, default="")
    email = Varchar(length=200, default="")
    id_number = Varchar(length=SEALED_LENGTH, default="")
    mobile_hash = Varchar(length=64, index=True, default="")
    mobile_tail = Varchar(length=64, index=True, default="")
    phone2_hash = Varchar(length=64, index=True, default="")
    phone2_tail = Varchar(length=64, index=True, default="")
    id_number_hash = Varchar(length=64, index=True, default="")
    address = Varchar(length=255, default="")
    postcode = Varchar(length=6, default="")
    employer = Varchar(length=100, default="")
    occupation = Varchar(length=50, default="")
    hobbies = Varchar(length=200, default="")
    industry = Varchar(length=50, default="")
    contact_person = Varchar(length=50, default="")
    source = Varchar(length=30, default="manual")  # manual | import | call_center | dms
    do_not_call = Boolean(default=False)
    dms_ref = Varchar(length=64, default="", index=True)
    note = Text(default="")
    # Deactivated, never deleted: complaints and callbacks keep pointing at the profile.
    active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Vehicle(Table):
    """A vehicle known to one store; the VIN is unique per store among active vehicles."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    customer = ForeignKey(Customer, null=False, index=True)
    vin = Varchar(length=17, index=True)
    engine_no = Varchar(length=30, default="")
    plate = Varchar(length=10, index=True, default="")
    brand = Varchar(length=50, default="")
    model = Varchar(length=100, default="")
    colour = Varchar(length=30, default="")
    insurer = Varchar(length=100, default="")
    insurance_expires_on = Date(null=True, default=None)
    inspection_due_on = Date(null=True, default=None)
    source = Varchar(length=30, default="manual")
    active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Sale(Table):
    """A vehicle sale and its delivery (交车)."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    customer = ForeignKey(Customer, null=False, index=True)
    vehicle = ForeignKey(Vehicle, null=False, index=True)
    order_no = Varchar(length=64, default="", index=True)
    salesperson = Varchar(length=50, default="")
    price = Numeric(digits=(12, 2), null=True, default=None)
    discount = Numeric(digits=(12, 2), null=True, default=None)
    delivered_at = Timestamptz()
    source = Varchar(length=30, default="manual")
    # Cancelled rows stay for the record; reads and statistics skip them.
    cancelled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ServiceVisit(Table, tablename="service_visit"):
    """A workshop visit (维修/保养) from arrival to the customer leaving (离站)."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    customer = ForeignKey(Customer, null=False, index=True)
    vehicle = ForeignKey(Vehicle, null=False, index=True)
    repair_order_no = Varchar(length=64, default="", index=True)
    advisor = Varchar(length=50, default="")
    repair_type = Varchar(length=30, default="")  # maintenance | repair | warranty | accident | other
    amount = Numeric(digits=(12, 2), null=True, default=None)
    mileage = Integer(null=True, default=None)
    arrived_at = Timestamptz(null=True, default=None)
    left_at = Timestamptz()
    next_visit_on = Date(null=True, default=None)
    source = Varchar(length=30, default="manual")
    cancelled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CustomerChange(Table, tablename="customer_change"):
    """One field of a customer record (or of one of its vehicles) changed: who, when, old and new value.

    Append-only: rows are written by the service functions that change records and never updated,
    so a wrong or unauthorised change (客户资料私自更改或错误, 001 §5.2) can always be traced.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    customer = ForeignKey(Customer, null=False, index=True)
    vehicle = ForeignKey(Vehicle, null=True, default=None)
    field = Varchar(length=40)
    old_value = Text(default="")
    new_value = Text(default="")
    via = Varchar(length=20)  # edit | correction | import | callback
    correction_id = Integer(null=True, default=None)
    changed_by = ForeignKey(User, null=True, default=None)
    changed_by_name = Varchar(length=100, default="")
    changed_at = Timestamptz()


class CustomerCorrection(Table, tablename="customer_correction"):
    """修正表: a correction found during a callback, for the owning department's manager to apply or
    reject within 24 hours, then confirmed (确认) by the customer-relations department (001 §9.3)."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    customer = ForeignKey(Customer, null=False, index=True)
    vehicle = ForeignKey(Vehicle, null=True, default=None)
    callback_id = Integer(null=True, default=None, index=True)
    field = Varchar(length=40)
    old_value = Text(default="")
    proposed_value = Text(default="")
    reason = Text(default="")
    department = Varchar(length=20)  # sales | service
    found_by = ForeignKey(User, null=True, default=None)
    found_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    due_at = Timestamptz()
    state = Varchar(length=20, default="open", index=True)  # open | applied | rejected
    decided_by = ForeignKey(User, null=True, default=None)
    decided_by_name = Varchar(length=100, default="")
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")
    confirmed_by = ForeignKey(User, null=True, default=None)
    confirmed_by_name = Varchar(length=100, default="")
    confirmed_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)
    missed_at = Timestamptz(null=True, default=None)
