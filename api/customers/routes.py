"""Customer records API (客户档案) under /api/v1: customers, vehicles, deliveries, service visits, import.

Thin on purpose: each handler turns the request into one call of
`crm.customers.service` (or the importer) and returns what it gives back.
Request bodies are msgspec Structs that reject unknown fields; the service
does the checks that need rules (VIN check digit, ID checksum, scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from api.auth import requires
from api.errors import import_answer
from api.lists import PageParam, PageSizeParam, SortParam
from api.privacy.routes import RevealRequest, Revealed
from api.params import (
    Id,
    IdParam,
    OptionalIdParam,
    OptionalStoreIdQuery,
    text,
    text_param,
)
from crm.customers import corrections, history, importer, service
from crm.imports import service as imports
from crm.lists import Page
from crm.customers.corrections import CorrectionItem
from crm.customers.fields import Field, fields_of
from crm.customers.history import Change
from crm.customers.records import (
    CustomerProfile,
    CustomerRecord,
    CustomerSummary,
    IdentityHistory,
    SaleRecord,
    VehicleRecord,
    VisitRecord,
)
from tenants.scope import Scope

EDITORS = [requires(*service.CUSTOMER_EDITORS)]
UPDATERS = [requires(*service.CUSTOMER_UPDATERS)]  # callback agents file correction requests instead



Instant = Annotated[datetime, msgspec.Meta(tz=True)]
Money = Decimal  # the service rejects negative amounts with a field message
UNSET = msgspec.UNSET
Unset = msgspec.UnsetType


Mileage = Annotated[int, msgspec.Meta(ge=0, le=2_000_000)]


def _field_type(f: Field) -> Any:
    """A field's type in a request body, from its definition in `crm.customers.fields`."""
    if f.kind == "text":
        return text(f.max_len, 1 if f.required else 0)
    if f.kind == "choice":
        return Literal[tuple(f.choices or ())]
    if f.kind == "flag":
        return bool
    value = {"date": date, "instant": Instant, "money": Money, "mileage": Mileage}[f.kind]
    return value if f.required else value | None


def _create(name: str, record: str, ids: list[tuple], doc: str) -> Any:
    """A new record's body: the record's fields, each with its default unless required."""
    body = [(f.name, _field_type(f)) if f.required else (f.name, _field_type(f), f.default) for f in fields_of(record)]
    return msgspec.defstruct(name, [*ids, *body], kw_only=True, forbid_unknown_fields=True, module=__name__,
                             namespace={"__doc__": doc})


def _update(name: str, record: str, ids: list[tuple], doc: str) -> Any:
    """A change's body: only the fields present are changed."""
    body = [(f.name, _field_type(f) | Unset, UNSET) for f in fields_of(record)]
    return msgspec.defstruct(name, [*ids, *body], kw_only=True, forbid_unknown_fields=True, module=__name__,
                             namespace={"__doc__": doc})


CustomerCreate = _create("CustomerCreate", "customer", [("store_id", Id | None, None)],
                         "A new customer profile; group-level callers must give `store_id`.")
CustomerUpdate = _update("CustomerUpdate", "customer", [], "Only the fields present are changed.")
VehicleCreate = _create("VehicleCreate", "vehicle", [("customer_id", Id)], "A vehicle of a customer of the store.")
VehicleUpdate = _update("VehicleUpdate", "vehicle", [("customer_id", Id | Unset, UNSET)],
                        "`customer_id` hands the vehicle to another customer of the same store (过户).")
SaleCreate = _create("SaleCreate", "sale", [("customer_id", Id), ("vehicle_id", Id)],
                     "A delivery (交车); `delivered_at` with its time zone, e.g. 2025-03-01T10:30:00+08:00.")
SaleUpdate = _update("SaleUpdate", "sale", [], "Only the fields present are changed.")
VisitCreate = _create("VisitCreate", "visit", [("customer_id", Id), ("vehicle_id", Id)],
                      "A service visit; `left_at` is when the customer left (离站).")
