"""Customer records (客户档案): customers, vehicles, deliveries (交车) and service visits.

Every function takes the caller's `Scope` as `actor` and reads or writes only
through it: a row outside the scope is `NotFound`, exactly like a missing one.
Ids a caller names in a body (the store, the customer of a new vehicle) are
checked the same way but reported as a field problem (400), because the
request, not the URL, is wrong.

Each store keeps its own profile of a customer; profiles of the same person
across the group's stores share one `CustomerIdentity` (matched by normalised
mobile or ID number), so HQ sees the whole history while a store sees its own.

Deliveries and visits fire the signals of `crm.customers.events` inside the
transaction, so other areas (callbacks) schedule their work atomically with
the record.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.table import Table

from crm import clock, lists
from crm.customers import events
from crm.customers.fields import (  # GENDERS, KINDS … are re-exported: the web UI labels codes with them
    CUSTOMER_FIELDS,
    GENDERS,
    KINDS,
    MARITAL_STATUSES,
    REPAIR_TYPES,
    SALE_FIELDS,
    SOURCES,
    VEHICLE_FIELDS,
    VISIT_FIELDS,
    check_visit_times,
    clean_customer,
    clean_sale,
    clean_vehicle,
    clean_visit,
    fill_from_id_number,
    time_filter,
)
from crm.customers.history import Author, record_changes
from crm.db import like_term
from crm.customers.identity import link_identity, relink_identity
from crm.customers.records import (
    CustomerProfile,
    CustomerRecord,
    CustomerSummary,
    IdentityHistory,
    SaleRecord,
    StoreHistory,
    VehicleRecord,
    VisitRecord,
)
from crm.customers.tables import Customer, CustomerIdentity, Sale, ServiceVisit, Vehicle
from crm.customers.locks import lock_keys
from crm.customers.tx import transaction
from crm.customers.validation import Problems, check_plate, check_vin, normalise_mobile
from crm.privacy import vault
from crm.privacy.policy import shield
from crm.privacy.service import record_bulk_read, record_reveal
from tenants.errors import Conflict, FieldProblem, InvalidInput, NotFound
from tenants.roles import TENANT_ROLES, Role
from tenants.scope import Rows, Scope, reading
from tenants.tables import Store

# The customer area's lists: newest first; every column that is one value of the row sorts.
CUSTOMER_LIST = lists.ListSpec(
    name="customers",
    sorts={"created": (Customer.id,), "name": (Customer.name,), "kind": (Customer.kind,),
           "store": (Customer.store.name,)},
    default_sort="-created", tiebreak=Customer.id, page_size=20,
)
VEHICLE_LIST = lists.ListSpec(
    name="vehicles",
    sorts={"created": (Vehicle.id,), "plate": (Vehicle.plate,), "vin": (Vehicle.vin,), "model": (Vehicle.model,)},
    default_sort="-created", tiebreak=Vehicle.id,
)
SALE_LIST = lists.ListSpec(
    name="sales", sorts={"delivered": (Sale.delivered_at,), "created": (Sale.id,)}, default_sort="-delivered",
    tiebreak=Sale.id,
)
VISIT_LIST = lists.ListSpec(
    name="visits", sorts={"left": (ServiceVisit.left_at,), "created": (ServiceVisit.id,)}, default_sort="-left",
    tiebreak=ServiceVisit.id,
)
# Who may read customer records (客户档案) within their scope: everyone who works inside the group.
CUSTOMER_READERS = TENANT_ROLES
# Who may create customer records and record vehicles, sales and visits.
CUSTOMER_EDITORS = frozenset(
    {
        Role.GROUP_ADMIN,
        Role.CALL_CENTER_AGENT,
        Role.GROUP_CUSTOMER_SERVICE,
        Role.STORE_GM,
        Role.STORE_CR_MANAGER,
        Role.CALLBACK_AGENT,
        Role.DEPARTMENT_HEAD,
        Role.STAFF,
    }
)
# Who may change an existing record directly. Callback agents find errors on the phone and file a
# correction request for the owning department instead (001 §9.3).
CUSTOMER_UPDATERS = CUSTOMER_EDITORS - {Role.CALLBACK_AGENT}
# The personal fields of a profile that a reveal may show (who may is `crm.privacy.policy`).
REVEALABLE_FIELDS = ("mobile", "phone2", "id_number")

# ---------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerFilter:
    """What the customer list keeps: the JSON list and the search page each build one and pass it down."""

    q: str = ""  # phone (full or last 4+ digits), plate, VIN (full or last 6+ characters) or name
    store_id: int | None = None
    include_inactive: bool = False


@dataclass(frozen=True)
class VehicleFilter:
    """What the vehicle list keeps."""

    customer_id: int | None = None
    store_id: int | None = None
    q: str = ""  # VIN (last 6+ characters) or plate
    include_inactive: bool = False


async def search_customers(*, actor: Scope, q: str, limit: int = 20) -> list[CustomerSummary]:
    """Customers in the caller's scope matching `q`: phone (full or last 4+ digits), plate,
    VIN (full or last 6+ characters) or name. Most recently created first."""
    page = await search_customers_page(actor=actor, filters=CustomerFilter(q=q),
                                       want=CUSTOMER_LIST.parse(page_size=limit))
    return page.items


async def search_customers_page(
    *, actor: Scope, filters: CustomerFilter = CustomerFilter(), want: lists.ListQuery | None = None,
) -> lists.Page[CustomerSummary]:
    """A page of `search_customers` with the total; an empty `q` lists the newest customers."""
    actor.require_role(*CUSTOMER_READERS)
    want = want or CUSTOMER_LIST.parse()
    where = []
    if filters.store_id is not None:
        where.append(Customer.store == _store_filter(actor, filters.store_id))
    if not filters.include_inactive:
        where.append(Customer.active.eq(True))
    matches = _search_condition(actor, filters.q)
    if matches is False:
        return want.page_of([], 0)
    if matches is not None:
        where.append(matches)
    rows, total = await lists.fetch(CUSTOMER_LIST, want, rows=actor.select(Customer, Customer.id).where(*where),
                                    count=actor.count(Customer).where(*where))
    summaries = await _summaries(actor, [r["id"] for r in rows])
    await record_bulk_read(actor=actor, subject="customer", records=summaries, fields=("mobile",))
    return want.page_of(summaries, total)


async def customer_profile(*, actor: Scope, customer_id: int) -> CustomerProfile:
    """A customer page: profile, vehicles, deliveries and visits of one store's customer.

    Group-level callers (HQ, call center) also get the same person's profiles in
    the other stores they may see; store staff only ever get their own store's rows.
    The page is read on every visit: one statement with its history (`_PAGE`), one more for a group's.
    """
    async with reading(Customer) as connection:
        found = await actor.rows(_PAGE, [customer_id], connection=connection)
        if not found:
            raise NotFound("customer")
        others: list[dict] = []
        if actor.is_group_level:
            same_person = await actor.rows(_SAME_PERSON, [found[0]["group_identity"]], connection=connection)
            others = [r for r in same_person if r["id"] != customer_id]
    histories = _histories(actor, [found[0], *others])
    own = histories[0]
    return CustomerProfile(
        customer=own.customer,
        store_name=own.store_name,
        vehicles=own.vehicles,
        sales=own.sales,
        visits=own.visits,
        other_stores=histories[1:],
    )


async def identity_history(*, actor: Scope, identity_id: int) -> IdentityHistory:
    """HQ's view of one group-wide customer: the history in every store the caller may see.

    An identity with no profile in the caller's stores is NotFound, so a store
    user can read only their own store's part and other groups nothing at all.
    """
    identity = await actor.filter_group(CustomerIdentity.select(), CustomerIdentity).where(
        CustomerIdentity.id == identity_id
    ).first()
    if identity is None:
        raise NotFound("customer_identity")
    customers = sorted(await actor.rows(_SAME_PERSON, [identity_id]), key=lambda r: (r["store"], r["id"]))
    if not customers:
        raise NotFound("customer_identity")
    return IdentityHistory(
        identity_id=identity_id,
        name=identity["name"],
        mobile=shield(actor, {"mobile": identity["mobile"]})["mobile"],
        id_number=shield(actor, {"id_number": identity["id_number"]})["id_number"],
        stores=_histories(actor, customers),
    )


async def get_customer(*, actor: Scope, customer_id: int) -> CustomerRecord:
    return shield(actor, _customer_record(await _visible_row(actor, Customer, customer_id)))


async def reveal_customer_field(*, actor: Scope, customer_id: int, field: str, reason: str) -> str:
    """One personal field of a profile in clear, for a role allowed to see it; the reveal is logged."""
    async with transaction():
        row = await _visible_row(actor, Customer, customer_id)  # outside the scope: 404 before anything else
        if field not in REVEALABLE_FIELDS:
            raise InvalidInput.one("field", "该字段不可查看", "This field cannot be revealed")
        await record_reveal(actor=actor, store_id=row["store"], subject="customer", subject_id=customer_id,
                            field=field, reason=reason)
    return row[field]


async def get_vehicle(*, actor: Scope, vehicle_id: int) -> VehicleRecord:
    return _vehicle_record(await _visible_row(actor, Vehicle, vehicle_id))


async def get_sale(*, actor: Scope, sale_id: int) -> SaleRecord:
    return _sale_record(await _visible_row(actor, Sale, sale_id))


async def get_visit(*, actor: Scope, visit_id: int) -> VisitRecord:
    return _visit_record(await _visible_row(actor, ServiceVisit, visit_id))


async def find_car(
    *, actor: Scope, vin: str = "", plate: str = "", store_id: int | None = None
) -> tuple[int, int]:
    """The (customer id, vehicle id) of the active car with this VIN and/or plate, for intake by car.

    The VIN is checked for length and characters (no I, O, Q) but not for its check digit; the plate for the
    mainland format (new-energy plates included). The same car may be on record at several of the group's
    stores: the row in `store_id` is taken when there is one, else the latest. Unknown is a 404 naming the
    field; a plate or VIN on record for different customers is a 400 (the caller names the customer then).
    """
    problems = Problems()
    vin, plate = car_keys(problems, vin, plate)
    problems.raise_if_any()
    field = "vin" if vin else "plate"
    query = actor.filter(Vehicle.select(
        Vehicle.id, Vehicle.store, Vehicle.customer, Vehicle.customer.group_identity,
    ), Vehicle).where(Vehicle.active.eq(True))
    if vin:
        query = query.where(Vehicle.vin == vin)
    if plate:
        query = query.where(Vehicle.plate == plate)
    rows = await query.order_by(Vehicle.id, ascending=False)
    if not rows:
        raise NotFound("vehicle", FieldProblem(
            field, "没有找到该车架号（VIN）的车辆" if field == "vin" else "没有找到该车牌号的车辆",
            "No vehicle with this VIN" if field == "vin" else "No vehicle with this plate"))
    if len({r["customer.group_identity"] for r in rows}) > 1:
        raise InvalidInput.one(
            field, "该车辆登记在多位客户名下，请指定客户（customer_id）和车辆（vehicle_id）",
            "This vehicle is on record for several customers: give customer_id and vehicle_id")
    chosen = next((r for r in rows if r["store"] == store_id), rows[0])
    return chosen["customer"], chosen["id"]


def car_keys(problems: Problems, vin: str, plate: str) -> tuple[str, str]:
    """A VIN and a plate to look a car up by, normalised; what is malformed goes to `problems` by field."""
    if vin.strip():
        vin = problems.check(lambda raw, field: check_vin(raw, field, check_digit=False), vin, "vin")
    if plate.strip():
        plate = problems.check(check_plate, plate, "plate")
    return vin.strip(), plate.strip()


async def list_vehicles(
    *, actor: Scope, filters: VehicleFilter = VehicleFilter(), want: lists.ListQuery | None = None,
) -> lists.Page[VehicleRecord]:
    """Vehicles in scope, newest first."""
    want = want or VEHICLE_LIST.parse()
    where = []
    if filters.customer_id is not None:
        where.append(Vehicle.customer == filters.customer_id)
    if filters.store_id is not None:
        where.append(Vehicle.store == _store_filter(actor, filters.store_id))
    if not filters.include_inactive:
        where.append(Vehicle.active.eq(True))
    matches = _vehicle_condition(filters.q) if filters.q.strip() else None
    if matches is False:
        return want.page_of([], 0)
    if matches is not None:
        where.append(matches)
    rows, total = await lists.fetch(VEHICLE_LIST, want, rows=actor.select(Vehicle).where(*where),
                                    count=actor.count(Vehicle).where(*where))
    return want.page_of([_vehicle_record(r) for r in rows], total)


@dataclass(frozen=True)
class DocumentFilter:
    """What the sale and visit lists keep; `since` and `before` bound the delivery (交车) or the departure (离站)."""

    customer_id: int | None = None
    vehicle_id: int | None = None
    store_id: int | None = None
    since: datetime | None = None
    before: datetime | None = None
    include_cancelled: bool = False


async def list_sales(
    *, actor: Scope, filters: DocumentFilter = DocumentFilter(), want: lists.ListQuery | None = None,
) -> lists.Page[SaleRecord]:
    """Deliveries in scope, latest delivery first."""
    return await _documents(
        actor, Sale, Sale.delivered_at, _sale_record, filters, since=time_filter("delivered_from", filters.since),
        before=time_filter("delivered_before", filters.before), spec=SALE_LIST, want=want,
    )


async def list_visits(
    *, actor: Scope, filters: DocumentFilter = DocumentFilter(), want: lists.ListQuery | None = None,
) -> lists.Page[VisitRecord]:
    """Service visits in scope, latest departure (离站) first."""
    return await _documents(
        actor, ServiceVisit, ServiceVisit.left_at, _visit_record, filters,
        since=time_filter("left_from", filters.since), before=time_filter("left_before", filters.before),
        spec=VISIT_LIST, want=want,
    )


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------


async def find_or_create_customer(
    *,
    actor: Scope,
    store_id: int | None,
    name: str,
    mobile: str,
    id_number: str = "",
    kind: str = "private",
    source: str = "manual",
    **fields: Any,
) -> int:
    """The id of the store's active customer with this mobile (or ID number), creating one if none.

    Used where a customer turns up by phone (call center, complaint intake): the
    agent gives what the caller says and gets a profile to link to.
    """
    actor.require_role(*CUSTOMER_EDITORS)
    store = writable_store(actor, store_id)
    values = clean_customer(
        {"name": name, "mobile": mobile, "id_number": id_number, "kind": kind, "source": source, **fields},
        kind=kind,
    )
    _require_name(values)
    async with transaction():
        await _lock_customer_keys(store.group_id, values)
        existing = await _store_customer_by_keys(store, values.get("mobile", ""), values.get("id_number", ""))
        if existing is not None:
            return existing
        return await _insert_customer(store, values)


async def create_customer(*, actor: Scope, store_id: int | None = None, **fields: Any) -> int:
    """A new customer profile in a store; a second active profile with the same mobile or
    ID number in the same store is a Conflict naming the existing one."""
    actor.require_role(*CUSTOMER_EDITORS)
    store = writable_store(actor, store_id)
    kind = fields.get("kind", "private")
    values = clean_customer({"kind": kind, **fields}, kind=kind)
    _require_name(values)
    async with transaction():
        await _lock_customer_keys(store.group_id, values)
        existing = await _store_customer_by_keys(store, values.get("mobile", ""), values.get("id_number", ""))
        if existing is not None:
            raise _duplicate_customer(existing)
        return await _insert_customer(store, values)


async def update_customer(*, actor: Scope, customer_id: int, **changes: Any) -> CustomerRecord:
    """Change fields of a profile; a changed mobile or ID number re-links the group identity.

    Callback agents may not (they file a correction request instead, `crm.customers.corrections`)."""
    actor.require_role(*CUSTOMER_UPDATERS)
    async with transaction():
        row = await _visible_row(actor, Customer, customer_id)
        await change_customer(row=row, changes=changes, via="edit", author=Author.of(actor))
    return await get_customer(actor=actor, customer_id=customer_id)


async def change_customer(
    *, row: dict, changes: dict[str, Any], via: str, author: Author, correction_id: int | None = None
) -> dict:
    """Check and write `changes` to a customer row the caller already read through its scope, with a
    history row per changed field. Who may do it is the caller's decision; returns the values written."""
    customer_id = row["id"]
    kind = changes.get("kind", row["kind"])
    check = dict(changes)
    if "kind" in changes and "id_number" not in changes and row["id_number"]:
        check["id_number"] = row["id_number"]  # re-check the number against the new kind
    values = clean_customer(check, kind=kind)
    if "name" in values:
        _require_name(values)
    store = StoreRef(row["store"], row["group"])
    mobile = values.get("mobile", row["mobile"])
    id_number = values.get("id_number", row["id_number"])
    if (mobile, id_number) != (row["mobile"], row["id_number"]):
        await _lock_customer_keys(row["group"], {"mobile": mobile, "id_number": id_number})
        existing = await _store_customer_by_keys(store, mobile, id_number, excluding=customer_id)
        if existing is not None:
            raise _duplicate_customer(existing)
        values["group_identity"] = await relink_identity(
            row, mobile=mobile, id_number=id_number, name=values.get("name", row["name"])
        )
    fill_from_id_number({**row, **values}, values)
    await record_changes(row=row, values=values, via=via, author=author, customer_id=customer_id,
                         correction_id=correction_id)
    values["updated_at"] = clock.now()
    await Scope.of(row).update(Customer, values, use_auto_update=False).where(Customer.id == customer_id)
    return values


