"""The navigation of the web UI: each area registers its pages here, with the roles that see them.

The layout shows an item when the signed-in user holds one of its roles; an
item without roles is shown to everyone signed in. The roles are the very
definitions in `crm/` that the page's route guard and the service check (who may
is decided there, never here), so a page is listed exactly for those it admits.
Add an item only for a page that exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.analytics.access import DASHBOARD_READERS
from crm.callbacks.service import CALLBACK_READERS
from crm.complaints import workflow
from crm.complaints.accountability import READERS as ACCOUNTABILITY_READERS
from crm.customers.corrections import CORRECTION_READERS
from crm.customers.service import CUSTOMER_READERS
from crm.major.service import BOARD_READERS as MAJOR_BOARD_READERS
from crm.notify.inbox import DELIVERY_ADMINS
from crm.privacy.policy import ACCESS_LOG_READERS
from crm.platform import PLATFORM_ADMINS
from crm.organisation.access import ORGANISATION_ADMINS, PEOPLE_READERS
from crm.reports.service import REPORT_READERS
from crm.satisfaction.manufacturer import SCORE_READERS
from crm.satisfaction.mystery import MYSTERY_READERS
from tenants.audit import AUDIT_READERS
from crm.setting_screens import SETTINGS_ROLES
from tenants.roles import Role
from tenants.scope import Scope


@dataclass(frozen=True)
class NavItem:
    path: str
    label_zh: str
    label_en: str
    roles: frozenset[Role] = frozenset()

    def visible_to(self, actor: Scope) -> bool:
        return not self.roles or actor.has_role(*self.roles)

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh

    def is_current(self, path: str) -> bool:
        """The item of the page being shown: its own path or a page below it."""
        if self.path == "/":
            return path == "/"
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


NAV: list[NavItem] = [
    NavItem("/", "工作台", "Home"),
    NavItem("/dashboard", "集团看板", "Dashboard", DASHBOARD_READERS),
    NavItem("/reports", "报表中心", "Reports", REPORT_READERS),
    NavItem("/customers", "客户档案", "Customers", CUSTOMER_READERS),
    NavItem("/complaint-intake", "投诉登记", "New complaint", workflow.INTAKE_ROLES),
    NavItem("/complaints", "投诉处理", "Complaints", workflow.READERS),
    NavItem("/revisits", "投诉回访", "Revisits", workflow.REVISIT_ROLES),
    NavItem("/accountability", "责任统计", "Accountability", ACCOUNTABILITY_READERS),
    NavItem("/callbacks", "回访工作台", "Callbacks", CALLBACK_READERS),
    NavItem("/callback-stats", "回访统计", "Callback statistics", CALLBACK_READERS),
    NavItem("/corrections", "资料修正", "Data corrections", CORRECTION_READERS),
    NavItem("/major", "重大投诉", "Major complaints", MAJOR_BOARD_READERS),
    NavItem("/satisfaction", "满意度总表", "Satisfaction", SCORE_READERS),
    NavItem("/mystery-shopper", "神秘客户", "Mystery shopper", MYSTERY_READERS),
    NavItem("/notifications", "我的通知", "Notifications"),
    NavItem("/notification-failures", "通知投递失败", "Failed deliveries", DELIVERY_ADMINS),
    NavItem("/privacy/access-log", "个人信息访问记录", "Personal-data access", ACCESS_LOG_READERS),
    NavItem("/platform", "平台管理", "Platform console", PLATFORM_ADMINS),
    NavItem("/audit", "操作日志", "Audit log", AUDIT_READERS),
    NavItem("/organisation", "组织架构", "Organisation", ORGANISATION_ADMINS),
    NavItem("/people", "人员管理", "People", PEOPLE_READERS),
    NavItem("/settings", "设置", "Settings", SETTINGS_ROLES),
]


def nav_for(actor: Scope) -> list[NavItem]:
    return [item for item in NAV if item.visible_to(actor)]
