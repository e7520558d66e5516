"""Import of DMS exports: encodings, XLSX, per-row errors, all-or-nothing, and no duplicates on re-import."""

from __future__ import annotations

from tests.support.customers import csv_text, imported, upload

import io
import zipfile
from datetime import datetime, timezone

import pytest
from openpyxl import Workbook

from crm.customers import events, service
from crm.customers.tables import Customer, Sale, ServiceVisit, Vehicle
from tests.support.builders import make_id_number, make_mobile, make_vin
from crm.privacy import vault


async def counts(store_id: int) -> dict[str, int]:
    return {
        "customers": await Customer.count().where(Customer.store == store_id),
        "vehicles": await Vehicle.count().where(Vehicle.store == store_id),
        "sales": await Sale.count().where(Sale.store == store_id),
        "visits": await ServiceVisit.count().where(ServiceVisit.store == store_id),
    }


def sales_export(people: list[tuple[str, str, str, str, str]]) -> list[list[str]]:
    """A DMS sales export: name, mobile, VIN, plate, order number; delivered on fixed days."""
    rows = [["序号", "客户姓名", "手机", "车架号/VIN", "车牌号", "车型", "交车日期", "订单号", "销售顾问", "成交价\uff08元\uff09"]]
    for n, (name, mobile, vin, plate, order_no) in enumerate(people, start=1):
        rows.append([str(n), name, mobile, vin, plate, "帕萨特", f"2025-0{n}-15", order_no, "刘洋", "\uffe5189\uff0c800"])
    return rows


async def test_gbk_sales_export_imports_and_reimport_creates_nothing(client, tenant):
    headers = await tenant.headers("store_cr_manager@A")
    mobile = make_mobile()
    people = [
        ("张伟", mobile, make_vin(), "粤B12345", "SO-1"),
        ("张伟", f"+86 {mobile}", make_vin(), "粤BD12345", "SO-2"),  # same customer, second car
        ("李娜", make_mobile(), make_vin(), "", "SO-3"),
    ]
    content = csv_text(sales_export(people)).encode("gbk")
    first = await imported(client, headers, "销售交车导出.csv", content)
    assert first["status"] == "done" and first["imported"] is True, first
    report = first["report"]
    assert report["encoding"] == "gbk" and report["imported"] is True
    assert report["created"] == {"customers": 2, "vehicles": 3, "sales": 3, "visits": 0}
    assert report["unknown_columns"] == ["序号"]
    assert await counts(tenant.store_a) == {"customers": 2, "vehicles": 3, "sales": 3, "visits": 0}

    again = (await imported(client, headers, "销售交车导出.csv", content))["report"]
    assert again["imported"] is True
    assert again["created"] == {"customers": 0, "vehicles": 0, "sales": 0, "visits": 0}
    assert again["unchanged"]["sales"] == 3
    assert await counts(tenant.store_a) == {"customers": 2, "vehicles": 3, "sales": 3, "visits": 0}

    staff = await tenant.scope("staff@A")
    [found] = await service.search_customers(actor=staff, q=mobile)
    profile = await service.customer_profile(actor=staff, customer_id=found.id)
    assert len(profile.vehicles) == 2 and {s.order_no for s in profile.sales} == {"SO-1", "SO-2"}
    assert profile.sales[0].price == 189800
    assert profile.customer.source == "import"
    # 交车日期 without a time is midnight in the store's time zone (Asia/Shanghai).
    assert {s.delivered_at for s in profile.sales} == {
        datetime(2025, 1, 14, 16, tzinfo=timezone.utc), datetime(2025, 2, 14, 16, tzinfo=timezone.utc)
    }


