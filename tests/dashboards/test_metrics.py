"""Each dashboard metric against a hand count on small hand-built data (November 2026, store A; B and C for
ranks, totals and averages), through the real endpoint; the items behind a number add up to it."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from crm.analytics.metrics import METRICS, nearest_rank
from tests.support.builders import (
    at,
    callback_row,
    complaint_row,
    customer_with_car,
    major_row,
    score_rows,
    visit_row,
)
from tests.support.dashboards import settle

API = "/api/v1/dashboards"
NOW = at(date(2026, 12, 2), 10)  # Wednesday morning, after the month


def d(day: int) -> date:
    return date(2026, 11, day)


async def build_november(tenant) -> None:
    a, b = tenant.store_a, tenant.store_b
    car = await customer_with_car(tenant, "A")
    # C1: 400 hotline, accepted/handled/resolved in time, 有责; resolved 570 working minutes after receipt
    # (Wed 10:00–18:00 = 480, Thu 08:30–10:00 = 90).
    await complaint_row(tenant, car, a, at(d(4), 10), state="closed", channel="hotline_400", liability="liable",
                    accepted_at=at(d(4), 10, 30), handled_at=at(d(4), 15), resolved_at=at(d(5), 10),
                    report_state="accepted")
    # C2: accepted late and never handled (both misses recorded); major, report filed after its 24 h.
    c2 = await complaint_row(tenant, car, a, at(d(10), 9), state="accepted", accepted_at=at(d(10), 13),
                         missed=("accept", "handle"), due_at=at(d(11), 13))
    await major_row(tenant, c2, a, at(d(10), 9, 30), filed=at(d(11), 12))
    # C3: taken by the group, resolved in 120 working minutes after one reopening, fed back in time.
    await complaint_row(tenant, car, a, at(d(20), 14), state="fed_back", via_group=True, reopen_count=1,
                    accepted_at=at(d(20), 14, 10), handled_at=at(d(20), 15), resolved_at=at(d(20), 16),
                    fed_back_at=at(d(20), 17), report_state="submitted")
    # Voided by a successful appeal: counts nothing.
    await complaint_row(tenant, car, a, at(d(12), 9), state="voided", liability="liable", accepted_at=at(d(12), 9, 5))
    # Local day boundaries: Oct 31 23:30 is October; Nov 30 23:30 is November (both 15:30 UTC).
    await complaint_row(tenant, car, a, at(date(2026, 10, 31), 23, 30), channel="online")
    await complaint_row(tenant, car, a, at(d(30), 23, 30), channel="online")
    # Callbacks: CB1 on time and satisfied with two SSI scores; CB2 late then unreachable; CB5 on time, not
    # satisfied, one CSI score; skipped (do-not-call), SMS and cancelled ones are not due.
    cb1 = await callback_row(tenant, car, a, at(d(3), 10), first_attempt=at(d(3), 11), satisfied=True, survey="ssi")
    await score_rows(tenant, cb1, a, "ssi", [8, 10], at(d(3), 11))
    await callback_row(tenant, car, a, at(d(6), 10), state="unreachable", attempts=3, first_attempt=at(d(9), 10))
    await callback_row(tenant, car, a, at(d(7), 10), state="skipped", attempts=0)
    await callback_row(tenant, car, a, at(d(7), 11), channel="sms", state="done")
    cb5 = await callback_row(tenant, car, a, at(d(8), 10), first_attempt=at(d(8), 10, 5), satisfied=False, survey="csi")
    await score_rows(tenant, cb5, a, "csi", [6], at(d(8), 10, 5))
    await callback_row(tenant, car, a, at(d(9), 10), state="cancelled", attempts=0)
    for left in (at(d(2), 17), at(d(15), 11)):
        await visit_row(tenant, car, a, left)
    await visit_row(tenant, car, a, at(d(16), 11), cancelled=True)
    await visit_row(tenant, car, a, at(date(2026, 10, 20), 11))
    # Store B: one complaint; store C: nothing.
    await complaint_row(tenant, await customer_with_car(tenant, "B"), b, at(d(5), 10))
    await settle()


async def test_every_metric_matches_the_hand_count(client, tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        r = await client.get(f"{API}/stores", params={"period": "month", "month": "2026-11"},
                             headers=await tenant.headers("hq_viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["start"], body["end"], body["view"]) == ("2026-11-01", "2026-12-01", "group")
    rows = {row["store_id"]: row for row in body["rows"]}
    a = rows[tenant.store_a]["values"]
    expected = {
        "complaints": 4, "complaints_hotline_400": 1, "complaints_walk_in": 2, "complaints_online": 1,
        "complaints_per_100_visits": 200.0, "major_complaints": 1,
        "accept_on_time_rate": 2 / 3, "handle_on_time_rate": 2 / 3, "report_on_time_rate": 1.0,
        "feedback_on_time_rate": 1.0, "major_report_on_time_rate": 0.0,
        "resolution_median_hours": 2.0, "resolution_p90_hours": 9.5, "reopen_rate": 0.5, "liable": 1,
        "callback_rate": 1.0, "callback_on_time_rate": 2 / 3, "unreachable_rate": 1 / 3, "satisfaction_rate": 0.5,
        "ssi": 9.0, "csi": 6.0, "service_visits": 2, "overdue_now": 1,
    }
    for key, value in expected.items():
        assert a[key] == pytest.approx(value), key
    # Ranks (competition ranking, fewer complaints is better), total and average over the three stores.
    assert [rows[s]["values"]["complaints"] for s in tenant.store_ids] == [4, 1, 0]
    assert [rows[s]["ranks"]["complaints"] for s in tenant.store_ids] == [3, 2, 1]
    assert body["total"]["complaints"] == 5 and body["average"]["complaints"] == pytest.approx(5 / 3)
    assert body["total"]["accept_on_time_rate"] == pytest.approx(2 / 3)  # B's complaint was not accepted yet
    assert rows[tenant.store_b]["values"]["accept_on_time_rate"] is None
    assert rows[tenant.store_b]["ranks"]["accept_on_time_rate"] is None
    assert body["compared_stores"] == 3


async def test_the_items_behind_a_number_add_up_to_it(client, tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        hq = await tenant.headers("hq_viewer")
        params = {"period": "month", "month": "2026-11", "store_id": tenant.store_a}
        accept = (await client.get(f"{API}/items", params={**params, "metric": "accept_on_time_rate"},
                                   headers=hq)).json()
        callbacks = (await client.get(f"{API}/items", params={**params, "metric": "callback_on_time_rate"},
                                      headers=hq)).json()
        second = (await client.get(f"{API}/items", headers=hq, params={
            **params, "metric": "accept_on_time_rate", "sort": "-at", "page": 2, "page_size": 2})).json()
    assert len(accept["items"]) == 3 and sum(i["counted"] for i in accept["items"]) == 2
    assert (accept["total"], accept["counted"], accept["pages"]) == (3, 2, 1)
    assert (second["total"], second["counted"], second["pages"], second["sort"]) == (3, 2, 2, "-at")
    assert [i["id"] for i in second["items"]] == [min(accept["items"], key=lambda i: i["at"])["id"]]
    assert all(i["link"].startswith("/complaints/") for i in accept["items"])
    assert len(callbacks["items"]) == 3 and sum(i["counted"] for i in callbacks["items"]) == 2


async def test_week_quarter_year_and_custom_periods_sum_the_same_days(client, tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        hq = await tenant.headers("hq_viewer")

        async def complaints_of(**params) -> int:
            r = await client.get(f"{API}/stores", params=params, headers=hq)
            assert r.status_code == 200, r.text
            return {row["store_id"]: row for row in r.json()["rows"]}[tenant.store_a]["values"]["complaints"]

        assert await complaints_of(period="week", week="2026-W45") == 1  # Nov 2–8: C1
        assert await complaints_of(period="quarter", quarter="2026-Q4") == 5
        assert await complaints_of(period="year", year="2026") == 5
        assert await complaints_of(period="custom", **{"from": "2026-11-10", "to": "2026-11-20"}) == 2
        assert await complaints_of(period="month") == 0  # the current month (December), group timezone


def test_nearest_rank_is_exact_on_counts():
    assert nearest_rank({}, 0.5) is None
    assert nearest_rank({10: 1, 20: 1}, 0.5) == 10
    assert nearest_rank({10: 1, 20: 1, 30: 1}, 0.5) == 20
    assert nearest_rank({5: 9, 100: 1}, 0.9) == 5 and nearest_rank({5: 8, 100: 2}, 0.9) == 100


def test_every_metric_has_a_formula_and_labels():
    for metric in METRICS.values():
        assert metric.formula and metric.label_zh and metric.label_en, metric.key
