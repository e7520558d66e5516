"""The customer timeline names a survey's factors by their catalogue labels (中文 / English), not their codes."""

from __future__ import annotations

from datetime import timedelta

from crm import clock
from crm.callbacks.tables import CallbackScore
from crm.customers.timeline import customer_timeline
from tests.support.builders import callback_row, customer_with_history


async def test_survey_factors_are_shown_by_their_labels(browser_session, tenant):
    car = await customer_with_history(tenant, "A", name="周晓明")
    when = clock.now() - timedelta(days=1)
    call = await callback_row(tenant, car, tenant.store_a, when, satisfied=True, survey="ssi")
    for factor, score in (("salesperson", 9), ("delivery_process", 10), ("financing", None)):
        await CallbackScore(group=tenant.group_id, store=tenant.store_a, callback=call, survey="ssi", factor=factor,
                            score=score, recorded_at=when).save()

    entries = await customer_timeline(actor=await tenant.scope("store_cr_manager@A"), customer_id=car.customer_id)
    [survey] = [e for e in entries if e.kind == "survey"]
    assert survey.title_zh == "销售满意度（SSI）" and survey.title_en == "Sales satisfaction (SSI)"
    assert survey.detail_zh == "销售人员 9，交车过程 10，贷款过程 不适用"
    assert survey.detail_en == "Salesperson 9, Delivery process 10, Financing process n/a"

    page = await (await browser_session(tenant.usernames["store_cr_manager@A"])).get(f"/customers/{car.customer_id}")
    timeline = page.text.split('id="timeline"')[1].split("</section>")[0]
    assert "销售人员 9" in timeline and "salesperson" not in timeline
