"""Complaint pages over HTTP: intake screen with lookup and routing, inbox and group list, the complaint
page's actions per role, refusals shown on the page, and the tenant walls."""

from __future__ import annotations

from tests.support.complaints import act

import re
from datetime import datetime, timezone

import time_machine

from crm.complaints import accountability, service
from crm.complaints.tables import Complaint
from tenants.tables import DealerGroup
from tests.support.web import csrf_of
from tests.support.builders import ago, customer_with_car, same_car_at, visit


async def test_call_center_intake_screen_finds_routes_and_records(browser_session, tenant):
    car = await customer_with_car(tenant, "A", name="周杰")
    at_b = await same_car_at(tenant, car, "B")
    await visit(tenant, at_b, ago(days=3))
    agent = await browser_session(tenant.usernames["call_center_agent"])

    page = await agent.get("/complaint-intake")
    assert page.status_code == 200
    assert 'id="lookup"' in page.text and "autofocus" in page.text
    assert 'href="/complaint-intake"' in page.text  # in the navigation

    found = await agent.get("/complaint-intake/lookup", params={"q": car.mobile}, headers={"HX-Request": "true"})
    rows = re.findall(r'/complaint-intake/take\?customer_id=(\d+)&amp;vehicle_id=(\d*)', found.text)
    assert (str(car.customer_id), str(car.vehicle_id)) in rows
    assert car.plate in found.text

    route = await agent.get("/complaint-intake/take", params={"customer_id": car.customer_id,
                                                              "vehicle_id": car.vehicle_id}, headers={"HX-Request": "true"})
    assert re.search(rf'<option value="{tenant.store_b}" selected>', route.text)
    assert "最近维修保养门店" in route.text

    form = {"_csrf_token": csrf_of(page.text), "customer_id": str(car.customer_id), "vehicle_id": str(car.vehicle_id),
            "store_id": str(tenant.store_b), "channel": "hotline_400", "content": "维修后仪表盘报警灯常亮",
            "expected_solution": "尽快复查"}
    done = await agent.post("/complaint-intake", data=form)
    assert done.status_code == 303
    cid = int(done.headers["location"].split("?")[0].rsplit("/", 1)[1])
    shown = await agent.get(f"/complaints/{cid}")
    assert "维修后仪表盘报警灯常亮" in shown.text and "待门店受理" in shown.text
    assert 'id="act-reroute"' in shown.text and 'id="act-accept"' not in shown.text

    empty = await agent.post("/complaint-intake", data={**form, "content": ""})
    assert empty.status_code == 400 and "请填写投诉内容" in empty.text
    assert 'value="%s"' % car.customer_id in empty.text  # the agent's input is kept