async def test_utf8_bom_visit_export_with_english_headers(client, tenant):
    headers = await tenant.headers("store_gm@B")
    vin = make_vin()
    rows = [
        ["Customer Name", "Mobile", "VIN", "Plate", "RO No", "Service Advisor", "Repair Type", "Mileage",
         "Left At", "Next Visit On", "Amount"],
        ["Wang Fang", make_mobile(), vin, "沪A12345F", "RO-77", "陈静", "首保", "5,000", "2025-06-01 17:30",
         "2025/12/01", "0"],
    ]
    content = b"\xef\xbb\xbf" + csv_text(rows).encode("utf-8")
    heard = []

    async def on_visit(**kwargs):
        heard.append(kwargs)

    events.visit_recorded.connect(on_visit)
    try:
        response = await imported(client, headers, "visits.csv", content)
    finally:
        events.visit_recorded.disconnect(on_visit)
    assert response["imported"] is True, response
    assert response["report"]["encoding"] == "utf-8-sig"
    visits = await ServiceVisit.select().where(ServiceVisit.store == tenant.store_b)
    assert len(visits) == 1
    visit = visits[0]
    assert visit["repair_type"] == "maintenance" and visit["mileage"] == 5000
    assert visit["left_at"] == datetime(2025, 6, 1, 9, 30, tzinfo=timezone.utc)
    assert visit["next_visit_on"].isoformat() == "2025-12-01"
    assert heard == [{"group_id": tenant.group_id, "store_id": tenant.store_b, "visit_id": visit["id"]}]


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_xlsx_with_title_row_cover_sheet_and_typed_cells(client, tenant):
    headers = await tenant.headers("group_admin")
    mobile = make_mobile()
    number = make_id_number("19880808")
    content = workbook_bytes({
        "说明": [["本文件由DMS导出"], ["导出时间", "2025-07-01"]],
        "客户车辆": [
            ["客户车辆信息导出"],
            ["客户姓名", "手机号码\uff08必填\uff09", "身份证号", "性别", "车架号", "车牌号", "品牌", "车型", "颜色", "保险到期日",
             "工单号", "离站时间", "服务顾问"],
            ["赵敏", int(mobile), number, "女", make_vin(), "京A12345", "大众", "迈腾", "黑", datetime(2026, 5, 1),
             "RO-1", datetime(2025, 6, 30, 16, 0), "陈静"],
            [None] * 13,
            ["北京某某科技有限公司", float(make_mobile()), "91110000600037341L", None, make_vin(), "京AD12345",
             "大众", "ID.4", "白", None, None, None, None],
        ],
    })
    response = await imported(client, headers, "客户.xlsx", content, store_id=tenant.store_c)
    assert response["imported"] is True, response
    report = response["report"]
    assert report["format"] == "xlsx" and report["sheet"] == "客户车辆" and report["header_row"] == 2
    assert report["created"] == {"customers": 2, "vehicles": 2, "sales": 0, "visits": 1}
    hq = await tenant.scope("hq_viewer")
    [zhao] = await service.search_customers(actor=hq, q=mobile)
    record = await service.get_customer(actor=hq, customer_id=zhao.id)
    assert record.store_id == tenant.store_c and record.gender == "female"
    stored = vault.open_rows(await Customer.select(Customer.id_number).where(Customer.id == zhao.id).first())
    assert stored["id_number"] == number and record.id_number == number[:6] + "********" + number[-4:]  # HQ: masked
    [company] = await service.search_customers(actor=hq, q="科技")
    assert (await service.get_customer(actor=hq, customer_id=company.id)).kind == "company"

    again = await imported(client, headers, "客户.xlsx", content, store_id=tenant.store_c)
    assert again["report"]["created"] == {"customers": 0, "vehicles": 0, "sales": 0, "visits": 0}
    assert await counts(tenant.store_c) == {"customers": 2, "vehicles": 2, "sales": 0, "visits": 1}


async def test_rows_with_errors_block_the_file_unless_valid_rows_are_accepted(client, tenant):
    headers = await tenant.headers("store_gm@A")
    good_vin = make_vin()
    bad_vin = good_vin[:8] + ("0" if good_vin[8] != "0" else "1") + good_vin[9:]
    rows = [
        ["客户姓名", "手机", "车架号", "车牌号", "交车日期", "订单号"],
        ["好客户", make_mobile(), good_vin, "粤B11111", "2025-03-01", "SO-OK"],
        ["坏车架号", make_mobile(), bad_vin, "粤B22222", "2025-03-02", "SO-BADVIN"],
        ["坏手机", "1380013800", make_vin(), "粤B33333", "2025-03-03", "SO-BADPHONE"],
        ["坏日期", make_mobile(), make_vin(), "粤B4444", "三月一日", "SO-BADDATE"],
    ]
    content = csv_text(rows).encode("utf-8")
    before = await counts(tenant.store_a)
    body = await imported(client, headers, "sales.csv", content)
    assert body["status"] == "done" and body["imported"] is False
    errors = {(e["row"], e["field"]): e for e in body["errors"]}
    assert set(errors) == {(3, "vin"), (4, "mobile"), (5, "plate"), (5, "delivered_at")}
    assert errors[(3, "vin")]["column"] == "车架号" and "校验位" in errors[(3, "vin")]["message_zh"]
    assert errors[(4, "mobile")]["message_en"]
    assert body["report"]["rows_valid"] == 1 and body["report"]["rows_with_errors"] == 3
    assert body["report"]["imported"] is False
    assert await counts(tenant.store_a) == before

    accepted = await imported(client, headers, "sales.csv", content, accept_valid_rows=True)
    assert accepted["imported"] is True and accepted["rows_accepted"] == 1 and accepted["rows_rejected"] == 3
    assert accepted["report"]["created"]["sales"] == 1 and len(accepted["errors"]) == 4
    assert await Sale.select(Sale.order_no).where(Sale.store == tenant.store_a) == [{"order_no": "SO-OK"}]


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("customers.xlsx", b"this is not a spreadsheet at all", "XLSX"),
        ("customers.xlsx", b"PK\x03\x04" + b"\x00" * 200, "XLSX"),
        ("customers.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, ".xls"),
        ("customers.csv", b"", "为空"),
        ("customers.csv", "foo,bar\n1,2\n".encode(), "列标题"),
        ("customers.csv", "客户姓名,车型\n张三,迈腾\n".encode(), "手机"),
        ("customers.csv", "手机,车型\n13800138000,迈腾\n".encode(), "客户姓名"),
        ("sales.csv", "客户姓名,手机,交车日期\n张三,13800138000,2025-01-01\n".encode(), "车架号"),
        ("customers.csv", "客户姓名,手机\n".encode(), "没有数据"),
    ],
)
async def test_unreadable_files_are_400_on_file_and_write_nothing(client, tenant, name, content, needle):
    headers = await tenant.headers("store_gm@A")
    before = await counts(tenant.store_a)
    response = await upload(client, headers, name, content)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "file" and needle in error["message"]
    assert await counts(tenant.store_a) == before


