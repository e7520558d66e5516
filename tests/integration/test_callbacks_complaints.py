"""An unhappy answer becomes a complaint; a store's resolved complaint comes back as a revisit call."""

from __future__ import annotations

import pytest

from crm.callbacks import service
from crm.complaints.tables import Complaint
from tests.integration.test_complaints_flow import detail, handle_to_resolved, step
from tests.support.callbacks import callbacks_of, fire_callback_timers, make_due, settle_timers

pytestmark = pytest.mark.usefixtures(settle_timers.__name__)


async def test_unhappy_answer_creates_a_complaint_at_the_store_linked_to_the_callback(tenant):
    callback_id = await make_due(tenant)
    agent = await tenant.scope("callback_agent@A")
    result = await service.record_outcome(actor=agent, callback_id=callback_id, outcome="reached", satisfied=False,
                                          comment="交车时没有讲解导航和倒车影像,很不满意")
    assert result.complaint_id is not None and result.state == "done"
    complaint = await Complaint.select().where(Complaint.id == result.complaint_id).first()
    assert complaint["store"] == tenant.store_a and complaint["channel"] == "callback"
    assert complaint["source_callback_id"] == callback_id
    assert complaint["content"].startswith("交车时没有讲解")
    detail_ = await service.callback_detail(actor=agent, callback_id=callback_id)
    assert detail_.complaint_id == result.complaint_id and detail_.satisfied is False


async def test_satisfied_answer_creates_no_complaint(tenant):
    callback_id = await make_due(tenant)
    agent = await tenant.scope("callback_agent@A")
    result = await service.record_outcome(actor=agent, callback_id=callback_id, outcome="reached", satisfied=True)
    assert result.complaint_id is None
    assert await Complaint.count().where(Complaint.source_callback_id == callback_id) == 0


async def test_resolved_store_complaint_is_revisited_from_the_callback_queue(client, tenant):
    callback_id = await make_due(tenant)
    agent = await tenant.scope("callback_agent@A")
    complaint_id = (await service.record_outcome(actor=agent, callback_id=callback_id, outcome="reached",
                                                 satisfied=False, comment="保养等了三个小时")).complaint_id
    if (await detail(client, tenant, "store_cr_manager@A", complaint_id))["summary"]["state"] == "received":
        await step(client, tenant, "store_cr_manager@A", complaint_id, "accept")
    await handle_to_resolved(client, tenant, complaint_id)
    revisit = (await callbacks_of("complaint", complaint_id))["complaint_revisit_3d"]
    assert revisit["state"] == "scheduled" and revisit["store"] == tenant.store_a
    await fire_callback_timers(revisit["id"])
    script = (await service.claim_callback(actor=agent, callback_id=revisit["id"])).script
    assert "处理完毕" in script
    await service.record_outcome(actor=agent, callback_id=revisit["id"], outcome="reached", satisfied=False,
                                 comment="问题没有解决")
    complaint = await Complaint.select().where(Complaint.id == complaint_id).first()
    assert complaint["state"] == "reopened" and complaint["reopen_count"] == 1
    assert await Complaint.count().where(Complaint.source_callback_id == revisit["id"]) == 0  # reopened, not new
    assert (await callbacks_of("complaint", complaint_id))["complaint_revisit_3d"]["state"] == "done"


async def test_revisit_done_in_the_complaint_screen_cancels_the_call(client, tenant):
    callback_id = await make_due(tenant)
    agent = await tenant.scope("callback_agent@A")
    complaint_id = (await service.record_outcome(actor=agent, callback_id=callback_id, outcome="reached",
                                                 satisfied=False, comment="销售承诺的赠品没有给")).complaint_id
    if (await detail(client, tenant, "store_cr_manager@A", complaint_id))["summary"]["state"] == "received":
        await step(client, tenant, "store_cr_manager@A", complaint_id, "accept")
    await handle_to_resolved(client, tenant, complaint_id)
    await step(client, tenant, "callback_agent@A", complaint_id, "revisit", {"satisfied": True})
    assert (await callbacks_of("complaint", complaint_id))["complaint_revisit_3d"]["state"] == "cancelled"