async def test_store_inbox_handles_and_the_group_list_sorts_overdue_first(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    agent = await tenant.scope("call_center_agent")
    first = await service.create_complaint(actor=agent, customer_id=car.customer_id, channel="hotline_400",
                                           content="第一条投诉")
    second = await service.create_complaint(actor=agent, customer_id=car.customer_id, channel="online",
                                            content="第二条投诉")
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    inbox = await manager.get("/complaints")
    assert inbox.status_code == 200 and "本店投诉" in inbox.text
    assert 'class="countdown' in inbox.text and "门店受理" in inbox.text
    ids = [int(i) for i in re.findall(r'data-id="(\d+)"', inbox.text)]
    assert ids.index(first) < ids.index(second)  # the earlier deadline first

    filtered = await manager.get("/complaints", params={"channel": "online"})
    assert [int(i) for i in re.findall(r'data-id="(\d+)"', filtered.text)] == [second]

    page = await manager.get(f"/complaints/{first}")
    assert 'id="act-accept"' in page.text and 'id="act-reroute"' not in page.text
    assert (await act(manager, first, "accept", note="已受理")).status_code == 303
    page = await manager.get(f"/complaints/{first}")
    assert "门店已受理" in page.text and 'id="act-assign"' in page.text
    assert "已受理" in page.text  # the note on the timeline

    head = tenant.users["department_head@A"]
    assert (await act(manager, first, "assign", handler_user_id=str(head), department="service")).status_code == 303
    # A step that cannot start now is refused on the page, with the reason.
    refused = await act(manager, first, "close")
    assert refused.status_code == 409 and "不能执行「结案」" in refused.text

    hq = await browser_session(tenant.usernames["hq_viewer"])
    group_list = await hq.get("/complaints")
    assert "集团投诉总览" in group_list.text and f'data-id="{second}"' in group_list.text
    # HQ supervises: it may leave a note, nothing else.
    assert re.findall(r'id="act-(\w+)"', (await hq.get(f"/complaints/{second}")).text) == ["add_note"]


async def test_the_accused_sees_only_the_appeal(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                         channel="hotline_400", content="销售顾问态度恶劣",
                                         accused_user_id=tenant.users["staff@A"])
    await service.accept_complaint(actor=await tenant.scope("store_cr_manager@A"), complaint_id=cid)
    accused = await browser_session(tenant.usernames["staff@A"])
    page = await accused.get(f"/complaints/{cid}")
    assert re.findall(r'id="act-(\w+)"', page.text) == ["file_appeal"]
    denied = await act(accused, cid, "add_note", note="我要说明")
    assert denied.status_code == 403 and "被投诉员工不得参与处理本投诉" in denied.text
    assert (await act(accused, cid, "file_appeal", reason="当天我休假")).status_code == 303


async def test_complaint_pages_stay_inside_the_tenant(browser_session, tenant, other_tenant):
    car = await customer_with_car(tenant, "A")
    cid = await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                         channel="hotline_400", content="x")
    for owner, who in [(tenant, "store_cr_manager@B"), (tenant, "brand_manager@div2"),
                       (other_tenant, "hq_viewer"), (other_tenant, "call_center_agent")]:
        client = await browser_session(owner.usernames[who])
        assert (await client.get(f"/complaints/{cid}")).status_code == 404, who
        listed = await client.get("/complaints")
        assert f'data-id="{cid}"' not in listed.text, who
        home = await client.get("/")
        refused = await client.post(f"/complaints/{cid}/act/accept", data={"_csrf_token": csrf_of(home.text)})
        assert refused.status_code == 404, who
        lookup = await client.get("/complaint-intake/lookup", params={"q": car.mobile})
        if lookup.status_code == 200:
            assert f'data-customer="{car.customer_id}"' not in lookup.text, who
    hq = await browser_session(tenant.usernames["hq_viewer"])
    assert (await hq.get("/complaints/999999999999")).status_code == 404
    assert (await hq.get("/complaint-intake")).status_code == 403  # HQ reads, the call center takes


async def test_every_role_can_open_its_complaint_pages(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                         channel="hotline_400", content="x")
    # Every role once: the group's users and store A's (stores B and C have the same roles).
    for key, username in tenant.usernames.items():
        if "@" in key and not key.endswith("@A"):
            continue
        client = await browser_session(username)
        home = await client.get("/")
        for path in re.findall(r'<a href="(/complaints|/complaint-intake|/revisits|/accountability)"', home.text):
            assert (await client.get(path)).status_code == 200, (key, path)
        assert (await client.get(f"/complaints/{cid}")).status_code == 200, key
    english = await browser_session(tenant.usernames["store_gm@A"])
    await english.get("/lang/en")
    page = await english.get(f"/complaints/{cid}")
    assert "Awaiting store" in page.text and "Timeline" in page.text


async def test_intake_routing_and_submit_stay_inside_the_tenant(browser_session, tenant, other_tenant):
    car = await customer_with_car(tenant, "A")
    before = await Complaint.count()
    for owner, who in [(tenant, "store_cr_manager@B"), (other_tenant, "call_center_agent")]:
        client = await browser_session(owner.usernames[who])
        route = await client.get("/complaint-intake/take", params={"customer_id": car.customer_id,
                                                                   "vehicle_id": car.vehicle_id})
        assert route.status_code == 404, who
        page = await client.get("/complaint-intake")
        form = {"_csrf_token": csrf_of(page.text), "customer_id": str(car.customer_id),
                "vehicle_id": str(car.vehicle_id), "channel": "hotline_400", "content": "跨租户投诉"}
        refused = await client.post("/complaint-intake", data=form)
        assert refused.status_code == 400 and "客户不存在" in refused.text, who
    # A group agent may not send its own customer's complaint to another group's store either.
    theirs = await customer_with_car(other_tenant, "A")
    agent = await browser_session(other_tenant.usernames["call_center_agent"])
    page = await agent.get("/complaint-intake")
    refused = await agent.post("/complaint-intake", data={
        "_csrf_token": csrf_of(page.text), "customer_id": str(theirs.customer_id), "store_id": str(tenant.store_a),
        "channel": "hotline_400", "content": "改派到别的集团",
    })
    assert refused.status_code == 400 and "门店不存在" in refused.text
    assert await Complaint.count() == before


