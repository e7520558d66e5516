"""客户投诉记录表 (attachment 6) printed from the complaint's page: the complaint and its timeline, scoped."""

from __future__ import annotations

import time_machine

from crm.complaints.tables import Complaint
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