async def deactivate_customer(*, actor: Scope, customer_id: int) -> None:
    """Deactivate (停用) rather than delete: complaints and callbacks keep their customer."""
    actor.require_role(*CUSTOMER_UPDATERS)
    async with transaction():
        row = await _visible_row(actor, Customer, customer_id)
        await record_changes(row=row, values={"active": False}, via="edit", author=Author.of(actor),
                             customer_id=customer_id)
        await actor.filter(Customer.update({Customer.active: False, Customer.updated_at: clock.now()}), Customer).where(
            Customer.id == customer_id
        )


# ---------------------------------------------------------------------------------------------
# Vehicles
# ---------------------------------------------------------------------------------------------


async def create_vehicle(*, actor: Scope, customer_id: int, vin: str, **fields: Any) -> int:
    """A vehicle of a customer, in the customer's store; one active vehicle per VIN and store."""
    actor.require_role(*CUSTOMER_EDITORS)
    values = clean_vehicle({"vin": vin, **fields})
    async with transaction():
        owner = await _referenced(actor, Customer, customer_id, "customer_id")
        _require_active_customer(owner)
        await _require_free_vin(owner, values["vin"])
        now = clock.now()
        vehicle = Vehicle(
            group=owner["group"], store=owner["store"], customer=customer_id,
            created_at=now, updated_at=now, **values,
        )
        await vehicle.save()
        return vehicle.id


