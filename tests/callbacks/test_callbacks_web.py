"""The callback pages over HTTP: queue, call screen, outcome form with errors, next call, statistics, 404s."""

from __future__ import annotations

import re

from crm.callbacks.tables import Callback
from tests.support.web import csrf_of as csrf
from tests.support.callbacks import callbacks_of, delivered_customer, fire_callback_timers, make_due


async def test_queue_call_screen_and_save_and_next(browser_session, tenant):
    first = await make_due(tenant, name="刘备")
    second = await make_due(tenant, name="关羽")
    browser = await browser_session(tenant.usernames["callback_agent@A"])
    queue = await browser.get("/callbacks")
    assert queue.status_code == 200
    assert "回访工作台" in queue.text and "下一个回访" in queue.text
    assert f'data-href="/callbacks/{first}"' in queue.text and "刘先生" in queue.text
    fragment = await browser.get("/callbacks", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and f"/callbacks/{second}" in fragment.text

    opened = await browser.post("/callbacks/next", data={"_csrf_token": csrf(queue.text)})
    assert opened.status_code in (302, 303)
    current = int(opened.headers["location"].rsplit("/", 1)[1])
    screen = await browser.get(f"/callbacks/{current}")
    assert "回访话术" in screen.text and "您好！" in screen.text and 'id="outcome-form"' in screen.text

    bad = await browser.post(f"/callbacks/{current}/outcome",
                             data={"_csrf_token": csrf(screen.text), "outcome": "reached", "then": "next"})
    assert bad.status_code == 400 and "接通后请记录客户满意程度" in bad.text
    saved = await browser.post(f"/callbacks/{current}/outcome",
                               data={"_csrf_token": csrf(screen.text), "outcome": "reached", "satisfied": "satisfied",
                                     "comment": "满意", "then": "next"})
    assert saved.status_code in (302, 303)
    following = int(saved.headers["location"].split("?")[0].rsplit("/", 1)[1])
    assert {current, following} == {first, second}
    assert (await Callback.select(Callback.state).where(Callback.id == current).first())["state"] == "done"
    closed = await browser.get(f"/callbacks/{current}")
    assert 'id="call-closed"' in closed.text


async def test_statistics_page_and_nav(browser_session, tenant):
    browser = await browser_session(tenant.usernames["store_gm@A"])
    page = await browser.get("/callback-stats")
    assert page.status_code == 200
    assert "新购车用户回访" in page.text and "维修用户回访" in page.text and "交车过程" in page.text
    assert 'href="/callbacks"' in page.text


async def test_pages_are_404_for_other_stores_and_groups(browser_session, tenant, other_tenant):
    callback_id = await make_due(tenant)
    browser = await browser_session(tenant.usernames["callback_agent@B"])
    assert (await browser.get(f"/callbacks/{callback_id}")).status_code == 404
    assert (await browser.get(f"/callbacks?store={tenant.store_a}")).status_code == 404
    assert (await browser.get(f"/callback-stats?store={tenant.store_a}")).status_code == 404
    page = await browser.get("/callbacks")
    token = csrf(page.text)
    for action in ("claim", "release", "outcome"):
        r = await browser.post(f"/callbacks/{callback_id}/{action}", data={"_csrf_token": token,
                                                                           "outcome": "no_answer"})
        assert r.status_code == 404, action
    outsider = await browser_session(other_tenant.usernames["call_center_agent"])
    assert (await outsider.get(f"/callbacks/{callback_id}")).status_code == 404
    row = await Callback.select().where(Callback.id == callback_id).first()
    assert row["attempts"] == 0 and row["claimed_by"] is None


async def test_ssi_call_screen_requires_every_score_or_the_declined_box(browser_session, tenant):
    _, _, sale_id = await delivered_customer(tenant)
    followup = (await callbacks_of("sale", sale_id))["delivery_followup_3d"]["id"]
    await fire_callback_timers(followup)
    browser = await browser_session(tenant.usernames["callback_agent@A"])
    token = csrf((await browser.get("/callbacks")).text)
    await browser.post(f"/callbacks/{followup}/claim", data={"_csrf_token": token})
    screen = await browser.get(f"/callbacks/{followup}")
    assert "满意度评分（必填" in screen.text and 'id="survey-declined"' in screen.text
    form = {"_csrf_token": csrf(screen.text), "outcome": "reached", "satisfied": "satisfied", "score_salesperson": "9",
            "then": "stay"}
    bad = await browser.post(f"/callbacks/{followup}/outcome", data=form)
    assert bad.status_code == 400
    assert bad.text.count('aria-invalid="true"') == 7 and "“交车过程”打分" in bad.text
    assert re.search(r'name="score_salesperson"[^>]*value="9"', bad.text)
    saved = await browser.post(f"/callbacks/{followup}/outcome", data=form | {"survey_declined": "1"})
    assert saved.status_code in (302, 303)
    closed = await browser.get(f"/callbacks/{followup}")
    assert 'id="survey-declined-note"' in closed.text


async def test_a_planned_call_says_when_it_is_due_and_the_empty_queue_names_the_next_one(browser_session, tenant):
    _, _, sale_id = await delivered_customer(tenant, tenant.store_b, name="赵云")
    planned = await callbacks_of("sale", sale_id)
    care_2h = planned["delivery_care_2h"]
    browser = await browser_session(tenant.usernames["callback_agent@B"])

    queue = await browser.get("/callbacks")
    assert 'id="queue-empty"' in queue.text and "当前没有到期的回访电话。" in queue.text
    assert f'<a href="/callbacks/{care_2h["id"]}" id="next-planned">下一个回访将于' in queue.text
    assert "赵先生" in queue.text

    screen = await browser.get(f"/callbacks/{care_2h['id']}")
    assert 'id="call-planned"' in screen.text and "尚未到期" in screen.text
    assert 'id="call-closed"' not in screen.text and 'id="claim"' not in screen.text

    await fire_callback_timers(care_2h["id"])
    queue = await browser.get("/callbacks")
    assert 'id="queue-empty"' not in queue.text and f'data-href="/callbacks/{care_2h["id"]}"' in queue.text
    screen = await browser.get(f"/callbacks/{care_2h['id']}")
    assert 'id="claim"' in screen.text and 'id="call-planned"' not in screen.text
