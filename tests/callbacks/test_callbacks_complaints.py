"""An unhappy answer becomes a complaint; a store's resolved complaint comes back as a revisit call."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from crm.calendar.service import calendar_for_store
from crm.callbacks import service
from crm.callbacks.rules import set_rule
from crm.callbacks.service import CALLBACK_WORKERS
from crm.complaints import queries, workflow
from crm.complaints.authority import Policy, set_policy
from crm.complaints.tables import Complaint, ComplaintDeadlineMiss
from crm.timers import runner
from crm.timers.tables import Timer
from tests.support.complaints import detail, handle_to_resolved, step
from tests.support.callbacks import callbacks_of, fire_callback_timers, make_due, pending_callback_timers


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


async def resolved_store_complaint(client, tenant, comment: str = "洗车没洗干净") -> int:
    """An unhappy callback answer becomes a store complaint, handled until resolved."""
    callback_id = await make_due(tenant)
    agent = await tenant.scope("callback_agent@A")
    complaint_id = (await service.record_outcome(actor=agent, callback_id=callback_id, outcome="reached",
                                                 satisfied=False, comment=comment)).complaint_id
    if (await detail(client, tenant, "store_cr_manager@A", complaint_id))["summary"]["state"] == "received":
        await step(client, tenant, "store_cr_manager@A", complaint_id, "accept")
    await handle_to_resolved(client, tenant, complaint_id)
    return complaint_id


async def test_resolved_store_complaint_is_revisited_from_the_callback_queue(client, tenant):
    agent = await tenant.scope("callback_agent@A")
    complaint_id = await resolved_store_complaint(client, tenant, "保养等了三个小时")
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
    complaint_id = await resolved_store_complaint(client, tenant, "销售承诺的赠品没有给")
    await step(client, tenant, "callback_agent@A", complaint_id, "revisit", {"satisfied": True})
    assert (await callbacks_of("complaint", complaint_id))["complaint_revisit_3d"]["state"] == "cancelled"


async def test_a_store_revisit_has_one_deadline_the_callback_from_the_complaint_policy(client, tenant):
    await set_policy(actor=await tenant.scope("group_admin"), policy=Policy(revisit_days=5))
    complaint_id = await resolved_store_complaint(client, tenant)
    complaint = await Complaint.select().where(Complaint.id == complaint_id).first()
    revisit = (await callbacks_of("complaint", complaint_id))["complaint_revisit_3d"]
    calendar = await calendar_for_store(tenant.store_a)
    assert revisit["deadline_at"] == calendar.add_calendar_days(complaint["resolved_at"], 5)
    # The complaint shows the same due time, but the callback is the only timer that runs.
    assert (complaint["due_kind"], complaint["due_at"]) == ("revisit", revisit["deadline_at"])
    assert complaint["revisit_callback_id"] == revisit["id"]
    assert await Timer.count().where(
        Timer.subject_type == "complaint", Timer.subject_id == complaint_id, Timer.state == "pending"
    ) == 0
    assert len(await pending_callback_timers(revisit["id"])) == 1


async def test_a_call_center_agent_can_finish_the_revisit_it_claims(client, tenant):
    assert CALLBACK_WORKERS <= workflow.STORE_REVISIT_ROLES
    complaint_id = await resolved_store_complaint(client, tenant)
    revisit = (await callbacks_of("complaint", complaint_id))["complaint_revisit_3d"]
    await fire_callback_timers(revisit["id"])
    agent = await tenant.scope("call_center_agent")
    await service.claim_callback(actor=agent, callback_id=revisit["id"])
    await service.record_outcome(actor=agent, callback_id=revisit["id"], outcome="reached", satisfied=True,
                                 comment="客户表示满意")
    complaint = await Complaint.select().where(Complaint.id == complaint_id).first()
    assert (complaint["state"], complaint["revisit_satisfied"]) == ("revisited", True)


async def test_without_a_revisit_callback_the_complaint_keeps_its_own_revisit_deadline(client, tenant):
    await set_rule(actor=await tenant.scope("group_admin"), kind="complaint_revisit_3d", store_id=None,
                   changes={"enabled": False})
    complaint_id = await resolved_store_complaint(client, tenant)
    assert "complaint_revisit_3d" not in await callbacks_of("complaint", complaint_id)
    complaint = await Complaint.select().where(Complaint.id == complaint_id).first()
    calendar = await calendar_for_store(tenant.store_a)
    assert (complaint["due_kind"], complaint["due_at"]) == (
        "revisit", calendar.add_calendar_days(complaint["resolved_at"], 3))
    timer = await Timer.select(Timer.id).where(
        Timer.subject_type == "complaint", Timer.subject_id == complaint_id, Timer.state == "pending"
    ).first()
    with time_machine.travel(complaint["due_at"] + timedelta(minutes=1), tick=False):
        assert await runner.fire_timer(timer["id"]) == "fired"
    miss = await ComplaintDeadlineMiss.select().where(ComplaintDeadlineMiss.complaint == complaint_id).first()
    assert (miss["kind"], miss["responsible_role"], miss["store"]) == ("revisit", "callback_agent", tenant.store_a)
    stats = await queries.deadline_stats(actor=await tenant.scope("hq_viewer"), since=complaint["resolved_at"],
                                         until=complaint["due_at"] + timedelta(days=1))
    assert next(s for s in stats if s.store_id == tenant.store_a).missed.get("revisit") == 1
