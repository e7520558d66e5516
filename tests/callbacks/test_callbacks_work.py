"""The agents' work: queue, claiming (and the race for it), outcomes, retries, unreachable, corrections, SMS."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import time_machine

from crm import clock
from crm.callbacks import service
from crm.callbacks.surveys import factor_codes
from crm.callbacks.tables import Callback, CallbackAttempt, CallbackScore
from crm.customers.tables import Customer, CustomerCorrection
from crm.privacy import vault
from tenants.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.callbacks import (
    callbacks_of,
    delivered_customer,
    fire_callback_timers,
    make_due,
    pending_callback_timers,
)


async def _state(callback_id: int) -> dict:
    return await Callback.select().where(Callback.id == callback_id).first()


async def test_queue_shows_due_calls_with_customer_and_car(tenant):
    callback_id = await make_due(tenant, name="欧阳娜娜", gender="female")
    agent = await tenant.scope("callback_agent@A")
    queue = await service.work_queue(actor=agent)
    item = next(i for i in queue.due + queue.overdue if i.id == callback_id)
    assert item.customer == "欧阳女士"
    assert item.car == "大众帕萨特" and item.plate.startswith("沪A")
    assert item.kind_label == "交车后2小时关怀回访"
    assert queue.counts["due"] + queue.counts["overdue"] >= 1
    other_store = await tenant.scope("callback_agent@B")
    queue_b = await service.work_queue(actor=other_store)
    assert callback_id not in {i.id for i in queue_b.due + queue_b.overdue + queue_b.upcoming}


async def test_script_is_filled_with_customer_car_and_delivery(tenant):
    callback_id = await make_due(tenant, name="王建国", gender="male")
    agent = await tenant.scope("callback_agent@A")
    detail = await service.callback_detail(actor=agent, callback_id=callback_id)
    assert detail.script.startswith("您好！王先生，我是测试4S店A")
    assert agent.display_name in detail.script and "大众帕萨特" in detail.script
    assert "____" not in detail.script
    assert detail.source["type"] == "sale" and detail.source["salesperson"] == "李娜"


async def test_two_agents_claiming_the_same_call_one_wins(tenant):
    callback_id = await make_due(tenant)
    first, second = await tenant.scope("callback_agent@A"), await tenant.scope("store_cr_manager@A")
    results = await asyncio.gather(
        service.claim_callback(actor=first, callback_id=callback_id),
        service.claim_callback(actor=second, callback_id=callback_id),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1
    winner = first if not isinstance(results[0], Conflict) else second
    assert (await _state(callback_id))["claimed_by"] == winner.user_id
    loser = second if winner is first else first
    with pytest.raises(Conflict):
        await service.record_outcome(actor=loser, callback_id=callback_id, outcome="no_answer")


async def test_next_call_never_gives_two_agents_the_same_call(tenant):
    ids = {await make_due(tenant, store_id=tenant.store_c) for _ in range(3)}
    agents = [await tenant.scope(k) for k in ("callback_agent@C", "store_cr_manager@C", "call_center_agent",
                                              "group_customer_service")]
    results = await asyncio.gather(*[service.claim_next(actor=a, store_id=tenant.store_c) for a in agents])
    claimed = [r.id for r in results if r is not None]
    assert len(claimed) == len(set(claimed)) == 3
    assert set(claimed) == ids
    # Whichever agent lost the race got nothing (there are only three calls for four agents).
    assert sum(r is None for r in results) == 1
    # Asking again gives each agent who got a call their own current call back, and the loser still nothing.
    for agent, first in zip(agents, results):
        again = await service.claim_next(actor=agent, store_id=tenant.store_c)
        if first is None:
            assert again is None
        else:
            assert again is not None and again.id == first.id


async def test_expired_claim_returns_to_the_queue(tenant):
    callback_id = await make_due(tenant)
    first, second = await tenant.scope("callback_agent@A"), await tenant.scope("store_cr_manager@A")
    await service.claim_callback(actor=first, callback_id=callback_id)
    with pytest.raises(Conflict):
        await service.claim_callback(actor=second, callback_id=callback_id)
    with time_machine.travel(clock.now() + service.CLAIM_TTL + timedelta(seconds=1), tick=False):
        detail = await service.claim_callback(actor=second, callback_id=callback_id)
    assert detail.claimed_by_me


async def test_reached_and_satisfied_with_scores_and_corrections(tenant):
    customer_id, _, sale_id = await delivered_customer(tenant)
    followup = (await callbacks_of("sale", sale_id))["delivery_followup_3d"]
    await fire_callback_timers(followup["id"])
    agent = await tenant.scope("callback_agent@A")
    detail = await service.claim_callback(actor=agent, callback_id=followup["id"])
    assert [f["label_zh"] for f in detail.factors][:2] == ["开始购车的经历", "经销商的设施"]
    all_scores = {code: 8 for code in factor_codes("ssi")} | {"salesperson": 9, "delivery_process": 10}
    result = await service.record_outcome(
        actor=agent, callback_id=followup["id"], outcome="reached", satisfied=True,
        scores=all_scores, comment="客户很满意",
        corrections={"address": "上海市浦东新区世纪大道1号", "mobile": "13800138000"},
    )
    assert result.state == "done" and result.complaint_id is None
    row = await _state(followup["id"])
    assert row["satisfaction"] == "satisfied" and row["completed_by"] == agent.user_id and row["first_attempt_at"]
    assert row["survey_declined"] is False
    scores = await CallbackScore.select(CallbackScore.factor, CallbackScore.score).where(
        CallbackScore.callback == followup["id"])
    assert {s["factor"]: s["score"] for s in scores} == all_scores
    # The agent does not edit the record: each correction is a request to the owning department (修正表).
    customer = await Customer.select().where(Customer.id == customer_id).first()
    assert customer["mobile"] != "13800138000" and not customer["address"].startswith("上海市")
    requests = await CustomerCorrection.select().where(CustomerCorrection.callback_id == followup["id"])
    assert "13800138000" not in str(requests)  # stored sealed (crm.privacy.vault), opened on reading
    assert {(r["field"], r["proposed_value"], r["department"]) for r in vault.open_rows(requests)} == {
        ("mobile", "13800138000", "sales"), ("address", "上海市浦东新区世纪大道1号", "sales")}
    stored = await Callback.select(Callback.corrections).where(Callback.id == followup["id"]).first()
    assert "13800138000" not in str(stored) and "上海市浦东新区" in str(stored)
    detail = await service.callback_detail(actor=agent, callback_id=followup["id"])
    assert detail.corrections["mobile"][1] == "13800138000"
    assert [a.outcome for a in detail.history] == ["reached"]


async def test_a_reached_survey_needs_every_score_unless_the_customer_declined(tenant):
    _, _, sale_id = await delivered_customer(tenant)
    followup = (await callbacks_of("sale", sale_id))["delivery_followup_3d"]  # SSI: eight factors
    await fire_callback_timers(followup["id"])
    agent = await tenant.scope("callback_agent@A")
    await service.claim_callback(actor=agent, callback_id=followup["id"])
    for partial in ({}, {"salesperson": 9, "delivery_process": 10}):
        with pytest.raises(InvalidInput) as error:
            await service.record_outcome(actor=agent, callback_id=followup["id"], outcome="reached",
                                         satisfied=True, scores=partial)
        missing = [code for code in factor_codes("ssi") if code not in partial]
        assert [p.field for p in error.value.problems] == [f"scores.{code}" for code in missing]
    first = error.value.problems[0]
    assert "“开始购车的经历”" in first.zh and "“Start of the purchase experience”" in first.en
    assert "客户拒绝评分" in first.zh and "declined" in first.en
    # Declined and scores at once, or declined without a reached customer: contradictions.
    for case in (dict(outcome="reached", satisfied=True, scores={"salesperson": 9}, survey_declined=True),
                 dict(outcome="no_answer", survey_declined=True)):
        with pytest.raises(InvalidInput) as error:
            await service.record_outcome(actor=agent, callback_id=followup["id"], **case)
        assert [p.field for p in error.value.problems][-1] == "survey_declined"
    assert (await _state(followup["id"]))["attempts"] == 0
    # The customer declined the survey: saved without scores, and the refusal is on record.
    result = await service.record_outcome(actor=agent, callback_id=followup["id"], outcome="reached",
                                          satisfied=True, survey_declined=True, comment="客户不愿打分")
    assert result.state == "done"
    assert (await _state(followup["id"]))["survey_declined"] is True
    assert await CallbackScore.count().where(CallbackScore.callback == followup["id"]) == 0
    assert (await service.callback_detail(actor=agent, callback_id=followup["id"])).survey_declined


async def test_no_answer_retries_spaced_then_unreachable(tenant):
    callback_id = await make_due(tenant)
    agent = await tenant.scope("callback_agent@A")
    due_times = []
    for attempt in (1, 2):
        result = await service.record_outcome(actor=agent, callback_id=callback_id, outcome="no_answer")
        assert result.state == "scheduled" and result.attempts == attempt
        row = await _state(callback_id)
        assert row["claimed_by"] is None
        timers = await pending_callback_timers(callback_id)
        assert [t["due_at"] for t in timers] == [row["due_at"]] == [result.next_due_at]
        due_times.append(row["due_at"])
        await fire_callback_timers(callback_id)
        assert (await _state(callback_id))["state"] == "due"
    assert due_times[1] - due_times[0] >= timedelta(minutes=120)  # spaced further apart
    result = await service.record_outcome(actor=agent, callback_id=callback_id, outcome="no_answer")
    assert result.state == "unreachable" and result.next_due_at is None
    assert await CallbackAttempt.count().where(CallbackAttempt.callback == callback_id) == 3


async def test_wrong_number_is_unreachable_at_once_refused_is_done(tenant):
    agent = await tenant.scope("callback_agent@A")
    wrong = await make_due(tenant)
    assert (await service.record_outcome(actor=agent, callback_id=wrong, outcome="wrong_number")).state == "unreachable"
    refused = await make_due(tenant)
    assert (await service.record_outcome(actor=agent, callback_id=refused, outcome="refused")).state == "done"
    with pytest.raises(Conflict):
        await service.record_outcome(actor=agent, callback_id=refused, outcome="reached", satisfied=True)


async def test_customer_asking_not_to_be_called_skips_their_other_calls(tenant):
    customer_id, _, sale_id = await delivered_customer(tenant)
    callbacks = await callbacks_of("sale", sale_id)
    await fire_callback_timers(callbacks["delivery_care_2h"]["id"])
    agent = await tenant.scope("callback_agent@A")
    await service.record_outcome(actor=agent, callback_id=callbacks["delivery_care_2h"]["id"], outcome="refused",
                                 do_not_call=True)
    assert (await Customer.select(Customer.do_not_call).where(Customer.id == customer_id).first())["do_not_call"]
    await fire_callback_timers(callbacks["delivery_care_7d"]["id"], callbacks["runin_reminder"]["id"])
    after = await callbacks_of("sale", sale_id)
    assert after["delivery_care_7d"]["state"] == "skipped" and after["runin_reminder"]["state"] == "skipped"


async def test_invalid_outcomes_write_nothing(tenant):
    callback_id = await make_due(tenant)
    agent = await tenant.scope("callback_agent@A")
    cases = [
        dict(outcome="reached"),  # satisfaction missing
        dict(outcome="no_answer", satisfied=True),
        dict(outcome="reached", satisfied=True, scores={"salesperson": 9}),  # the 2-hour call has no survey
        dict(outcome="reached", satisfied=True, survey_declined=True),  # … so nothing to decline either
        dict(outcome="reached", satisfied=True, corrections={"mobile": "12345"}),
        dict(outcome="reached", satisfied=True, corrections={"birthday": "1990-13-01"}),
        dict(outcome="reached", satisfied=True, corrections={"vin": "X"}),
        dict(outcome="called"),
    ]
    for case in cases:
        with pytest.raises(InvalidInput) as error:
            await service.record_outcome(actor=agent, callback_id=callback_id, **case)
        assert all(p.zh and p.en for p in error.value.problems)
    row = await _state(callback_id)
    assert row["attempts"] == 0 and row["state"] == "due" and row["claimed_by"] is None


async def test_roles_and_scope(tenant, other_tenant):
    callback_id = await make_due(tenant)
    for who in ("callback_agent@B", "store_gm@C", "brand_manager@div2"):
        with pytest.raises(NotFound):
            await service.callback_detail(actor=await tenant.scope(who), callback_id=callback_id)
    with pytest.raises(NotFound):
        await service.claim_callback(actor=await other_tenant.scope("call_center_agent"), callback_id=callback_id)
    with pytest.raises(Forbidden):
        await service.claim_callback(actor=await tenant.scope("staff@A"), callback_id=callback_id)
    gm = await tenant.scope("store_gm@A")
    assert (await service.callback_detail(actor=gm, callback_id=callback_id)).id == callback_id
    with pytest.raises(Forbidden):
        await service.claim_callback(actor=gm, callback_id=callback_id)


async def test_sms_firing_late_at_night_waits_for_the_contact_window(tenant):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from crm.timers import runner

    _, _, sale_id = await delivered_customer(tenant)
    reminder = (await callbacks_of("sale", sale_id))["runin_reminder"]
    timer = (await pending_callback_timers(reminder["id"]))[0]
    night = datetime.combine(reminder["due_at"].astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1),
                             time(23, 30), tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(night, tick=False):
        assert await runner.fire_timer(timer["id"]) == "fired"
    row = await _state(reminder["id"])
    assert row["state"] == "scheduled" and row["attempts"] == 0
    local_due = row["due_at"].astimezone(ZoneInfo("Asia/Shanghai"))
    assert local_due.date() > night.date() and local_due.time() == time(9, 0)
    assert [t["due_at"] for t in await pending_callback_timers(reminder["id"])] == [row["due_at"]]


async def test_deactivated_customer_is_skipped_when_due(tenant):
    from crm.customers import service as customers

    customer_id, _, sale_id = await delivered_customer(tenant)
    await customers.deactivate_customer(actor=await tenant.scope("store_cr_manager@A"), customer_id=customer_id)
    care = (await callbacks_of("sale", sale_id))["delivery_care_2h"]
    await fire_callback_timers(care["id"])
    row = await _state(care["id"])
    assert row["state"] == "skipped" and row["outcome"] == "inactive"
