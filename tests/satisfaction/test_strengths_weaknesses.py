"""Strength and weakness items on constructed answer distributions, with the group's thresholds."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from crm.callbacks.tables import Callback, CallbackScore
from crm.satisfaction.items import Thresholds, classify, level_of_score
from tests.support.callbacks import make_customer, make_vehicle

LIMITS = Thresholds()  # strength ≥ 60 % very satisfied; weakness < 40 % with unhappy > 10 %, or a drop > 10 points
_serial = itertools.count()


def dist(very=0, satisfied=0, neutral=0, dissatisfied=0, very_dissatisfied=0) -> Counter:
    return Counter(very_satisfied=very, satisfied=satisfied, neutral=neutral, dissatisfied=dissatisfied,
                   very_dissatisfied=very_dissatisfied)


@pytest.mark.parametrize(("levels", "previous", "verdict"), [
    (dist(very=6, satisfied=4), None, "strength"),  # exactly 60 %: at the threshold is enough
    (dist(very=59, satisfied=41), None, None),  # 59 %: not high enough
    (dist(very=9, dissatisfied=1), None, None),  # one unhappy answer: never a strength
    (dist(very=3, satisfied=5, dissatisfied=2), None, "weakness"),  # 30 % and 20 % unhappy
    (dist(very=4, satisfied=5, dissatisfied=1), None, None),  # 40 % is not below 40 %; 10 % is not above 10 %
    (dist(very=3, satisfied=6, dissatisfied=1), None, None),  # 30 %, but 10 % unhappy is not above 10 %
    (dist(very=6, satisfied=4), dist(very=9, satisfied=1), "weakness"),  # a 30-point drop outweighs 60 %
    (dist(very=7, satisfied=3), dist(very=8, satisfied=2), "strength"),  # a 10-point drop is not > 10
    (dist(), None, None),
])
def test_classify(levels, previous, verdict):
    assert classify(levels, previous, LIMITS) == verdict


def test_scores_read_as_levels():
    assert [level_of_score(s) for s in range(10, 0, -1)] == [
        "very_satisfied", "very_satisfied", "satisfied", "satisfied", "neutral", "neutral",
        "dissatisfied", "dissatisfied", "very_dissatisfied", "very_dissatisfied"]


async def answer(tenant, due: datetime, scores: dict[str, int | None]) -> None:
    customer = await make_customer(tenant, tenant.store_a)
    vehicle = await make_vehicle(tenant, tenant.store_a, customer)
    row = Callback(group=tenant.group_id, store=tenant.store_a, customer=customer, vehicle=vehicle, kind="sale_3d",
                   channel="phone", survey="ssi", source_type="sale", source_id=0, dedupe_key=f"sw-{next(_serial)}-{due}",
                   anchor_at=due, due_at=due, deadline_at=due + timedelta(days=2), state="done", attempts=1,
                   outcome="reached", satisfaction="satisfied", created_at=due)
    await row.save()
    await CallbackScore.insert(*(CallbackScore(group=tenant.group_id, store=tenant.store_a, callback=row.id,
                                               survey="ssi", factor=f, score=s, recorded_at=due)
                                 for f, s in scores.items()))


async def test_a_store_month_with_the_groups_thresholds(client, tenant, other_tenant):
    november = datetime(2026, 11, 10, 4, tzinfo=UTC)
    october = datetime(2026, 10, 10, 4, tzinfo=UTC)
    for salesperson, financing, paperwork in [(10, None, 10), (9, None, 10), (10, 9, 8), (8, 3, 10), (10, 5, 10)]:
        await answer(tenant, november, {"salesperson": salesperson, "financing": financing, "paperwork": paperwork})
    for _ in range(5):
        await answer(tenant, october, {"paperwork": 10})
    url = f"/api/v1/stores/{tenant.store_a}/strengths-weaknesses"
    response = await client.get(url, params={"month": "2026-11"}, headers=await tenant.headers("store_gm@A"))
    assert response.status_code == 200, response.text
    by_factor = {i["factor"]: i for i in response.json()["items"] if i["survey"] == "ssi"}
    assert by_factor["salesperson"]["verdict"] == "strength"  # 4 of 5 very satisfied, none unhappy
    assert by_factor["financing"]["answers"] == 3  # N/A answers are not answers
    assert by_factor["financing"]["average"] == 5.67 and by_factor["salesperson"]["average"] == 9.4  # N/A: no score
    assert by_factor["financing"]["verdict"] == "weakness"  # 33 % very satisfied, 33 % unhappy
    assert by_factor["paperwork"]["verdict"] == "weakness"  # 100 % → 80 %: a 20-point drop

    admin = await tenant.headers("group_admin")
    changed = await client.put("/api/v1/satisfaction/thresholds", json={"weakness_drop_min": 25}, headers=admin)
    assert changed.status_code == 200 and changed.json()["weakness_drop_min"] == 25
    again = await client.get(url, params={"month": "2026-11"}, headers=await tenant.headers("store_gm@A"))
    assert {i["factor"]: i["verdict"] for i in again.json()["items"] if i["survey"] == "ssi"}["paperwork"] == "strength"

    bad = await client.put("/api/v1/satisfaction/thresholds", json={"weakness_drop_min": 101}, headers=admin)
    assert bad.status_code == 400 and bad.json()["errors"][0]["message_zh"]
    refused = await client.put("/api/v1/satisfaction/thresholds", json={"weakness_drop_min": 5},
                               headers=await tenant.headers("hq_viewer"))
    assert refused.status_code == 403
    other = await client.get("/api/v1/satisfaction/thresholds", headers=await other_tenant.headers("group_admin"))
    assert other.json()["weakness_drop_min"] == 10  # another group keeps its own (the defaults)
    assert (await client.get(url, headers=await other_tenant.headers("group_admin"))).status_code == 404
    assert (await client.get(url, headers=await tenant.headers("store_gm@B"))).status_code == 404
    for month in ("9999-12", "0000-01"):
        far = await client.get(url, params={"month": month}, headers=await tenant.headers("store_gm@A"))
        assert far.status_code == 400 and far.json()["errors"][0]["field"] == "month"


async def test_the_group_admin_edits_the_thresholds_on_the_page(browser_session, tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    page = await admin.get("/satisfaction")
    assert page.status_code == 200 and 'name="weakness_drop_min"' in page.text and "保存阈值" in page.text
    token = admin.cookies.get("csrftoken") or ""
    values = {"strength_very_satisfied_min": "70", "weakness_very_satisfied_max": "35", "weakness_unhappy_min": "15",
              "weakness_drop_min": "20", "_csrf_token": token}
    saved = await admin.post("/satisfaction/thresholds", data=values, headers={"X-CSRFToken": token})
    assert saved.status_code == 303
    assert 'name="weakness_drop_min" min="0" max="100" step="1" required value="20"' in (await admin.get("/satisfaction")).text
    bad = await admin.post("/satisfaction/thresholds", data={**values, "weakness_unhappy_min": "abc"},
                           headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "阈值应为0–100之间的整数" in bad.text

    viewer = await browser_session(tenant.usernames["hq_viewer"])
    shown = await viewer.get("/satisfaction")
    assert 'value="20" disabled' in shown.text and "保存阈值" not in shown.text
    store = await viewer.get(f"/satisfaction/stores/{tenant.store_a}", params={"month": "2026-10"})
    assert store.status_code == 200 and 'name="month" value="2026-10"' in store.text
    far = await viewer.get(f"/satisfaction/stores/{tenant.store_a}", params={"month": "9999-12"})
    assert far.status_code == 200 and 'name="month" value="2026-12"' in far.text  # unreadable: this month
    token = viewer.cookies.get("csrftoken") or ""
    refused = await viewer.post("/satisfaction/thresholds", data={**values, "_csrf_token": token},
                                headers={"X-CSRFToken": token})
    assert refused.status_code == 403
