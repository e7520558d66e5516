"""《重大投诉事件处理报告》 is defined once (`crm.major.report_form`): the table, the service's form,
the API's structs and the web form must all follow that definition."""

from __future__ import annotations

import msgspec
import pytest
from piccolo.columns import JSON, Text, Varchar

from api.major.pages import ReportPost
from api.major.routes import PersonIn, ReportIn, ReportOut
from crm.major.report_form import FIELDS, MAX_PEOPLE, PEOPLE, PERSON_FIELDS
from crm.major.rules import RiskLevel
from crm.major.service import Person, ReportForm
from crm.major.tables import MajorReport


def test_the_table_has_a_column_for_every_field_that_holds_it():
    for f in FIELDS:
        column = getattr(MajorReport, f.name)
        if f.kind == "text":
            assert isinstance(column, Text), f.name
        else:
            assert isinstance(column, Varchar) and column.length == f.max_len, f.name
            assert max(len(r.value) for r in RiskLevel) <= f.max_len
    assert isinstance(getattr(MajorReport, PEOPLE), JSON)


def test_the_table_has_no_form_column_the_definition_lacks():
    bookkeeping = {"id", "group", "store", "major", "status", "saved_at", "saved_by", "filed_at", "filed_by",
                   "forwarded_at", "forwarded_by"}
    columns = {c._meta.name for c in MajorReport._meta.columns}
    assert columns - bookkeeping == {f.name for f in FIELDS} | {PEOPLE}


def test_service_api_and_web_structs_follow_the_definition():
    names = tuple(f.name for f in FIELDS) + (PEOPLE,)
    assert ReportForm.__struct_fields__ == names
    assert ReportIn.__struct_fields__ == names
    assert ReportOut.__struct_fields__ == ("status", *names, "saved_at", "filed_at", "forwarded_at")
    assert set(ReportPost.__struct_fields__) == {"action", *(f.name for f in FIELDS)} | {
        f"person_{f.name}" for f in PERSON_FIELDS}
    person_names = tuple(f.name for f in PERSON_FIELDS)
    assert Person.__struct_fields__ == person_names and PersonIn.__struct_fields__ == person_names


def test_the_api_struct_bounds_each_field_by_its_definition():
    for f in FIELDS:
        if f.kind == "text":
            with pytest.raises(msgspec.ValidationError, match=f.name):
                msgspec.json.decode(msgspec.json.encode({f.name: "字" * (f.max_len + 1)}), type=ReportIn)
    with pytest.raises(msgspec.ValidationError, match=PEOPLE):
        msgspec.json.decode(msgspec.json.encode({PEOPLE: [{"name": "张三"}] * (MAX_PEOPLE + 1)}), type=ReportIn)
