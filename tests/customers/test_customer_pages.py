"""The customer page (客户档案) as the whole story in one timeline, and the profile's create and edit forms."""

from __future__ import annotations

from datetime import timedelta

from crm import clock
from crm.customers.tables import Customer, CustomerChange
from tests.support.builders import (
    callback_row,
    complaint,
    customer_with_history,
    make_mobile,
    same_car_at,
    score_rows,
)
from tests.support.web import csrf_of
from crm.privacy import vault


async def test_timeline_shows_each_kind_newest_first_with_links(browser_session, tenant):
    car = await customer_with_history(tenant, "A", name="周晓明")
    complaint_id = await complaint(tenant, car, store="A", content="空调不制冷")
    now = clock.now()
    call = await callback_row(tenant, car, tenant.store_a, now - timedelta(days=2), satisfied=True, survey="ssi")
    await score_rows(tenant, call, tenant.store_a, "ssi", [9, 10], now - timedelta(days=2))
    care = await callback_row(tenant, car, tenant.store_a, now - timedelta(days=1), channel="sms")

    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    page = await manager.get(f"/customers/{car.customer_id}")
    assert page.status_code == 200
    timeline = page.text.split('id="timeline"')[1].split("</section>")[0]
    for kind in ("vehicle", "sale", "visit", "complaint", "callback", "care", "survey"):
        assert f'data-kind="{kind}"' in timeline, kind
    assert f'href="/complaints/{complaint_id}"' in timeline and "空调不制冷" in timeline
    assert f'href="/callbacks/{call}"' in timeline and "满意" in timeline and "f0 9" in timeline
    assert f'href="/callbacks/{care}"' in timeline
    kinds = [chunk.split('"')[0] for chunk in timeline.split('data-kind="')[1:]]
    assert kinds.index("complaint") < kinds.index("care") < kinds.index("survey") < kinds.index("visit") \
        < kinds.index("sale")  # newest first


async def test_timeline_shows_no_other_store_entry_to_a_store_user(browser_session, tenant):
    car = await customer_with_history(tenant, "A", name="林海")
    at_b = await same_car_at(tenant, car, "B")
    b_complaint = await complaint(tenant, at_b, store="B", content="B店的投诉")
    b_call = await callback_row(tenant, at_b, tenant.store_b, clock.now() - timedelta(days=1))

    store_a = await browser_session(tenant.usernames["store_cr_manager@A"])
    page = await store_a.get(f"/customers/{car.customer_id}")
    assert page.status_code == 200
    assert f"/complaints/{b_complaint}" not in page.text and f"/callbacks/{b_call}" not in page.text
    assert "B店的投诉" not in page.text

    hq = await browser_session(tenant.usernames["group_customer_service"])
    seen = await hq.get(f"/customers/{car.customer_id}")
    assert f"/complaints/{b_complaint}" in seen.text  # group level sees every store's story


async def test_customer_page_and_forms_of_another_group_are_404(browser_session, tenant, other_tenant):
    car = await customer_with_history(other_tenant, "A", name="外集团")
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    assert (await manager.get(f"/customers/{car.customer_id}")).status_code == 404
    assert (await manager.get(f"/customers/{car.customer_id}/edit")).status_code == 404
    form = await manager.get("/customers/new")
    refused = await manager.post(f"/customers/{car.customer_id}/edit",
                                 data={"name": "改名", "_csrf_token": csrf_of(form.text)})
    assert refused.status_code == 404
    assert (await Customer.select(Customer.name).where(Customer.id == car.customer_id).first())["name"] == "外集团"


async def test_create_customer_on_the_form(browser_session, tenant):
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    form = await manager.get("/customers/new")
    assert form.status_code == 200 and 'name="mobile"' in form.text
    mobile = make_mobile()
    saved = await manager.post("/customers/new", data={
        "kind": "private", "name": "新客户", "mobile": mobile, "gender": "female", "birthday": "1990-03-07",
        "_csrf_token": csrf_of(form.text)})
    assert saved.status_code in (302, 303)
    row = await Customer.select().where(Customer.mobile_hash == vault.lookup(mobile)).first()
    assert row["name"] == "新客户" and row["store"] == tenant.store_a and row["gender"] == "female"
    assert saved.headers["location"] == f"/customers/{row['id']}?ok=customer_created"


async def test_create_form_shows_field_errors_and_saves_nothing(browser_session, tenant):
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    form = await manager.get("/customers/new")
    refused = await manager.post("/customers/new", data={
        "kind": "private", "name": "错号客户", "mobile": "abc-not-a-phone", "_csrf_token": csrf_of(form.text)})
    assert refused.status_code == 400
    field = refused.text.split('id="field-mobile"')[1].split("</label>")[0]
    assert "手机号格式错误" in field and 'value="abc-not-a-phone"' in field
    assert not await Customer.exists().where(Customer.name == "错号客户")


async def test_edit_saves_a_change_into_the_history_and_bad_input_changes_nothing(browser_session, tenant):
    car = await customer_with_history(tenant, "A", name="郑强")
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    form = await manager.get(f"/customers/{car.customer_id}/edit")
    assert form.status_code == 200 and 'value="郑强"' in form.text
    fields = {"kind": "private", "name": "郑强", "gender": "male", "marital_status": "married",
              "address": "上海市徐汇区漕溪北路1号", "occupation": "工程师", "_csrf_token": csrf_of(form.text)}
    for name in ("mobile", "phone2", "id_number"):  # sent back as shown (masked): not a change
        fields[name] = form.text.split(f'name="{name}" value="')[1].split('"')[0]
    saved = await manager.post(f"/customers/{car.customer_id}/edit", data=fields)
    assert saved.status_code in (302, 303), saved.text
    row = vault.open_rows(await Customer.select().where(Customer.id == car.customer_id).first())
    assert row["address"] == "上海市徐汇区漕溪北路1号" and row["mobile"] == car.mobile
    changes = await CustomerChange.select().where(CustomerChange.customer == car.customer_id)
    assert [(c["field"], c["via"]) for c in changes] == [("address", "edit")]

    refused = await manager.post(f"/customers/{car.customer_id}/edit",
                                 data={**fields, "address": "别处", "postcode": "12"})
    assert refused.status_code == 400
    assert "邮政编码应为6位数字" in refused.text.split('id="field-postcode"')[1].split("</label>")[0]
    row = await Customer.select().where(Customer.id == car.customer_id).first()
    assert row["address"] == "上海市徐汇区漕溪北路1号" and row["postcode"] == ""


async def test_callback_agent_may_create_but_not_edit(browser_session, tenant):
    car = await customer_with_history(tenant, "A", name="钱进")
    agent = await browser_session(tenant.usernames["callback_agent@A"])
    page = await agent.get(f"/customers/{car.customer_id}")
    assert 'id="edit-profile"' not in page.text
    assert (await agent.get(f"/customers/{car.customer_id}/edit")).status_code == 403
    assert (await agent.get("/customers/new")).status_code == 200