VisitUpdate = _update("VisitUpdate", "visit", [], "Only the fields present are changed.")


@dataclass
class ImportForm:
    """Multipart form of an import: the DMS export and what to do with it."""

    file: Annotated[UploadFile, Parameter(description=(
        "The DMS export: CSV (UTF-8 or GBK) or XLSX, one row per customer, vehicle, delivery or visit."))]
    store_id: Id | None = None
    accept_valid_rows: bool = False
    sheet: text(100) | None = None  # XLSX only; by default the first sheet with recognisable headers


# --- customers ------------------------------------------------------------------------------


@get("/api/v1/customers", tags=["customers"])
async def search_customers(
    actor: Scope,
    q: text_param(50) = "",
    store_id: OptionalIdParam = None,
    include_inactive: bool = False,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[CustomerSummary]:
    """Search by phone (full or last 4+ digits), plate, VIN (full or last 6+) or name; empty `q` lists the newest.
    One page with the total; `sort`: `created` (default `-created`), `name`, `kind`, `store`; `-key` descending."""
    want = service.CUSTOMER_LIST.parse(sort=sort, page=page, page_size=page_size)
    filters = service.CustomerFilter(q=q, store_id=store_id, include_inactive=include_inactive)
    return await service.search_customers_page(actor=actor, filters=filters, want=want)


@post("/api/v1/customers", guards=EDITORS, tags=["customers"])
async def create_customer(actor: Scope, data: CustomerCreate) -> CustomerRecord:
    """Create a customer record (客户档案) in a store; the same person at another store of the group is linked."""
    fields = msgspec.structs.asdict(data)
    store_id = fields.pop("store_id")
    customer_id = await service.create_customer(actor=actor, store_id=store_id, **fields)
    return await service.get_customer(actor=actor, customer_id=customer_id)


@get("/api/v1/customers/{customer_id:int}", tags=["customers"])
async def customer_profile(actor: Scope, customer_id: IdParam) -> CustomerProfile:
    """Profile, vehicles, deliveries and visits; group-level callers also get the other stores' profiles."""
    return await service.customer_profile(actor=actor, customer_id=customer_id)


@get("/api/v1/customers/{customer_id:int}/record", tags=["customers"])
async def customer_record(actor: Scope, customer_id: IdParam) -> CustomerRecord:
    """The customer's own record only — one scoped row, for integrations that do not want the history."""
    return await service.get_customer(actor=actor, customer_id=customer_id)


@patch("/api/v1/customers/{customer_id:int}", guards=UPDATERS, tags=["customers"])
async def update_customer(actor: Scope, customer_id: IdParam, data: CustomerUpdate) -> CustomerRecord:
    """Change fields of a customer record; the change is audited and history kept."""
    return await service.update_customer(actor=actor, customer_id=customer_id, **_present(data))


@delete("/api/v1/customers/{customer_id:int}", guards=UPDATERS, tags=["customers"])
async def deactivate_customer(actor: Scope, customer_id: IdParam) -> None:
    """Deactivates (停用) the profile; its history stays."""
    await service.deactivate_customer(actor=actor, customer_id=customer_id)


@post("/api/v1/customers/{customer_id:int}/reveal", tags=["customers"], status_code=200)
async def reveal_customer_field(actor: Scope, customer_id: IdParam, data: RevealRequest) -> Revealed:
    """One personal field (`mobile`, `phone2`, `id_number`) in clear, for a role allowed to see it: the reveal
    (who, whose, when, why) is written to the access log and counts against the caller's hourly limit (429)."""
    value = await service.reveal_customer_field(actor=actor, customer_id=customer_id, field=data.field,
                                                reason=data.reason)
    return Revealed(field=data.field, value=value)


@get("/api/v1/customer-identities/{identity_id:int}", tags=["customers"])
async def identity_history(actor: Scope, identity_id: IdParam) -> IdentityHistory:
    """One group-wide customer across every store the caller may see (HQ's view)."""
    return await service.identity_history(actor=actor, identity_id=identity_id)


# --- vehicles -------------------------------------------------------------------------------


@get("/api/v1/vehicles", tags=["customers"])
async def list_vehicles(
    actor: Scope,
    customer_id: OptionalIdParam = None,
    store_id: OptionalIdParam = None,
    q: text_param(20) = "",
    include_inactive: bool = False,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[VehicleRecord]:
    """The vehicles of the stores the caller may see, filtered by customer, store or a VIN / plate search; one page
    with the total. `sort`: `created` (default `-created`), `plate`, `vin`, `model`."""
    want = service.VEHICLE_LIST.parse(sort=sort, page=page, page_size=page_size)
    filters = service.VehicleFilter(customer_id=customer_id, store_id=store_id, q=q, include_inactive=include_inactive)
    return await service.list_vehicles(actor=actor, filters=filters, want=want)


@post("/api/v1/vehicles", guards=EDITORS, tags=["customers"])
async def create_vehicle(actor: Scope, data: VehicleCreate) -> VehicleRecord:
    """Register a vehicle (VIN with a valid check digit, mainland plate) to a customer."""
    fields = msgspec.structs.asdict(data)
    vehicle_id = await service.create_vehicle(actor=actor, **fields)
    return await service.get_vehicle(actor=actor, vehicle_id=vehicle_id)


@get("/api/v1/vehicles/{vehicle_id:int}", tags=["customers"])
async def get_vehicle(actor: Scope, vehicle_id: IdParam) -> VehicleRecord:
    """One vehicle record."""
    return await service.get_vehicle(actor=actor, vehicle_id=vehicle_id)


@patch("/api/v1/vehicles/{vehicle_id:int}", guards=UPDATERS, tags=["customers"])
async def update_vehicle(actor: Scope, vehicle_id: IdParam, data: VehicleUpdate) -> VehicleRecord:
    """Change fields of a vehicle record (plate, colour, insurance…); audited."""
    return await service.update_vehicle(actor=actor, vehicle_id=vehicle_id, **_present(data))


@delete("/api/v1/vehicles/{vehicle_id:int}", guards=UPDATERS, tags=["customers"])
async def deactivate_vehicle(actor: Scope, vehicle_id: IdParam) -> None:
    """Deactivate a vehicle (sold on, scrapped); its history stays."""
    await service.deactivate_vehicle(actor=actor, vehicle_id=vehicle_id)


# --- deliveries -----------------------------------------------------------------------------


@get("/api/v1/sales", tags=["customers"])
async def list_sales(
    actor: Scope,
    customer_id: OptionalIdParam = None,
    vehicle_id: OptionalIdParam = None,
    store_id: OptionalIdParam = None,
    delivered_from: datetime | None = None,
    delivered_before: datetime | None = None,
    include_cancelled: bool = False,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[SaleRecord]:
    """Deliveries (交车) of the stores the caller may see, filtered by customer, vehicle, store or delivery time;
    one page with the total. `sort`: `delivered` (default `-delivered`), `created`."""
    want = service.SALE_LIST.parse(sort=sort, page=page, page_size=page_size)
    filters = service.DocumentFilter(customer_id=customer_id, vehicle_id=vehicle_id, store_id=store_id,
                                     since=delivered_from, before=delivered_before, include_cancelled=include_cancelled)
    return await service.list_sales(actor=actor, filters=filters, want=want)


@post("/api/v1/sales", guards=EDITORS, tags=["customers"])
async def record_sale(actor: Scope, data: SaleCreate) -> SaleRecord:
    """Record a delivery; the delivery callbacks are planned from it."""
    sale_id = await service.record_sale(actor=actor, **msgspec.structs.asdict(data))
    return await service.get_sale(actor=actor, sale_id=sale_id)


@get("/api/v1/sales/{sale_id:int}", tags=["customers"])
async def get_sale(actor: Scope, sale_id: IdParam) -> SaleRecord:
    """One delivery."""
    return await service.get_sale(actor=actor, sale_id=sale_id)


@patch("/api/v1/sales/{sale_id:int}", guards=EDITORS, tags=["customers"])
async def update_sale(actor: Scope, sale_id: IdParam, data: SaleUpdate) -> SaleRecord:
    """Change a delivery (e.g. its time); its planned callbacks follow."""
    return await service.update_sale(actor=actor, sale_id=sale_id, **_present(data))


@delete("/api/v1/sales/{sale_id:int}", guards=EDITORS, tags=["customers"])
async def cancel_sale(actor: Scope, sale_id: IdParam) -> None:
    """Cancels (作废) a delivery recorded by mistake."""
    await service.cancel_sale(actor=actor, sale_id=sale_id)


# --- service visits -------------------------------------------------------------------------


@get("/api/v1/visits", tags=["customers"])
async def list_visits(
    actor: Scope,
    customer_id: OptionalIdParam = None,
    vehicle_id: OptionalIdParam = None,
    store_id: OptionalIdParam = None,
    left_from: datetime | None = None,
    left_before: datetime | None = None,
    include_cancelled: bool = False,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[VisitRecord]:
    """Service visits (维修保养) of the stores the caller may see, filtered by customer, vehicle, store or time; one
    page with the total. `sort`: `left` (default `-left`), `created`."""
    want = service.VISIT_LIST.parse(sort=sort, page=page, page_size=page_size)
    filters = service.DocumentFilter(customer_id=customer_id, vehicle_id=vehicle_id, store_id=store_id,
                                     since=left_from, before=left_before, include_cancelled=include_cancelled)
    return await service.list_visits(actor=actor, filters=filters, want=want)


@post("/api/v1/visits", guards=EDITORS, tags=["customers"])
async def record_visit(actor: Scope, data: VisitCreate) -> VisitRecord:
    """Record a service visit; the service callbacks are planned from it."""
    visit_id = await service.record_visit(actor=actor, **msgspec.structs.asdict(data))
    return await service.get_visit(actor=actor, visit_id=visit_id)


@get("/api/v1/visits/{visit_id:int}", tags=["customers"])
async def get_visit(actor: Scope, visit_id: IdParam) -> VisitRecord:
    """One service visit."""
    return await service.get_visit(actor=actor, visit_id=visit_id)


@patch("/api/v1/visits/{visit_id:int}", guards=EDITORS, tags=["customers"])
async def update_visit(actor: Scope, visit_id: IdParam, data: VisitUpdate) -> VisitRecord:
    """Change a service visit; its planned callbacks follow."""
    return await service.update_visit(actor=actor, visit_id=visit_id, **_present(data))


@delete("/api/v1/visits/{visit_id:int}", guards=EDITORS, tags=["customers"])
async def cancel_visit(actor: Scope, visit_id: IdParam) -> None:
    """Cancel (作废) a service visit recorded by mistake; its planned callbacks are cancelled."""
    await service.cancel_visit(actor=actor, visit_id=visit_id)


# --- import ---------------------------------------------------------------------------------


@post(
    "/api/v1/customers/import",
    guards=[requires(*importer.IMPORTERS)],
    tags=["customers"],
    request_max_body_size=importer.MAX_FILE_BYTES + 64 * 1024,
)
async def import_records(
    actor: Scope, data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)]
) -> Response[Any]:
    """Import a DMS export (CSV in UTF-8 or GBK, or XLSX) of customers, vehicles, deliveries and visits.

    Answers 202 with `{"job_id", "url"}` at once: the file is imported by a background job, whose progress and
    per-row report `GET /api/v1/imports/{id}` gives. A file that cannot be read at all is a 400 on `file` here.
    A file with row errors imports nothing unless `accept_valid_rows` is true; then the valid rows are imported
    and the report lists the skipped ones. Re-importing a file creates no duplicates.
    """
    job = await imports.start_import(
        actor=actor,
        kind="customers",
        store_id=data.store_id,
        filename=data.file.filename or "",
        upload=data.file.file,  # spooled to disk by the multipart parser, copied to the kept file in chunks
        accept_valid_rows=data.accept_valid_rows,
        sheet=data.sheet or None,
    )
    return import_answer(job)


@get("/api/v1/customers/{customer_id:int}/changes", tags=["customers"])
async def customer_changes(
    actor: Scope, customer_id: IdParam, sort: SortParam = "", page: PageParam = 1, page_size: PageSizeParam = None
) -> Page[Change]:
    """The record's change history (变更记录), newest first: field, old and new value, who, when, how; one page
    with the total. `sort`: `changed` (default `-changed`), `field`, `old`, `new`, `by`, `via`."""
    want = history.CHANGE_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await history.customer_changes(actor=actor, customer_id=customer_id, want=want)


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    note: text(2000) = ""


@get("/api/v1/customer-corrections", tags=["customers"])
async def list_corrections(
    actor: Scope,
    which: Annotated[Literal["open", "unconfirmed", "all"], Parameter(query="state")] = "open",
    store_id: OptionalStoreIdQuery = None,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[CorrectionItem]:
    """Correction requests (修正表), one page with the total, with the time left and what the caller may do. `sort`:
    `due` (open: the default), `decided` (unconfirmed: the default), `created` (all: `-created`), `customer`,
    `field`, `department`, `found`, `state`; `-key` for descending."""
    filters = corrections.CorrectionFilter(state=which, store_id=store_id)
    want = corrections.CORRECTION_LIST.parse(sort=sort or filters.default_sort, page=page, page_size=page_size)
    return await corrections.list_corrections(actor=actor, filters=filters, want=want)


@get("/api/v1/customer-corrections/{correction_id:int}", tags=["customers"])
async def get_correction(actor: Scope, correction_id: IdParam) -> CorrectionItem:
    """One customer-data correction request with its proposed value, state and deadline."""
    return await corrections.get_correction(actor=actor, correction_id=correction_id)


@post("/api/v1/customer-corrections/{correction_id:int}/apply", tags=["customers"], status_code=200)
async def apply_correction(actor: Scope, correction_id: IdParam, data: DecisionIn) -> CorrectionItem:
    """The owning department's manager applies the correction to the record (within 24 hours)."""
    return await corrections.apply_correction(actor=actor, correction_id=correction_id, note=data.note)


@post("/api/v1/customer-corrections/{correction_id:int}/reject", tags=["customers"], status_code=200)
async def reject_correction(actor: Scope, correction_id: IdParam, data: DecisionIn) -> CorrectionItem:
    """The manager rejects it with a reason (`note`, required); the record keeps its value."""
    return await corrections.reject_correction(actor=actor, correction_id=correction_id, note=data.note)


@post("/api/v1/customer-corrections/{correction_id:int}/confirm", tags=["customers"], status_code=200)
async def confirm_correction(actor: Scope, correction_id: IdParam) -> CorrectionItem:
    """Customer relations confirms (确认) the manager's decision."""
    return await corrections.confirm_correction(actor=actor, correction_id=correction_id)


def _present(data: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually carries."""
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}


ROUTES = [
    search_customers,
    create_customer,
    customer_profile,
    customer_record,
    update_customer,
    deactivate_customer,
    reveal_customer_field,
    identity_history,
    list_vehicles,
    create_vehicle,
    get_vehicle,
    update_vehicle,
    deactivate_vehicle,
    list_sales,
    record_sale,
    get_sale,
    update_sale,
    cancel_sale,
    list_visits,
    record_visit,
    get_visit,
    update_visit,
    cancel_visit,
    import_records,
    customer_changes,
    list_corrections,
    get_correction,
    apply_correction,
    reject_correction,
    confirm_correction,
]
