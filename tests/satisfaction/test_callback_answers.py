"""The answers people give on a callback: factors scored 1–10 or "not applicable", overall satisfaction on
five levels; N/A is in no average, the satisfaction rate counts 非常满意 + 满意 over the answers, and
不满意 / 非常不满意 still file a complaint."""

from __future__ import annotations

import pytest

from crm.analytics.rollups import callback_counts
from crm.callbacks import service, statistics
from crm.callbacks.surveys import LEVEL_CODES, factor_codes
from crm.callbacks.tables import Callback, CallbackScore
from tests.support.callbacks import (
    callbacks_of,
    delivered_customer,
    fire_callback_timers,
    make_due,
    settle_timers,  # noqa: F401 (a fixture, used by name)
)

API = "/api/v1/callbacks"
pytestmark = pytest.mark.usefixtures("settle_timers")


async def due_ssi_followup(tenant) -> int:
    _, _, sale_id = await delivered_customer(tenant)
    followup = (await callbacks_of("sale", sale_id))["delivery_followup_3d"]["id"]
    await fire_callback_timers(followup)
    return followup


async def test_a_cash_buyer_answers_financing_not_applicable_and_it_is_in_no_average(client, tenant):
    followup = await due_ssi_followup(tenant)
    agent = await tenant.headers("callback_agent@A")
    assert (await client.post(f"{API}/{followup}/claim", headers=agent)).status_code == 200
    scores = {code: 8 for code in factor_codes("ssi")} | {"financing": "na"}
    done = await client.post(f"{API}/{followup}/outcome", headers=agent,
                             json={"outcome": "reached", "satisfaction": "very_satisfied", "scores": scores})
    assert done.status_code == 200, done.text
    stored = {r["factor"]: r["score"] for r in await CallbackScore.select().where(CallbackScore.callback == followup)}
    assert stored["financing"] is None and stored["salesperson"] == 8 and len(stored) == 8
    detail = (await client.get(f"{API}/{followup}", headers=agent)).json()
    assert detail["satisfaction"] == "very_satisfied" and detail["scores"]["financing"] == "na"
    assert detail["satisfaction_label"] == ["非常满意", "Very satisfied"]

    callback = await Callback.select(Callback.due_at).where(Callback.id == followup).first()
    stats = await statistics.callback_statistics(actor=await tenant.scope("store_cr_manager@A"),
                                                 store_id=tenant.store_a, period="month", day=callback["due_at"].date())
    averages = {(f.survey, f.factor): f for f in stats.factors}
    assert averages[("ssi", "financing")].average is None and averages[("ssi", "financing")].answers == 0
    assert averages[("ssi", "salesperson")].average == 8 and averages[("ssi", "salesperson")].answers == 1
    assert stats.sales.satisfied == 1 and stats.sales.answered == 1


async def test_bad_answers_are_field_errors(client, tenant):
    followup = await due_ssi_followup(tenant)
    agent = await tenant.headers("callback_agent@A")
    await client.post(f"{API}/{followup}/claim", headers=agent)
    scores = {code: 8 for code in factor_codes("ssi")}
    for body, field in [
        ({"outcome": "reached", "satisfaction": "so-so", "scores": scores}, "satisfaction"),
        ({"outcome": "reached", "satisfaction": "satisfied", "scores": scores | {"financing": "maybe"}}, "scores"),
        ({"outcome": "reached", "satisfaction": "satisfied", "scores": scores | {"financing": 11}}, "scores"),
        ({"outcome": "reached", "scores": scores}, "satisfaction"),
    ]:
        response = await client.post(f"{API}/{followup}/outcome", headers=agent, json=body)
        assert response.status_code == 400, body
        problems = response.json()["errors"]
        assert any(p["field"].startswith(field) and p["message_zh"] and p["message_en"] for p in problems), problems


@pytest.mark.parametrize(("level", "complaint"), [
    ("very_satisfied", False), ("satisfied", False), ("neutral", False), ("dissatisfied", True),
    ("very_dissatisfied", True),
])
async def test_only_unhappy_answers_file_a_complaint(tenant, level, complaint):
    callback_id = await make_due(tenant)
    result = await service.record_outcome(actor=await tenant.scope("callback_agent@A"), callback_id=callback_id,
                                          outcome="reached", satisfaction=level)
    assert (result.complaint_id is not None) is complaint
    row = await Callback.select(Callback.satisfaction).where(Callback.id == callback_id).first()
    assert row["satisfaction"] == level


async def test_the_yes_no_answer_of_older_clients_is_read_as_satisfied_or_dissatisfied(tenant):
    agent = await tenant.scope("callback_agent@A")
    happy, unhappy = await make_due(tenant), await make_due(tenant)
    await service.record_outcome(actor=agent, callback_id=happy, outcome="reached", satisfied=True)
    result = await service.record_outcome(actor=agent, callback_id=unhappy, outcome="reached", satisfied=False)
    rows = {r["id"]: r["satisfaction"] for r in await Callback.select().where(Callback.id.is_in([happy, unhappy]))}
    assert rows == {happy: "satisfied", unhappy: "dissatisfied"} and result.complaint_id is not None


def test_the_satisfaction_rate_counts_very_satisfied_and_satisfied_over_every_answer():
    def one(satisfaction):
        return callback_counts({"channel": "phone", "state": "done", "attempts": 1, "first_attempt_at": None,
                                "deadline_at": None, "satisfaction": satisfaction})

    total = sum((one(level) for level in [*LEVEL_CODES, None]), start=one("satisfied") - one("satisfied"))
    assert total["callbacks_answered"] == 5 and total["callbacks_satisfied"] == 2
