"""客户投诉记录表 (attachment 6) printed from the complaint's page: the complaint and its timeline, scoped."""

from __future__ import annotations

import time_machine

from crm.complaints.tables import Complaint
from crm.major import service as major_service
from crm.major.report_form import FIELDS
from tests.support.builders import customer_with_car, major_complaint
from tests.support.major import complaint_for, complete_report
from tests.support.pdf_text import extract
from tests.support.reports import NOW, build_november


async def test_the_complaint_record_prints_with_its_timeline(browser_session, tenant, other_tenant):
    with time_machine.travel(NOW, tick=False):
        await build_november(tenant)
        complaint = await Complaint.select(Complaint.id).where(
            Complaint.store == tenant.store_a, Complaint.content.like("%漆面划痕%")).first()
        web = await browser_session(tenant.usernames["store_cr_manager@A"])
        page = await web.get(f"/complaints/{complaint['id']}")
        pdf = await web.get(f"/complaints/{complaint['id']}/print")
        stranger = await browser_session(other_tenant.usernames["store_cr_manager@A"])
        hidden = await stranger.get(f"/complaints/{complaint['id']}/print")
    assert f'href="/complaints/{complaint["id"]}/print"' in page.text
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = extract(pdf.content)
    assert "客户投诉记录表" in text.text and "新车交付后发现漆面划痕" in text.text and "处理经过" in text.text
    assert "\ufffd" not in text.text and text.pages >= 1
    assert hidden.status_code == 404


async def test_the_major_complaint_report_prints_in_the_form_order(browser_session, tenant, other_tenant):
    """重大投诉事件处理报告 (attachment 8): the form's parts in their order, alerts, escalation, timeline."""
    complaint_id = await complaint_for(tenant, await customer_with_car(tenant, "A"))
    major_id = await major_complaint(tenant, complaint_id)
    await major_service.file_report(actor=await tenant.scope("store_gm@A"), major_id=major_id, form=complete_report())
    gm = await browser_session(tenant.usernames["store_gm@A"])
    page = await gm.get(f"/major/{major_id}")
    pdf = await gm.get(f"/major/{major_id}/print")
    hq = await browser_session(tenant.usernames["hq_viewer"])
    by_hq = await hq.get(f"/major/{major_id}/print")
    refused = {who: (await (await browser_session(owner.usernames[who])).get(f"/major/{major_id}/print")).status_code
               for owner, who in [(tenant, "store_gm@B"), (other_tenant, "store_gm@A"), (other_tenant, "hq_viewer")]}
    assert f'href="/major/{major_id}/print"' in page.text
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert by_hq.status_code == 200
    assert refused == {"store_gm@B": 404, "store_gm@A": 404, "hq_viewer": 404}
    text = extract(pdf.content).text
    assert "\ufffd" not in text
    labels = ["重大投诉事件处理报告", *(f.zh for f in FIELDS), "责任人", "预警与确认", "升级记录", "投诉处理经过"]
    positions = [text.find(label, text.find("事件概况")) for label in labels]
    assert -1 not in positions and positions == sorted(positions), dict(zip(labels, positions))
    for typed in ("客户因变速箱异响第三次到店", "更换变速箱总成并延保一年", "张经理", "售后经理", "即时预警", "堵门"):
        assert typed in text, typed
