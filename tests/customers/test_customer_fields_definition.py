"""Customer fields are defined once (`crm.customers.fields.FIELDS`): the tables, the API's request structs,
the importer's columns and the service's records must all agree with that definition."""

from __future__ import annotations

import re

import msgspec
import pytest
from piccolo.columns import Boolean, Date, Integer, Numeric, Text, Timestamptz, Varchar

from api.customers import routes
from crm.customers import fields, importer, records
from crm.customers.tables import Customer, Sale, ServiceVisit, Vehicle
from crm.privacy import vault

TABLES = {"customer": Customer, "vehicle": Vehicle, "sale": Sale, "visit": ServiceVisit}
# Columns that are the service's business, not a caller's: ids, owner, links, life cycle.
BOOKKEEPING = {"id", "group", "store", "group_identity", "customer", "vehicle", "source", "active",
               "cancelled_at", "created_at", "updated_at",
               # the keyed hashes sealed personal data is found by (`crm.privacy.vault`)
               "mobile_hash", "mobile_tail", "phone2_hash", "phone2_tail", "id_number_hash"}
COLUMN_TYPES = {"date": Date, "instant": Timestamptz, "money": Numeric, "mileage": Integer, "flag": Boolean}
RECORDS = {"customer": records.CustomerRecord, "vehicle": records.VehicleRecord, "sale": records.SaleRecord,
           "visit": records.VisitRecord}
STRUCTS = {
    "customer": (routes.CustomerCreate, ["store_id"], routes.CustomerUpdate, []),
    "vehicle": (routes.VehicleCreate, ["customer_id"], routes.VehicleUpdate, ["customer_id"]),
    "sale": (routes.SaleCreate, ["customer_id", "vehicle_id"], routes.SaleUpdate, []),
    "visit": (routes.VisitCreate, ["customer_id", "vehicle_id"], routes.VisitUpdate, []),
}


@pytest.mark.parametrize("record", TABLES)
def test_each_table_has_exactly_the_defined_fields(record):
    table = TABLES[record]
    columns = {c._meta.name for c in table._meta.columns}
    assert columns - BOOKKEEPING == {f.name for f in fields.fields_of(record)}


@pytest.mark.parametrize("field", fields.FIELDS, ids=lambda f: f"{f.record}.{f.name}")
def test_each_column_can_hold_its_field(field):
    column = getattr(TABLES[field.record], field.name)
    if field.kind == "text":
        assert isinstance(column, Varchar | Text)
        # a caller may send more than the column holds (spaces, dashes): the check is on the normalised value
        if column._meta.name in vault.SEALED["customer"]:  # holds the sealed token of the longest value
            assert isinstance(column, Varchar) and len(vault.seal("9" * field.max_len)) <= column.length
        else:
            assert not isinstance(column, Varchar) or column.length <= field.max_len
    elif field.kind == "choice":
        assert isinstance(column, Varchar) and max(map(len, field.choices)) <= column.length
    else:
        assert isinstance(column, COLUMN_TYPES[field.kind])


@pytest.mark.parametrize("record", TABLES)
def test_api_structs_and_records_follow_the_definition(record):
    names = [f.name for f in fields.fields_of(record)]
    create, create_ids, update, update_ids = STRUCTS[record]
    assert list(create.__struct_fields__) == create_ids + names
    assert list(update.__struct_fields__) == update_ids + names
    required = {f.name for f in fields.fields_of(record) if f.required}
    assert {f.name for f in msgspec.structs.fields(create) if f.required} - set(create_ids) == required
    assert not any(f.required for f in msgspec.structs.fields(update))
    assert set(names) | {"source"} <= set(RECORDS[record].__struct_fields__)


def test_the_importer_reads_every_field_with_headers_in_chinese_and_english():
    by_header = {}
    for f in fields.FIELDS:
        for header in f.headers:
            assert by_header.setdefault(importer._header_key(header), f.name) == f.name, header
        if f.headers:
            assert any(re.search(r"[\u4e00-\u9fff]", h) for h in f.headers), f.name
            assert any(h.isascii() for h in f.headers), f.name
    assert importer._ALIASES == by_header
    for record in TABLES:
        importable = {f.name for f in fields.fields_of(record) if f.headers}
        assert importer._COLUMNS[record] == importable
    assert {f.name for f in fields.FIELDS if not f.headers} == {"birthday_is_lunar", "do_not_call"}
