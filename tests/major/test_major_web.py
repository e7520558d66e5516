"""Major-complaint web pages over HTTP: the board, one major complaint (report form, forward,
acknowledge), marking from a complaint — and their tenant walls."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from crm import clock
from crm.major import service
from crm.major.policy import get_policy
from crm.major.rules import MajorReason
from crm.timers import runner
from tests.support.web import csrf_of
from tests.support.builders import customer_with_car
from tests.support.major import alert_id, complaint_for, major_of, major_of_id

REPORT = {
    "facts": "客户在展厅门口堵门", "cause": "维修未彻底", "customer_demands": "退车", "actions_taken": "总经理接待",
    "media_risk": "high", "legal_risk": "low", "risk_note": "客户称已联系记者", "proposed_settlement": "更换总成",
    "person_name": ["张经理", ""], "person_position": ["售后经理", ""], "person_phone": ["13800000000", ""],
}


async def _major(tenant, store: str = "A") -> tuple[int, int]:
    complaint_id = await complaint_for(tenant, await customer_with_car(tenant, store), store=store)
    actor = await tenant.scope("call_center_agent")
    major_id = await service.mark_major(
        actor=actor, complaint_id=complaint_id, reasons=[service.ReasonInput(MajorReason.BLOCKING_GATE)]
    )
    return complaint_id, major_id


async def _overdue_major(tenant) -> tuple[int, int]:
    """A major complaint whose 24 hours passed without a report (the sweeper escalated it)."""
    start = clock.now()
    with time_machine.travel(start, tick=False):
        ids = await _major(tenant)
    with time_machine.travel(start + timedelta(days=1, seconds=1), tick=False):
        await runner.sweep(groups=[tenant.group_id])
    return ids


async def _post(client, path: str, data: dict):
    page = await client.get("/major")  # any signed-in page carries the CSRF token
    return await client.post(path, data={**data, "_csrf_token": csrf_of(page.text)})


async def test_board_lists_open_major_complaints_with_countdown_and_overdue_flag(browser_session, tenant):
    _, overdue = await _overdue_major(tenant)
    _, fresh = await _major(tenant, "B")
    hq = await browser_session(tenant.usernames["hq_viewer"])
    page = await hq.get("/major")
    assert page.status_code == 200
    assert "重大投诉看板" in page.text and 'id="major-rows"' in page.text and "sse-connect=\"/major/events\"" in page.text
    assert f'data-major-id="{overdue}"' in page.text and f'data-major-id="{fresh}"' in page.text
    assert page.text.index(f'data-major-id="{overdue}"') < page.text.index(f'data-major-id="{fresh}"')
    assert "报告逾期" in page.text and 'class="countdown' in page.text and 'data-due=' in page.text
    rows = await hq.get("/major", headers={"HX-Request": "true"})
    assert rows.text.lstrip().startswith("<tr") and "<html" not in rows.text
    staff = await browser_session(tenant.usernames["staff@A"])
    assert (await staff.get("/major")).status_code == 403
    gm_b = await browser_session(tenant.usernames["store_gm@B"])
    board_b = (await gm_b.get("/major")).text
    assert f'data-major-id="{fresh}"' in board_b and f'data-major-id="{overdue}"' not in board_b


async def test_store_files_the_report_and_the_brand_division_forwards_it(browser_session, tenant):
    _, major_id = await _major(tenant)
    gm = await browser_session(tenant.usernames["store_gm@A"])
    page = await gm.get(f"/major/{major_id}")
    assert page.status_code == 200 and "重大投诉事件处理报告" in page.text and 'name="facts"' in page.text
    incomplete = await _post(gm, f"/major/{major_id}/report", {"action": "file", "facts": "只写了经过"})
    assert incomplete.status_code == 400 and 'data-field="cause"' in incomplete.text
    assert "只写了经过" in incomplete.text  # what was typed is kept
    assert (await major_of_id(major_id))["report_status"] == "missing"
    filed = await _post(gm, f"/major/{major_id}/report", {"action": "file", **REPORT})
    assert filed.status_code == 303 and filed.headers["location"] == f"/major/{major_id}?ok=report_filed"
    assert (await major_of_id(major_id))["report_status"] == "filed"

    brand = await browser_session(tenant.usernames["brand_manager"])
    page = await brand.get(f"/major/{major_id}")
    assert "转呈运营副总裁及总裁" in page.text and "张经理" in page.text
    forwarded = await _post(brand, f"/major/{major_id}/forward", {})
    assert forwarded.status_code == 303
    assert (await major_of_id(major_id))["report_status"] == "forwarded"
    assert "已转呈" in (await brand.get(f"/major/{major_id}")).text


async def test_a_recipient_acknowledges_on_the_page(browser_session, tenant):
    _, major_id = await _major(tenant)
    immediate = await alert_id(major_id, 0)
    legal = await browser_session(tenant.usernames["legal"])
    page = await legal.get(f"/major/{major_id}")
    assert f'action="/major/alerts/{immediate}/acknowledge' in page.text
    done = await _post(legal, f"/major/alerts/{immediate}/acknowledge?next=/major/{major_id}", {})
    assert done.status_code == 303 and done.headers["location"] == f"/major/{major_id}"
    assert f'action="/major/alerts/{immediate}/acknowledge' not in (await legal.get(f"/major/{major_id}")).text
    hq = await browser_session(tenant.usernames["hq_viewer"])
    assert f'action="/major/alerts/{immediate}/acknowledge' not in (await hq.get(f"/major/{major_id}")).text


async def test_marking_from_a_complaint_suggests_repeat_and_needs_a_note_for_other(browser_session, tenant):
    car = await customer_with_car(tenant)
    await complaint_for(tenant, car)
    complaint_id = await complaint_for(tenant, car)
    agent = await browser_session(tenant.usernames["call_center_agent"])
    page = await agent.get(f"/complaints/{complaint_id}/major")
    assert page.status_code == 200 and "重复投诉" in page.text and "suggestion-repeat" in page.text
    assert 'value="repeat"\n        checked' in page.text or 'value="repeat" checked' in " ".join(page.text.split())
    missing_note = await _post(agent, f"/complaints/{complaint_id}/major", {"reasons": "other"})
    assert missing_note.status_code == 400 and 'data-field="reasons[0].note"' in missing_note.text
    assert await major_of(complaint_id) is None
    marked = await _post(agent, f"/complaints/{complaint_id}/major", {"reasons": ["repeat", "other"], "note": "多人围堵"})
    assert marked.status_code == 303
    major = await major_of(complaint_id)
    assert marked.headers["location"] == f"/major/{major['id']}?ok=marked_major"


async def test_pages_are_404_across_stores_and_groups(browser_session, tenant, other_tenant):
    complaint_id, major_id = await _major(tenant)
    immediate = await alert_id(major_id, 0)
    for owner, who in [(tenant, "store_gm@B"), (other_tenant, "store_gm@A"), (other_tenant, "hq_viewer"),
                       (other_tenant, "call_center_agent")]:
        client = await browser_session(owner.usernames[who])
        assert (await client.get(f"/major/{major_id}")).status_code == 404, who
        assert f'data-major-id="{major_id}"' not in (await client.get("/major")).text
        for path, data in [(f"/major/{major_id}/report", {"action": "save", "facts": "x"}),
                           (f"/major/{major_id}/forward", {}),
                           (f"/major/alerts/{immediate}/acknowledge", {}),
                           (f"/complaints/{complaint_id}/major", {"reasons": "repeat"})]:
            assert (await _post(client, path, data)).status_code in (403, 404), (who, path)
        if owner is other_tenant or who == "store_gm@B":
            marking = await client.get(f"/complaints/{complaint_id}/major")
            assert marking.status_code in (403, 404)
    other_gm = await browser_session(other_tenant.usernames["store_gm@A"])
    assert (await _post(other_gm, f"/major/{major_id}/report", {"action": "save", "facts": "x"})).status_code == 404


async def test_the_group_admin_edits_the_ladder_on_its_page(browser_session, tenant, other_tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    page = await admin.get("/settings/major-policy")
    assert page.status_code == 200 and "升级梯度" in page.text and 'name="level0_hours" inputmode="decimal" value="24"' in page.text
    form = {
        "repeat_window_days": "60", "report_deadline_hours": "24", "renotify_minutes": "45",
        "alert_roles": ["store_gm", "legal"], "level_count": "3",
        "level0_hours": "24", "level0_condition": "report_missing", "level0_roles": "hq_viewer",
        "level1_hours": "48", "level1_condition": "unresolved", "level1_roles": "hq_viewer",
        "level1_channels": "sms", "level1_label_zh": "48小时未解决",
        "level2_hours": "",
    }
    saved = await _post(admin, "/settings/major-policy", form)
    assert saved.status_code == 303
    policy = await get_policy(actor=await tenant.scope("group_admin"))
    assert (policy.repeat_window_days, policy.renotify_seconds, [str(r) for r in policy.alert_roles]) == (
        60, 2700, ["store_gm", "legal"])
    assert [(lv.delay_seconds, lv.condition.value, lv.channels) for lv in policy.levels] == [
        (86400, "report_missing", []), (172800, "unresolved", ["sms"])]
    bad = await _post(admin, "/settings/major-policy", {**form, "level1_roles": [], "renotify_minutes": "x"})
    assert bad.status_code == 400 and 'data-field="renotify_minutes"' in bad.text
    bad = await _post(admin, "/settings/major-policy", {**form, "level1_roles": []})
    assert bad.status_code == 400 and "levels[1].roles" in bad.text and 'value="48小时未解决"' in bad.text
    assert len((await get_policy(actor=await tenant.scope("group_admin"))).levels) == 2
    other = await get_policy(actor=await other_tenant.scope("group_admin"))
    assert len(other.levels) == 1 and other.repeat_window_days == 90

    hq = await browser_session(tenant.usernames["hq_viewer"])
    read_only = await hq.get("/settings/major-policy")
    assert read_only.status_code == 200 and "<fieldset disabled>" in read_only.text and "保存规则" not in read_only.text
    assert (await _post(hq, "/settings/major-policy", form)).status_code == 403
    staff = await browser_session(tenant.usernames["staff@A"])
    assert (await staff.get("/settings/major-policy")).status_code == 403


async def test_complaint_pages_show_the_major_flag_and_offer_marking(browser_session, tenant):
    complaint_id, major_id = await _overdue_major(tenant)
    plain = await complaint_for(tenant, await customer_with_car(tenant))
    hq = await browser_session(tenant.usernames["hq_viewer"])
    listing = (await hq.get("/complaints")).text
    flag = f'<a class="tag tag-danger major-flag" href="/major/{major_id}">重大投诉 · 报告逾期</a>'
    assert flag in listing
    assert flag in (await hq.get(f"/complaints/{complaint_id}")).text
    gm = await browser_session(tenant.usernames["store_gm@A"])
    assert f'href="/complaints/{plain}/major"' in (await gm.get(f"/complaints/{plain}")).text
    assert f'href="/complaints/{plain}/major"' not in (await hq.get(f"/complaints/{plain}")).text
