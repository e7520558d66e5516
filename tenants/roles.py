"""Roles of dealerdesk users, with the Chinese titles the UI shows."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    GROUP_ADMIN = "group_admin"
    HQ_VIEWER = "hq_viewer"
    BRAND_MANAGER = "brand_manager"
    LEGAL = "legal"
    CALL_CENTER_AGENT = "call_center_agent"
    GROUP_CUSTOMER_SERVICE = "group_customer_service"
    STORE_GM = "store_gm"
    STORE_CR_MANAGER = "store_cr_manager"
    CALLBACK_AGENT = "callback_agent"
    DEPARTMENT_HEAD = "department_head"
    STAFF = "staff"

    @property
    def title_zh(self) -> str:
        return ROLE_TITLES[self][0]

    @property
    def title_en(self) -> str:
        return ROLE_TITLES[self][1]


ROLE_TITLES: dict[Role, tuple[str, str]] = {
    Role.PLATFORM_ADMIN: ("平台管理员", "Platform admin"),
    Role.GROUP_ADMIN: ("集团管理员", "Group admin"),
    Role.HQ_VIEWER: ("集团总部（运营副总裁/CEO）", "HQ viewer (VP operations / CEO)"),
    Role.BRAND_MANAGER: ("品牌事业部经理", "Brand-division manager"),
    Role.LEGAL: ("法务部", "Legal"),
    Role.CALL_CENTER_AGENT: ("呼叫中心坐席", "Call-center agent"),
    Role.GROUP_CUSTOMER_SERVICE: ("集团客服部", "Group customer service"),
    Role.STORE_GM: ("总经理", "Store GM"),
    Role.STORE_CR_MANAGER: ("客户关系部经理", "Customer-relations manager"),
    Role.CALLBACK_AGENT: ("回访员", "Callback agent"),
    Role.DEPARTMENT_HEAD: ("部门经理", "Department head"),
    Role.STAFF: ("员工", "Staff"),
}

GROUP_ROLES = frozenset(
    {
        Role.GROUP_ADMIN,
        Role.HQ_VIEWER,
        Role.BRAND_MANAGER,
        Role.LEGAL,
        Role.CALL_CENTER_AGENT,
        Role.GROUP_CUSTOMER_SERVICE,
    }
)
STORE_ROLES = frozenset(
    {Role.STORE_GM, Role.STORE_CR_MANAGER, Role.CALLBACK_AGENT, Role.DEPARTMENT_HEAD, Role.STAFF}
)
# Everyone who works inside a group: HQ, brand divisions, call center and every store role (not the platform admin).
TENANT_ROLES = GROUP_ROLES | STORE_ROLES

