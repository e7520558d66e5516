"""Printable records of one item (客户投诉记录表, attachment 6): made on request from the item's page.

Unlike the monthly reports these are one short document about one complaint, wanted at once for signing:
the PDF is rendered in the same child process as the monthly reports (never in the web process's event
loop) and not stored; the complaint is read through the caller's scope (404 outside it).
"""

from __future__ import annotations

from typing import Any

from crm import clock
from crm.complaints.queries import complaint_detail
from crm.complaints.service import CAUSES, CHANNELS, DEPARTMENTS, LIABILITY
from crm.reports import render
from tenants.scope import Scope, timezone_of
from tenants.tables import DealerGroup

TITLE = "客户投诉记录表"


async def complaint_record_pdf(*, actor: Scope, complaint_id: int) -> tuple[bytes, str]:
    """The complaint's record as PDF, and its download name."""
    data = await complaint_record(actor=actor, complaint_id=complaint_id)
    zone = await timezone_of(group=actor.group_id or -1)
    html = render.html_for("complaint_record.html", data, title=TITLE, generated_at=clock.now().astimezone(zone))
    pdf, _pages = await render.pdf_for(html)
    return pdf, f"{TITLE}_{complaint_id}.pdf"


async def complaint_record(*, actor: Scope, complaint_id: int) -> dict[str, Any]:
    detail = await complaint_detail(actor=actor, complaint_id=complaint_id)
    s = detail.summary
    zone = await timezone_of(group=actor.group_id or -1)

    def when(moment) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"

    def named(names: dict, code: str) -> str:
        return names[code][0] if code in names else (code or "—")

    group = await DealerGroup.select(DealerGroup.name).where(DealerGroup.id == (actor.group_id or -1)).first()
    basics = [
        ["投诉编号", str(s.id)], ["受理门店", s.store_name], ["投诉渠道", named(CHANNELS, s.channel)],
        ["投诉时间", when(s.received_at)], ["投诉人", s.complainant_name], ["联系电话", s.complainant_phone or "—"],
        ["车牌", s.plate or "—"], ["车型", s.vehicle_model or "—"], ["VIN", detail.vin or "—"],
        ["投诉内容", s.content], ["客户期望", detail.expected_solution or "—"], ["当前状态", s.state_zh],
    ]
    handling = [
        ["处理人", s.handler_name or "—"], ["原因分类", named(CAUSES, detail.cause_category)],
        ["责任部门", named(DEPARTMENTS, detail.cause_department)], ["责任判定", named(LIABILITY, detail.liability)],
        ["原因分析", detail.cause_note or "—"], ["处理对策", detail.countermeasure or "—"],
        ["处理结果", detail.resolution or "—"], ["改善措施", detail.improvement_measures or "—"],
        ["回访结果", {True: "满意", False: "不满意"}.get(detail.revisit_satisfied, "—")],
        ["回访意见", detail.revisit_note or "—"],
    ]
    timeline = [[when(e.at), e.action_zh, e.actor_name or "系统", e.note or ""] for e in detail.timeline]
    return {
        "group_name": (group or {}).get("name", ""), "store_name": s.store_name, "period": when(s.received_at)[:10],
        "charts": [],
        "tables": [
            {"title": "投诉信息", "columns": ["项目", "内容"], "rows": basics, "highlight": []},
            {"title": "原因分析与处理", "columns": ["项目", "内容"], "rows": handling, "highlight": []},
            {"title": "处理经过", "columns": ["时间", "事项", "处理人", "说明"], "rows": timeline, "highlight": [],
             "empty": "暂无处理记录。"},
        ],
    }