async def update_vehicle(
    *, actor: Scope, vehicle_id: int, customer_id: int | None = None, **changes: Any
) -> VehicleRecord:
    """Change a vehicle; `customer_id` hands it to another customer of the same store (过户)."""
    actor.require_role(*CUSTOMER_UPDATERS)
    async with transaction():
        row = await _visible_row(actor, Vehicle, vehicle_id)
        owner = None
        if customer_id is not None and customer_id != row["customer"]:
            owner = await _referenced(actor, Customer, customer_id, "customer_id")
            _require_same_store(owner, row, "customer_id")
            _require_active_customer(owner)
        await change_vehicle(row=row, changes=changes, via="edit", author=Author.of(actor),
                             new_owner=owner["id"] if owner else None)
    return await get_vehicle(actor=actor, vehicle_id=vehicle_id)


async def change_vehicle(
    *, row: dict, changes: dict[str, Any], via: str, author: Author, correction_id: int | None = None,
    new_owner: int | None = None,
) -> dict:
    """Check and write `changes` to a vehicle row the caller already read through its scope, with history
    (on the customer who had the vehicle). Who may do it is the caller's decision."""
    values = clean_vehicle(changes)
    if new_owner is not None:
        values["customer"] = new_owner
    if "vin" in values and values["vin"] != row["vin"] and row["active"]:
        await _require_free_vin(row, values["vin"])
    await record_changes(row=row, values=values, via=via, author=author, customer_id=row["customer"],
                         vehicle_id=row["id"], correction_id=correction_id)
    values["updated_at"] = clock.now()
    await Scope.of(row).update(Vehicle, values, use_auto_update=False).where(Vehicle.id == row["id"])
    return values


