"""The settings menu: every screen the caller may open, grouped as a group admin looks for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import get
from litestar.response import Template

from api.auth import requires
from crm.setting_screens import SCREENS, SETTINGS_ROLES
from tenants.scope import Scope


@dataclass(frozen=True)
class Screen:
    key: str  # in crm.setting_screens.SCREENS: who may open it
    path: str
    section: str
    title_zh: str
    title_en: str
    hint_zh: str
    hint_en: str

    def visible_to(self, actor: Scope) -> bool:
        return actor.has_role(*SCREENS[self.key])


MENU = [
    Screen("calendar", "/settings/calendar", "org", "营业时间、联系时段与节假日", "Hours, contact windows and holidays",
           "营业时间、客户联系时段（门店可单独设置）、法定节假日与调休安排",
           "Opening hours, customer contact window (per store too), public holidays and make-up workdays"),
    Screen("complaint_deadlines", "/settings/complaint-deadlines", "complaints", "投诉处理时限", "Complaint deadlines",
           "受理、处理、结果回复、反馈、回访与申诉的时限",
           "Acceptance, handling, result report, feedback, revisit and appeal deadlines"),
    Screen("authority", "/settings/authority", "complaints", "权限核决表", "Authority table",
           "补偿金额与审批角色的对应", "Which role approves which compensation amount"),
    Screen("major_policy", "/settings/major-policy", "complaints", "重大投诉预警与升级",
           "Major-complaint alerts and escalation", "重复投诉识别期、即时预警与升级梯度",
           "Repeat window, immediate alert and escalation ladder"),
    Screen("callback_rules", "/settings/callback-rules", "callbacks", "回访规则、话术与目标",
           "Callback rules, scripts and targets", "各类回访与关怀的时机、渠道、话术，回访率与满意率目标",
           "When and how each callback or greeting is made, its script; callback and satisfaction targets"),
    Screen("notification_channels", "/settings/notification-channels", "integration", "通知渠道",
           "Notification channels", "邮件（SMTP）、企业微信、钉钉、短信网关，可发送测试",
           "E-mail (SMTP), WeCom, DingTalk, SMS gateway, with a test message"),
    Screen("dms_keys", "/settings/dms-keys", "integration", "DMS 对接密钥", "DMS webhook keys",
           "门店 DMS 推送交车与维修数据所用的密钥", "Keys the stores' DMS signs its pushes with"),
    Screen("customer_import", "/settings/customer-import", "integration", "客户资料导入", "Customer import",
           "上传 DMS 导出的 Excel/CSV，查看错误报告，导入有效行",
           "Upload a DMS export (Excel/CSV), read the error report, import the valid rows"),
    Screen("dashboard", "/dashboard/settings", "dashboards", "看板中的门店名称", "Store names on the dashboard",
           "门店总经理和客户关系经理是否看到集团其他门店的名称和数据",
           "Whether store GMs and customer-relations managers see the group's other stores by name"),
]
SECTIONS = {
    "org": ("营业与日历", "Hours and calendar"),
    "complaints": ("投诉", "Complaints"),
    "callbacks": ("回访", "Callbacks"),
    "integration": ("通知与对接", "Notifications and integration"),
    "dashboards": ("看板", "Dashboards"),
}
# Where a rule or target in force comes from.
LEVELS = {"default": ("系统默认", "Default"), "group": ("集团设置", "Group"), "store": ("门店设置", "Store")}


def screens_for(actor: Scope) -> list[Screen]:
    return [screen for screen in MENU if screen.visible_to(actor)]


def settings_context(actor: Scope, current: str) -> dict[str, Any]:
    """What every settings screen's layout needs: the screens the caller may open and which one is shown."""
    return {"screens": screens_for(actor), "screen": next((s for s in MENU if s.key == current), None),
            "levels": LEVELS}


@get("/settings", guards=[requires(*SETTINGS_ROLES)], include_in_schema=False)
async def settings_index(actor: Scope) -> Template:
    screens = screens_for(actor)
    sections = [(s, [x for x in screens if x.section == s]) for s in SECTIONS]
    return Template("settings/index.html", context={**settings_context(actor, ""), "section_titles": SECTIONS,
                                                    "sections": [(s, xs) for s, xs in sections if xs]})


ROUTES = [settings_index]
