"""The complaint page (issue 16 item 4): one highlighted next step per role and state, the other steps in a
menu, no judgement pre-selected (责任判定, department, handler) and a confirmation after every step."""

from __future__ import annotations

import re

import pytest

from crm.complaints import service
from tenants.errors import InvalidInput
from tests.support.builders import customer_with_car
from tests.support.complaints import act


def next_step(html: str) -> str | None:
    """The action of the one highlighted form, and check it is the page's only primary button."""
    assert html.count("btn-primary") <= 1
    found = re.search(r'<div class="next-action" id="next-action">.*?id="act-(\w+)"', html, re.S)
    return found.group(1) if found else None


def in_menu(html: str) -> list[str]:
    menu = re.search(r'<details class="more-actions".*?</details>', html, re.S)
    return re.findall(r'id="act-(\w+)"', menu.group(0)) if menu else []


def select_of(html: str, action: str, name: str) -> str:
    form = re.search(rf'<form[^>]*id="act-{action}".*?</form>', html, re.S).group(0)
    return re.search(rf'<select name="{name}".*?</select>', form, re.S).group(0)


async def test_each_role_sees_one_next_step_through_the_lifecycle(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                         channel="hotline_400", content="空调异味")
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    head = await browser_session(tenant.usernames["department_head@A"])
    hq = await browser_session(tenant.usernames["hq_viewer"])

    page = (await manager.get(f"/complaints/{cid}")).text
    assert next_step(page) == "accept"
    assert "add_note" in in_menu(page) and "accept" not in in_menu(page)
    # HQ may only add a note: no next step, the note waits in the menu.
    hq_page = (await hq.get(f"/complaints/{cid}")).text
    assert next_step(hq_page) is None and in_menu(hq_page) == ["add_note"]

    assert (await act(manager, cid, "accept")).status_code == 303
    assert next_step((await manager.get(f"/complaints/{cid}")).text) == "assign"
    await act(manager, cid, "assign", handler_user_id=str(tenant.users["department_head@A"]), department="service")
    # Re-assigning does not move the complaint on: it waits in the menu, the cause analysis is next.
    page = (await manager.get(f"/complaints/{cid}")).text
    assert next_step(page) == "analyse" and "assign" in in_menu(page)
    assert next_step((await head.get(f"/complaints/{cid}")).text) == "analyse"
    await act(head, cid, "analyse", cause_category="product", department="service", liability="not_liable")
    assert next_step((await head.get(f"/complaints/{cid}")).text) == "countermeasure"
    await act(head, cid, "countermeasure", countermeasure="清洗蒸发箱")
    page = (await head.get(f"/complaints/{cid}")).text
    assert next_step(page) == "resolve" and "countermeasure" in in_menu(page)
    await act(head, cid, "resolve", resolution="异味已消除")
    assert next_step((await head.get(f"/complaints/{cid}")).text) == "submit_report"


async def test_no_department_liability_or_handler_is_chosen_for_the_user(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                         channel="hotline_400", content="销售承诺未兑现")
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    await act(manager, cid, "accept")
    page = (await manager.get(f"/complaints/{cid}")).text
    for name in ("handler_user_id", "department"):
        select = select_of(page, "assign", name)
        assert '<option value="">请选择</option>' in select and " selected" not in select, name

    missing = await act(manager, cid, "assign")
    assert missing.status_code == 400
    assert "请选择处理人" in missing.text and "请选择部门" in missing.text  # every missing field at once
    assert re.search(r'class="field-error"[^>]*>请选择部门<', missing.text)
    assert 'id="act-assign"' in missing.text and "已指派" not in missing.text

    await act(manager, cid, "assign", handler_user_id=str(tenant.users["department_head@A"]), department="sales")
    head = await browser_session(tenant.usernames["department_head@A"])
    page = (await head.get(f"/complaints/{cid}")).text
    for name in ("cause_category", "department", "liability"):
        select = select_of(page, "analyse", name)
        assert '<option value="">请选择</option>' in select and " selected" not in select, name
    refused = await act(head, cid, "analyse")
    assert refused.status_code == 400
    for text in ("请选择原因类别", "请选择部门", "请选择有责或无责"):
        assert text in refused.text
    # A refused form keeps what the user chose, and nothing else.
    kept = await act(head, cid, "analyse", cause_category="service", department="", liability="liable")
    assert kept.status_code == 400
    assert '<option value="liable" selected>' in select_of(kept.text, "analyse", "liability")
    assert " selected" not in select_of(kept.text, "analyse", "department")


async def test_missing_choices_are_named_in_chinese_and_english(tenant):
    car = await customer_with_car(tenant, "A")
    cid = await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                         channel="hotline_400", content="x")
    manager = await tenant.scope("store_cr_manager@A")
    await service.accept_complaint(actor=manager, complaint_id=cid)
    with pytest.raises(InvalidInput) as refused:
        await service.assign_handler(actor=manager, complaint_id=cid, handler_user_id=None, department="")
    assert [(p.field, p.zh, p.en) for p in refused.value.problems] == [
        ("handler_user_id", "请选择处理人", "Choose a handler"),
        ("department", "请选择部门", "Choose a department"),
    ]


async def test_each_step_confirms_what_happened(browser_session, tenant):
    car = await customer_with_car(tenant, "A")
    cid = await service.create_complaint(actor=await tenant.scope("call_center_agent"), customer_id=car.customer_id,
                                         channel="hotline_400", content="交车延误")
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    plain = await manager.get(f"/complaints/{cid}")
    assert 'id="done-note"' not in plain.text
    done = await act(manager, cid, "accept")
    assert done.status_code == 303 and done.headers["location"] == f"/complaints/{cid}?done=accept"
    assert "已受理投诉" in (await manager.get(done.headers["location"])).text

    done = await act(manager, cid, "assign", handler_user_id=str(tenant.users["department_head@A"]),
                     department="sales")
    shown = (await manager.get(done.headers["location"])).text
    handler = re.search(r"<dt>处理人</dt><dd>([^<（]+)", shown).group(1)
    assert f'id="done-note">已指派给{handler}</p>' in shown  # who it went to, by name

    done = await act(manager, cid, "add_note", note="客户来电催促")
    assert "已添加备注" in (await manager.get(done.headers["location"])).text
    # An unknown `done` shows nothing rather than a made-up message.
    assert 'id="done-note"' not in (await manager.get(f"/complaints/{cid}?done=drop_table")).text