async def deactivate_vehicle(*, actor: Scope, vehicle_id: int) -> None:
    """The store no longer looks after this vehicle (sold on, scrapped); its history stays."""
    actor.require_role(*CUSTOMER_UPDATERS)
    async with transaction():
        row = await _visible_row(actor, Vehicle, vehicle_id)
        await record_changes(row=row, values={"active": False}, via="edit", author=Author.of(actor),
                             customer_id=row["customer"], vehicle_id=vehicle_id)
        await actor.filter(Vehicle.update({Vehicle.active: False, Vehicle.updated_at: clock.now()}), Vehicle).where(
            Vehicle.id == vehicle_id
        )


# ---------------------------------------------------------------------------------------------
# Deliveries (交车)
# ---------------------------------------------------------------------------------------------


async def record_sale(
    *, actor: Scope, customer_id: int, vehicle_id: int, delivered_at: datetime, **fields: Any
) -> int:
    """Record a sale delivered to a customer; fires `sale_recorded` inside the transaction."""
    actor.require_role(*CUSTOMER_EDITORS)
    values = clean_sale({"delivered_at": delivered_at, **fields})
    async with transaction():
        customer, vehicle = await _customer_and_vehicle(actor, customer_id, vehicle_id)
        if values.get("order_no"):
            await _require_free_number(Sale, Sale.order_no, customer, values["order_no"], "order_no")
        now = clock.now()
        sale = Sale(
            group=customer["group"], store=customer["store"], customer=customer_id, vehicle=vehicle["id"],
            created_at=now, updated_at=now, **values,
        )
        await sale.save()
        await events.sale_recorded.send(group_id=customer["group"], store_id=customer["store"], sale_id=sale.id)
        return sale.id


