"""Printable records of one item (客户投诉记录表, attachment 6; 重大投诉事件处理报告, attachment 8): made on
request from the item's page.

Unlike the monthly reports these are one short document about one complaint, wanted at once for signing:
the PDF is rendered in the same child process as the monthly reports (never in the web process's event
loop) and not stored; the item is read through the caller's scope and its service's rules (404 outside it).
"""

from __future__ import annotations

from typing import Any

from crm import clock
from crm.complaints.queries import complaint_detail
from crm.complaints.service import CAUSES, CHANNELS, DEPARTMENTS, LIABILITY
from crm.complaints.workflow import STATE_TITLES
from crm.major import service as major_service
from crm.major.report_form import PERSON_FIELDS, FIELDS
from crm.major.rules import Condition, RiskLevel
from crm.reports import render
from tenants.scope import Scope, timezone_of
from tenants.tables import DealerGroup

TITLE = "客户投诉记录表"
MAJOR_TITLE = "重大投诉事件处理报告"


async def complaint_record_pdf(*, actor: Scope, complaint_id: int) -> tuple[bytes, str]:
    """The complaint's record as PDF, and its download name."""
    data = await complaint_record(actor=actor, complaint_id=complaint_id)
    zone = await timezone_of(group=actor.group_id or -1)
    html = render.html_for("complaint_record.html", data, title=TITLE, generated_at=clock.now().astimezone(zone))
    pdf, _pages = await render.pdf_for(html)
    return pdf, f"{TITLE}_{complaint_id}.pdf"


async def major_report_pdf(*, actor: Scope, major_id: int) -> tuple[bytes, str]:
    """The major complaint's 《重大投诉事件处理报告》 as PDF, and its download name."""
    data = await major_report(actor=actor, major_id=major_id)
    zone = await timezone_of(group=actor.group_id or -1)
    html = render.html_for("major_report.html", data, title=MAJOR_TITLE, generated_at=clock.now().astimezone(zone))
    pdf, _pages = await render.pdf_for(html)
    return pdf, f"{MAJOR_TITLE}_{major_id}.pdf"


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


async def major_report(*, actor: Scope, major_id: int) -> dict[str, Any]:
    """Attachment 8: the report's parts in the form's order (`crm.major.report_form`), then the complaint's
    timeline, the alerts with their acknowledgements, and the escalation record (levels, forwarding)."""
    view = await major_service.major_detail(actor=actor, major_id=major_id)
    zone = await timezone_of(group=actor.group_id or -1)

    def when(moment) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"

    report = view.report if view.report and view.report["status"] != "draft" else None
    state = STATE_TITLES.get(view.complaint_state, (view.complaint_state,))
    basics = [
        ["投诉编号", str(view.complaint_id)], ["门店", view.store_name], ["客户", view.customer_name],
        ["投诉渠道", CHANNELS[view.channel][0] if view.channel in CHANNELS else view.channel or "—"],
        ["投诉内容", view.content],
        ["重大投诉原因", "；".join(r["title_zh"] + (f"（{r['note']}）" if r["note"] else "") for r in view.reasons)],
        ["标记时间", when(view.marked_at)], ["标记人", view.marked_by], ["报告截止", when(view.report_due_at)],
        ["报告状态", view.report_status.title_zh + ("（逾期）" if view.report_late else "")],
        ["投诉状态", state[0]],
    ]
    parts = [[f.zh, RiskLevel(report[f.name]).title_zh if f.kind == "risk" else (report[f.name] or "—")]
             for f in FIELDS] if report else []
    people = [[p.get(f.name) or "—" for f in PERSON_FIELDS] for p in report["responsible_people"]] if report else []
    escalation = [["报告提交", when(report["filed_at"]) if report else "—"],
                  ["转呈运营副总裁及总裁", when(report["forwarded_at"]) if report else "—"],
                  ["升级级别", f"{view.level_reached}/{view.levels_total}"]]
    alerts = [[_alert_name(a.level, a.condition), when(a.raised_at), str(a.rounds),
               "、".join(r["name"] + ("（已确认 " + when(r["acknowledged_at"]) + "）" if r["acknowledged_at"] else
                                     "（待确认）") for r in a.recipients) or "—"] for a in view.alerts]
    meetings = [[when(m.held_at), "、".join(f"{p['name']} {p.get('position', '')}".strip() for p in m.members),
                 m.decisions] for m in view.meetings]
    record = await complaint_record(actor=actor, complaint_id=view.complaint_id)
    return {
        "group_name": record["group_name"], "store_name": view.store_name, "period": when(view.marked_at)[:10],
        "charts": [],
        "tables": [
            {"title": "事件概况", "columns": ["项目", "内容"], "rows": basics, "highlight": []},
            {"title": MAJOR_TITLE, "columns": ["项目", "内容"], "rows": parts, "highlight": [],
             "empty": "门店尚未提交报告。"},
            {"title": "责任人", "columns": [f.zh for f in PERSON_FIELDS], "rows": people, "highlight": [],
             "empty": "未填写责任人。"},
            {"title": "危机处理小组会议", "columns": ["会议时间", "参会人员", "会议决定"], "rows": meetings,
             "highlight": [], "empty": "尚未登记危机处理小组会议。"},
            {"title": "预警与确认", "columns": ["预警", "发出时间", "发送次数", "接收人及确认"], "rows": alerts,
             "highlight": [], "empty": "暂无预警。"},
            {"title": "升级记录", "columns": ["事项", "时间"], "rows": escalation, "highlight": []},
            {**record["tables"][2], "title": "投诉处理经过"},
        ],
    }


def _alert_name(level: int, condition: str) -> str:
    if level == 0:
        return "即时预警"
    if level == major_service.FORWARD_LEVEL:
        return "转呈超时升级"
    known = {c.value for c in Condition}
    return f"第{level}级升级（{Condition(condition).title_zh}）" if condition in known else f"第{level}级升级"
