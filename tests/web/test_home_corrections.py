"""工作台: customer data corrections (修正表) wait on the home page of whoever decides or confirms them."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from crm import clock
from crm.customers import corrections
from crm.customers.tables import Customer
from crm.db import transaction
from crm.work import my_work
from tests.support.builders import customer_with_car


async def _correction(tenant, name: str = "周芷若") -> int:
    car = await customer_with_car(tenant, "A", name=name)
    customer = await Customer.select().where(Customer.id == car.customer_id).first()
    async with transaction():
        await corrections.file_corrections(actor=await tenant.scope("callback_agent@A"), customer=customer,
                                           vehicle=None, callback_id=None,
                                           proposals={"address": "上海市浦东新区世纪大道100号"}, reason="客户已搬家")
    [item] = (await corrections.list_corrections(actor=await tenant.scope("store_gm@A"),
                                                 filters=corrections.CorrectionFilter(state="open"))).items
    return item.id


async def test_the_managers_who_decide_see_the_correction_with_its_countdown(browser_session, tenant):
    correction_id = await _correction(tenant)
    for who in ("department_head@A", "store_gm@A"):
        page = (await (await browser_session(tenant.usernames[who])).get("/")).text
        assert f'href="/corrections?state=open#correction-{correction_id}"' in page, who
        assert "修正客户资料：" in page and "周芷若" in page and 'class="countdown' in page
    # Customer relations filed it and confirms later; other stores and the agent have nothing to do with it now.
    for who in ("store_cr_manager@A", "callback_agent@A", "department_head@B"):
        page = (await (await browser_session(tenant.usernames[who])).get("/")).text
        assert f"#correction-{correction_id}" not in page, who

    head = await tenant.scope("department_head@A")
    [item] = [i for i in (await my_work(actor=head)).waiting if i.kind == "correction"]  # due tomorrow at this hour
    assert timedelta(hours=23) < item.due_at - clock.now() <= timedelta(hours=24)
    with time_machine.travel(clock.now() + timedelta(hours=25), tick=False):
        overdue = [i for i in (await my_work(actor=head)).overdue if i.kind == "correction"]
    assert [i.href for i in overdue] == [f"/corrections?state=open#correction-{correction_id}"]


async def test_once_decided_customer_relations_sees_it_to_confirm(browser_session, tenant):
    correction_id = await _correction(tenant, name="张无忌")
    await corrections.apply_correction(actor=await tenant.scope("department_head@A"), correction_id=correction_id)
    page = (await (await browser_session(tenant.usernames["store_cr_manager@A"])).get("/")).text
    assert f'href="/corrections?state=unconfirmed#correction-{correction_id}"' in page
    assert "确认资料修正：" in page and "张无忌" in page
    head_page = (await (await browser_session(tenant.usernames["department_head@A"])).get("/")).text
    assert f"#correction-{correction_id}" not in head_page  # decided: nothing left for the manager

    await corrections.confirm_correction(actor=await tenant.scope("store_cr_manager@A"), correction_id=correction_id)
    page = (await (await browser_session(tenant.usernames["store_cr_manager@A"])).get("/")).text
    assert f"#correction-{correction_id}" not in page