async def update_sale(*, actor: Scope, sale_id: int, **changes: Any) -> SaleRecord:
    """Correct a delivery; fires `sale_changed` so deadlines derived from it are recomputed."""
    actor.require_role(*CUSTOMER_EDITORS)
    values = clean_sale(changes)
    async with transaction():
        row = await _visible_row(actor, Sale, sale_id)
        _require_not_cancelled(row)
        if values.get("order_no") and values["order_no"] != row["order_no"]:
            await _require_free_number(Sale, Sale.order_no, row, values["order_no"], "order_no")
        if values:
            values["updated_at"] = clock.now()
            await actor.filter(Sale.update(values, use_auto_update=False), Sale).where(Sale.id == sale_id)
            await events.sale_changed.send(group_id=row["group"], store_id=row["store"], sale_id=sale_id)
    return await get_sale(actor=actor, sale_id=sale_id)


async def cancel_sale(*, actor: Scope, sale_id: int) -> None:
    """Cancel a delivery recorded by mistake; fires `sale_cancelled`. Cancelling twice is a no-op."""
    actor.require_role(*CUSTOMER_EDITORS)
    async with transaction():
        row = await _visible_row(actor, Sale, sale_id)
        if row["cancelled_at"] is not None:
            return
        now = clock.now()
        await actor.filter(Sale.update({Sale.cancelled_at: now, Sale.updated_at: now}), Sale).where(Sale.id == sale_id)
        await events.sale_cancelled.send(group_id=row["group"], store_id=row["store"], sale_id=sale_id)


# ---------------------------------------------------------------------------------------------
# Service visits (维修/保养, 离站)
# ---------------------------------------------------------------------------------------------


async def record_visit(
    *, actor: Scope, customer_id: int, vehicle_id: int, left_at: datetime, **fields: Any
) -> int:
    """Record a workshop visit up to the customer leaving (离站); fires `visit_recorded`."""
    actor.require_role(*CUSTOMER_EDITORS)
    values = clean_visit({"left_at": left_at, **fields})
    async with transaction():
        customer, vehicle = await _customer_and_vehicle(actor, customer_id, vehicle_id)
        if values.get("repair_order_no"):
            await _require_free_number(
                ServiceVisit, ServiceVisit.repair_order_no, customer, values["repair_order_no"],
                "repair_order_no",
            )
        now = clock.now()
        visit = ServiceVisit(
            group=customer["group"], store=customer["store"], customer=customer_id, vehicle=vehicle["id"],
            created_at=now, updated_at=now, **values,
        )
        await visit.save()
        await events.visit_recorded.send(group_id=customer["group"], store_id=customer["store"], visit_id=visit.id)
        return visit.id