async def test_rerouting_asks_for_a_store(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                         channel="hotline_400", content="x")
    agent = await browser_session(tenant.usernames["call_center_agent"])
    page = await agent.get(f"/complaints/{cid}")
    assert re.search(r'<select name="store_id" required>\s*<option value="" selected>请选择门店</option>', page.text)
    refused = await act(agent, cid, "reroute", store_id="")
    assert refused.status_code == 400 and "请选择" in refused.text
    assert (await Complaint.select(Complaint.store).where(Complaint.id == cid).first())["store"] == tenant.store_a


async def test_the_accountability_month_follows_the_group_timezone(browser_session, tenant):
    await DealerGroup.update({DealerGroup.timezone: "America/Los_Angeles"}).where(DealerGroup.id == tenant.group_id)
    actor = await tenant.scope("store_gm@A")
    # 1 December 03:00 UTC: already December in Shanghai, still November in Los Angeles.
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc), tick=False):
        assert await accountability.current_month(actor=actor) == "2026-11"
    gm = await browser_session(tenant.usernames["store_gm@A"])
    page = await gm.get("/accountability")
    assert page.status_code == 200 and f'value="{await accountability.current_month(actor=actor)}"' in page.text


async def test_a_nul_character_in_a_web_form_is_a_400_page_and_writes_nothing(browser_session, tenant):
    from crm.complaints.tables import Complaint

    car = await customer_with_car(tenant, "A", name="郑洁")
    agent = await browser_session(tenant.usernames["call_center_agent"])
    page = await agent.get("/complaint-intake")
    before = await Complaint.count().where(Complaint.group == tenant.group_id)
    form = {"_csrf_token": csrf_of(page.text), "customer_id": str(car.customer_id), "vehicle_id": str(car.vehicle_id),
            "store_id": str(tenant.store_a), "channel": "hotline_400", "content": "空调\x00不制冷"}
    refused = await agent.post("/complaint-intake", data=form)
    assert refused.status_code == 400
    assert await Complaint.count().where(Complaint.group == tenant.group_id) == before


async def test_a_softphone_opens_intake_with_the_caller_looked_up(browser_session, tenant, other_tenant):
    car = await customer_with_car(tenant, "A", name="孙权")
    agent = await browser_session(tenant.usernames["call_center_agent"])

    # 来电弹屏: the CTI system passes the number as it has it, with the country code and separators.
    page = await agent.get("/complaint-intake", params={"caller": f"+86 {car.mobile[:3]}-{car.mobile[3:7]}-{car.mobile[7:]}"})
    assert page.status_code == 200
    assert f'name="customer_id" id="customer_id" value="{car.customer_id}"' in page.text
    assert f'name="vehicle_id" id="vehicle_id" value="{car.vehicle_id}"' in page.text
    assert re.search(r'<p id="chosen" class="chosen">', page.text), "the one matching customer is taken"
    assert re.search(rf'<option value="{tenant.store_a}" selected>', page.text), "routed to the customer's store"
    assert f'value="{car.mobile}"' in page.text  # the lookup shows the number it searched

    # A number of another group's customer is unknown here: offered as a new customer, nothing of theirs shown.
    stranger = await customer_with_car(other_tenant, "A", name="曹操")
    unknown = await agent.get("/complaint-intake", params={"caller": stranger.mobile})
    assert unknown.status_code == 200
    assert "曹" not in unknown.text and 'id="customer_id" value=""' in unknown.text
    assert f'name="new_customer_mobile" maxlength="20" inputmode="tel" value="{stranger.mobile}"' in unknown.text
    assert '<details class="new-customer" open>' in unknown.text

    nonsense = await agent.get("/complaint-intake", params={"caller": "anonymous"})
    assert nonsense.status_code == 200 and 'id="customer_id" value=""' in nonsense.text
    assert 'inputmode="tel" value=""' in nonsense.text and "<details class=\"new-customer\">" in nonsense.text