async def test_a_zip_that_is_not_a_workbook(client, tenant):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    response = await upload(client, await tenant.headers("store_gm@A"), "x.xlsx", buffer.getvalue())
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"


async def test_a_sheet_that_does_not_exist_or_has_no_headers(client, tenant):
    headers = await tenant.headers("store_gm@A")
    content = workbook_bytes({"Sheet1": [["客户姓名", "手机"], ["张三", make_mobile()]], "封面": [["DMS"]]})
    missing = await upload(client, headers, "c.xlsx", content, sheet="客户")
    assert missing.status_code == 400 and "Sheet1" in missing.json()["errors"][0]["message"]
    cover = await upload(client, headers, "c.xlsx", content, sheet="封面")
    assert cover.status_code == 400 and "列标题" in cover.json()["errors"][0]["message_zh"]
    assert await Customer.count().where(Customer.store == tenant.store_a) == 0
    ok = await imported(client, headers, "c.xlsx", content, sheet="Sheet1")
    assert ok["imported"] and ok["report"]["created"]["customers"] == 1


async def test_reimport_fills_blanks_but_never_overwrites(client, tenant):
    headers = await tenant.headers("store_gm@A")
    mobile, vin = make_mobile(), make_vin()
    first = csv_text([["客户姓名", "手机", "车架号", "车型"], ["孙丽", mobile, vin, ""]]).encode()
    assert (await imported(client, headers, "a.csv", first))["imported"]
    staff = await tenant.scope("staff@A")
    [customer] = await service.search_customers(actor=staff, q=mobile)
    await service.update_customer(actor=staff, customer_id=customer.id, name="孙丽(已核实)")
    second = csv_text([["客户姓名", "手机", "车架号", "车型", "邮箱"], ["孙丽", mobile, vin, "途观", "sun@x.cn"]])
    report = (await imported(client, headers, "b.csv", second.encode()))["report"]
    assert report["created"]["customers"] == 0
    assert report["updated"] == {"customers": 1, "vehicles": 1, "sales": 0, "visits": 0}
    record = await service.get_customer(actor=staff, customer_id=customer.id)
    assert record.name == "孙丽(已核实)" and record.email == "sun@x.cn"
    theirs = service.VehicleFilter(customer_id=customer.id)
    assert (await service.list_vehicles(actor=staff, filters=theirs)).items[0].model == "途观"


async def test_only_importers_may_import(client, tenant):
    content = csv_text([["客户姓名", "手机"], ["张三", make_mobile()]]).encode()
    for who in ("staff@A", "callback_agent@A", "hq_viewer"):
        response = await upload(client, await tenant.headers(who), "a.csv", content)
        assert response.status_code == 403, who


async def test_group_admin_must_name_the_store(client, tenant):
    content = csv_text([["客户姓名", "手机"], ["张三", make_mobile()]]).encode()
    response = await upload(client, await tenant.headers("group_admin"), "a.csv", content)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "store_id"


async def test_customer_list_keyed_by_dms_number_with_landline_only(client, tenant):
    """A DMS customer list: no mobile, a landline and the DMS customer number (客户编号) as the key;
    its 销售顾问 column alone makes no delivery."""
    headers = await tenant.headers("store_gm@A")
    rows = [
        ["客户编号", "客户名称", "联系电话", "联系人", "销售顾问", "备注"],
        ["C0001", "广州某某物流有限公司", "020-88886666", "黄经理", "刘洋", "车队客户"],
        ["C0002", "陈女士", "020-87654321", "", "刘洋", ""],
        ["", "缺编号", "", "", "", ""],
    ]
    content = csv_text(rows).encode("gbk")
    first = await imported(client, headers, "customers.csv", content, accept_valid_rows=True)
    assert first["imported"] is True, first
    assert first["report"]["created"] == {"customers": 2, "vehicles": 0, "sales": 0, "visits": 0}
    assert [(e["row"], e["field"]) for e in first["errors"]] == [(4, "mobile")]
    again = (await imported(client, headers, "customers.csv", content, accept_valid_rows=True))["report"]
    assert again["created"]["customers"] == 0 and again["unchanged"]["customers"] == 2
    company = vault.open_rows(
        await Customer.select().where(Customer.store == tenant.store_a, Customer.dms_ref == "C0001").first())
    assert company["kind"] == "company" and company["phone2"] == "020-88886666" and company["note"] == "车队客户"