async def update_visit(*, actor: Scope, visit_id: int, **changes: Any) -> VisitRecord:
    """Correct a visit (e.g. the 离站 time); fires `visit_changed`."""
    actor.require_role(*CUSTOMER_EDITORS)
    values = clean_visit(changes, partial=True)
    async with transaction():
        row = await _visible_row(actor, ServiceVisit, visit_id)
        _require_not_cancelled(row)
        check_visit_times({**row, **values})
        number = values.get("repair_order_no")
        if number and number != row["repair_order_no"]:
            await _require_free_number(
                ServiceVisit, ServiceVisit.repair_order_no, row, number, "repair_order_no"
            )
        if values:
            values["updated_at"] = clock.now()
            await actor.filter(ServiceVisit.update(values, use_auto_update=False), ServiceVisit).where(
                ServiceVisit.id == visit_id
            )
            await events.visit_changed.send(group_id=row["group"], store_id=row["store"], visit_id=visit_id)
    return await get_visit(actor=actor, visit_id=visit_id)


async def cancel_visit(*, actor: Scope, visit_id: int) -> None:
    """Cancel a visit recorded by mistake; fires `visit_cancelled`. Cancelling twice is a no-op."""
    actor.require_role(*CUSTOMER_EDITORS)
    async with transaction():
        row = await _visible_row(actor, ServiceVisit, visit_id)
        if row["cancelled_at"] is not None:
            return
        now = clock.now()
        await actor.filter(
            ServiceVisit.update({ServiceVisit.cancelled_at: now, ServiceVisit.updated_at: now}), ServiceVisit
        ).where(ServiceVisit.id == visit_id)
        await events.visit_cancelled.send(group_id=row["group"], store_id=row["store"], visit_id=visit_id)


# ---------------------------------------------------------------------------------------------
# Helpers: scope and references
# ---------------------------------------------------------------------------------------------


class StoreRef:
    """The store a write goes to, with its group (both already checked against the scope)."""

    __slots__ = ("id", "group_id")

    def __init__(self, store_id: int, group_id: int) -> None:
        self.id, self.group_id = store_id, group_id


def writable_store(actor: Scope, store_id: int | None) -> StoreRef:
    """Store staff write to their own store; group-level callers must name a store they can see.

    An unknown or invisible store is a field problem (400): the body is wrong,
    and the message is the same for both so that store ids leak nothing.
    """
    if store_id is None:
        if actor.is_group_level or actor.home_store_id is None:
            raise InvalidInput.one("store_id", "请选择门店", "Choose a store")
        store_id = actor.home_store_id
    if actor.group_id is None:
        raise InvalidInput.one("store_id", "门店不存在或无权访问", "Unknown store")
    return StoreRef(_store_filter(actor, store_id), actor.group_id)


def _store_filter(actor: Scope, store_id: int) -> int:
    """A store named as a list filter; unknown or invisible is a 400 on `store_id`, like in a body."""
    if not actor.can_see_store(store_id):
        raise InvalidInput.one("store_id", "门店不存在或无权访问", "Unknown store")
    return store_id


async def _visible_row(actor: Scope, table: type[Table], row_id: int) -> dict:
    return await actor.row(table, row_id)


async def _referenced(actor: Scope, table: type[Table], row_id: int, field: str) -> dict:
    """A row named in a request body: out of scope is a 400 on that field, not a 404."""
    try:
        return await _visible_row(actor, table, row_id)
    except NotFound:
        raise InvalidInput.one(field, "引用的记录不存在或无权访问", "Unknown id") from None


async def _customer_and_vehicle(actor: Scope, customer_id: int, vehicle_id: int) -> tuple[dict, dict]:
    customer = await _referenced(actor, Customer, customer_id, "customer_id")
    vehicle = await _referenced(actor, Vehicle, vehicle_id, "vehicle_id")
    _require_same_store(customer, vehicle, "vehicle_id")
    _require_active_customer(customer)
    return customer, vehicle


def _require_same_store(a: dict, b: dict, field: str) -> None:
    if a["store"] != b["store"]:
        raise InvalidInput.one(field, "客户与车辆不属于同一门店", "Customer and vehicle belong to different stores")


def _require_active_customer(customer: dict) -> None:
    if not customer["active"]:
        raise Conflict("客户档案已停用", "The customer profile is deactivated", {"customer_id": customer["id"]})


def _require_not_cancelled(row: dict) -> None:
    if row["cancelled_at"] is not None:
        raise Conflict("记录已作废，不能修改", "The record is cancelled and cannot be changed")


async def _require_free_vin(owner: dict, vin: str) -> None:
    """No other live vehicle with this VIN in the store of `owner` (a row read through the scope)."""
    await lock_keys(f"vin:{owner['store']}:{vin}")
    existing = await Scope.of(owner).select(Vehicle, Vehicle.id).where(
        Vehicle.vin == vin, Vehicle.active.eq(True)
    ).first()
    if existing is not None:
        raise Conflict(
            "该门店已有此车架号（VIN）的车辆", "This store already has a vehicle with this VIN",
            {"field": "vin", "vehicle_id": existing["id"]},
        )


async def _require_free_number(table: type[Table], column, owner: dict, number: str, field: str) -> None:
    """DMS document numbers (订单号, 工单号) are unique per store (that of `owner`, a row read through the scope)
    among live records."""
    await lock_keys(f"{field}:{owner['store']}:{number}")
    existing = await Scope.of(owner).select(table, table.id).where(
        column == number, table.cancelled_at.is_null()
    ).first()
    if existing is not None:
        raise Conflict(
            "该单号在本门店已存在", "This document number already exists in the store",
            {"field": field, "id": existing["id"]},
        )


def _require_name(values: dict) -> None:
    if not values.get("name"):
        raise InvalidInput.one("name", "请填写客户姓名或单位名称", "Name is required")


def _duplicate_customer(existing_id: int) -> Conflict:
    return Conflict(
        "本门店已有相同手机号或证件号的客户档案",
        "The store already has a customer with this mobile or ID number",
        {"customer_id": existing_id},
    )


# ---------------------------------------------------------------------------------------------
# Helpers: identities (集团客户)
# ---------------------------------------------------------------------------------------------


async def _lock_customer_keys(group_id: int, values: dict) -> None:
    """Customer keys are locked group-wide: they decide both the store profile and the group identity."""
    await lock_keys(  # by keyed hash: the numbers themselves never reach the database in clear
        *(f"{key}:{group_id}:{vault.lookup(values[key])}" for key in ("mobile", "id_number") if values.get(key))
    )


async def _store_customer_by_keys(
    store: StoreRef, mobile: str, id_number: str, excluding: int | None = None
) -> int | None:
    """The store's active customer with this ID number, else with this mobile."""
    for column, key in ((Customer.id_number_hash, id_number), (Customer.mobile_hash, mobile)):
        if not key:
            continue
        query = Scope.system(store.group_id, store.id).select(Customer, Customer.id).where(
            column == vault.lookup(key), Customer.active.eq(True)
        )
        if excluding is not None:
            query = query.where(Customer.id != excluding)
        row = await query.order_by(Customer.id).first()
        if row is not None:
            return row["id"]
    return None


async def _insert_customer(store: StoreRef, values: dict) -> int:
    fill_from_id_number(values, values)
    identity_id = await link_identity(
        group_id=store.group_id, mobile=values.get("mobile", ""), id_number=values.get("id_number", ""),
        name=values.get("name", ""),
    )
    now = clock.now()
    customer = vault.seal_row(Customer(
        group=store.group_id, store=store.id, group_identity=identity_id, created_at=now, updated_at=now, **values
    ))
    await customer.save()
    return customer.id


# ---------------------------------------------------------------------------------------------
# Helpers: search
# ---------------------------------------------------------------------------------------------


def _search_condition(actor: Scope, q: str):
    """The WHERE of a customer search: None for "everything", False for "nothing can match".

    Digits look like a phone (last 4+ digits) and may be the end of a VIN (6+);
    letters and digits may be a VIN or part of a plate; anything else is a name.
    Vehicle matches are a sub-select limited to the scope as well.
    Phones are sealed and found by keyed hashes (`crm.privacy.vault`): of the whole number (11 digits), else of
    its last 4 digits, so a term of 5 to 10 digits matches on its last 4.
    """
    term = q.strip()
    if not term:
        return None
    conditions = []
    digits = normalise_mobile(term)
    if digits.isdigit() and len(digits) >= 4:
        if len(digits) == 11:
            conditions += [Customer.mobile_hash == vault.lookup(digits), Customer.phone2_hash == vault.lookup(digits)]
        else:
            tail = vault.tail_lookup(digits)
            conditions += [Customer.mobile_tail == tail, Customer.phone2_tail == tail]
    vehicle_match = _vehicle_condition(term)
    if vehicle_match not in (None, False):
        owners = actor.filter(Vehicle.select(Vehicle.customer), Vehicle).where(vehicle_match)
        conditions.append(Customer.id.is_in(owners))
    if not digits.isdigit():
        name = like_term(term)[:50]
        if name:
            conditions.append(_contains(Customer.name, name))
    if not conditions:
        return False
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined | condition
    return combined


def _vehicle_condition(q: str):
    """VIN (full, or last 6+ characters) or plate (3+ characters, anywhere in the plate)."""
    token = re.sub(r"[\s\-·•]", "", q).upper()
    conditions = []
    if re.fullmatch(r"[A-Z0-9]{6,17}", token):
        conditions.append(Vehicle.vin == token if len(token) == 17 else Vehicle.vin.like(f"%{token}"))
    if re.fullmatch(r"[A-Z0-9\u4e00-\u9fff]{3,8}", token):
        conditions.append(Vehicle.plate.like(f"%{token}%"))
    if not conditions:
        return False
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined | condition
    return combined


def _contains(column, term: str):
    if column._meta.engine_type in ("postgres", "cockroach"):
        return column.ilike(f"%{term}%")
    return column.like(f"%{term}%")


async def _summaries(actor: Scope, customer_ids: list[int]) -> list[CustomerSummary]:
    if not customer_ids:
        return []
    rows = await actor.select(
        Customer, Customer.id, Customer.store, Customer.group_identity, Customer.kind, Customer.name, Customer.mobile,
        Customer.active,
    ).where(Customer.id.is_in(customer_ids))
    vehicles = await actor.select(Vehicle, Vehicle.customer, Vehicle.plate, Vehicle.vin).where(
        Vehicle.customer.is_in(customer_ids), Vehicle.active.eq(True)
    ).order_by(Vehicle.id)
    plates: dict[int, list[str]] = defaultdict(list)
    vins: dict[int, list[str]] = defaultdict(list)
    for v in vehicles:
        if v["plate"]:
            plates[v["customer"]].append(v["plate"])
        vins[v["customer"]].append(v["vin"])
    names = await _store_names({r["store"] for r in rows})
    by_id = {r["id"]: r for r in rows}
    return shield(actor, [
        CustomerSummary(
            id=cid, store_id=r["store"], store_name=names.get(r["store"], ""), identity_id=r["group_identity"],
            kind=r["kind"], name=r["name"], mobile=r["mobile"], plates=plates[cid], vins=vins[cid],
            active=r["active"],
        )
        for cid in customer_ids
        if (r := by_id.get(cid)) is not None
    ])


# ---------------------------------------------------------------------------------------------
# Helpers: histories and records
# ---------------------------------------------------------------------------------------------


# A customer's history in its store, read with the customer in one statement (see `tenants.scope.Rows`).
_HISTORY = {
    "vehicles": (Rows(Vehicle, Vehicle.customer, order=Vehicle.id), Customer.id),
    "sales": (Rows(Sale, Sale.customer, unset=Sale.cancelled_at, order=Sale.delivered_at, descending=True),
              Customer.id),
    "visits": (Rows(ServiceVisit, ServiceVisit.customer, unset=ServiceVisit.cancelled_at,
                    order=ServiceVisit.left_at, descending=True), Customer.id),
    "store_rows": (Rows(Store, Store.id), Customer.store),
}
_PAGE = Rows(Customer, Customer.id, nested=_HISTORY)
_SAME_PERSON = Rows(Customer, Customer.group_identity, order=Customer.id, nested=_HISTORY)


def _histories(actor: Scope, customers: list[dict]) -> list[StoreHistory]:
    """Each customer's store history (read with `_HISTORY`), in the order given."""
    return shield(actor, [
        StoreHistory(
            store_id=c["store"],
            store_name=c["store_rows"][0]["name"] if c["store_rows"] else "",
            customer=_customer_record(c),
            vehicles=[_vehicle_record(v) for v in c["vehicles"]],
            sales=[_sale_record(s) for s in c["sales"]],
            visits=[_visit_record(x) for x in c["visits"]],
        )
        for c in customers
    ])


async def _store_names(store_ids: set[int]) -> dict[int, str]:
    if not store_ids:
        return {}
    rows = await Store.select(Store.id, Store.name).where(Store.id.is_in(sorted(store_ids)))
    return {r["id"]: r["name"] for r in rows}


async def _documents(
    actor: Scope, table: type[Table], when, convert, filters: DocumentFilter, *, since: datetime | None,
    before: datetime | None, spec: lists.ListSpec, want: lists.ListQuery | None,
) -> lists.Page:
    """Sales and visits are listed alike: filters (the time bounds checked), then newest first by their own time
    column."""
    want = want or spec.parse()
    where = []
    if filters.customer_id is not None:
        where.append(table.customer == filters.customer_id)
    if filters.vehicle_id is not None:
        where.append(table.vehicle == filters.vehicle_id)
    if filters.store_id is not None:
        where.append(table.store == _store_filter(actor, filters.store_id))
    if since is not None:
        where.append(when >= since)
    if before is not None:
        where.append(when < before)
    if not filters.include_cancelled:
        where.append(table.cancelled_at.is_null())
    rows, total = await lists.fetch(spec, want, rows=actor.select(table).where(*where),
                                    count=actor.count(table).where(*where))
    return want.page_of([convert(r) for r in rows], total)


def _customer_record(row: dict) -> CustomerRecord:
    return CustomerRecord(
        id=row["id"], group_id=row["group"], store_id=row["store"], identity_id=row["group_identity"],
        **{f: row[f] for f in CUSTOMER_FIELDS},
        active=row["active"], created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _vehicle_record(row: dict) -> VehicleRecord:
    return VehicleRecord(
        id=row["id"], store_id=row["store"], customer_id=row["customer"],
        **{f: row[f] for f in VEHICLE_FIELDS},
        active=row["active"], created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _sale_record(row: dict) -> SaleRecord:
    return SaleRecord(
        id=row["id"], store_id=row["store"], customer_id=row["customer"], vehicle_id=row["vehicle"],
        **{f: row[f] for f in SALE_FIELDS},
        cancelled_at=row["cancelled_at"], created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _visit_record(row: dict) -> VisitRecord:
    return VisitRecord(
        id=row["id"], store_id=row["store"], customer_id=row["customer"], vehicle_id=row["vehicle"],
        **{f: row[f] for f in VISIT_FIELDS},
        cancelled_at=row["cancelled_at"], created_at=row["created_at"], updated_at=row["updated_at"],
    )
