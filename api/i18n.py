"""UI text in Simplified Chinese (default) and English.

Every string the web UI shows comes from `CATALOGUE` by key: `t("customers.title")`
in a template, `translate("customers.title", lang)` in Python. The language is the
session's choice (`/lang/zh`, `/lang/en`), Chinese when none was made.

Areas keep their own keys next to their pages and add them with
`extend({...})`; a key defined twice is an error, so areas cannot overwrite
each other's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
SESSION_KEY = "lang"

log = structlog.get_logger()

# key → (中文, English)
CATALOGUE: dict[str, tuple[str, str]] = {
    "app.name": ("经销商客户关系平台", "Dealer Customer Relations"),
    "app.brand": ("经销商客户关系平台", "dealerdesk CRM"),
    "lang.switch": ("语言", "Language"),
    # navigation and layout
    "nav.toggle": ("菜单", "Menu"),
    "nav.main": ("主导航", "Main navigation"),
    "layout.skip": ("跳到正文", "Skip to content"),
    "user.menu": ("用户菜单", "User menu"),
    "user.roles": ("角色", "Role"),
    "user.org": ("所属单位", "Organisation"),
    "user.stores_visible": ("可见门店 {n} 家", "{n} stores visible"),
    "user.logout": ("退出登录", "Sign out"),
    "notif.title": ("通知", "Notifications"),
    "notif.none": ("暂无新通知", "No new notifications"),
    "notif.all": ("查看全部通知", "All notifications"),
    "notif.settings": ("通知设置", "Notification settings"),
    # login
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "Username"),
    "login.group_code": ("集团代码", "Group code"),
    "login.activated": ("账号已激活,请用新密码登录。", "Your account is active: sign in with your new password."),
    "login.group_code_hint": ("平台管理员无需填写;也可留空并用邮箱登录", "Platform admins leave it empty; or leave it empty and sign in by e-mail"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("集团代码、用户名或密码错误", "Wrong group code, username or password"),
    "login.required": ("请输入用户名和密码", "Enter your username and password"),
    "login.tagline": (
        "投诉处理 · 客户回访 · 满意度 · 客户档案",
        "Complaints · Callbacks · Satisfaction · Customer records",
    ),
    "login.footer": ("客户资料属秘密级信息,请勿外传。", "Customer data is confidential. Do not share it."),
    # home
    "home.title": ("工作台", "Home"),
    "home.welcome": ("您好,{name}", "Hello, {name}"),
    "home.scope_group": ("您可以查看本集团 {n} 家门店的数据。", "You can see data of {n} stores of your group."),
    "home.scope_store": ("您可以查看本店的数据。", "You can see your store's data."),
    "home.scope_none": ("您的账号未关联任何门店。", "Your account is not linked to any store."),
    "home.my_work": ("我的待办", "My work"),
    "home.nothing_waiting": ("暂无待办事项。", "Nothing is waiting for you."),
    "home.work_overdue": ("已超时", "Overdue"),
    "home.work_today": ("今日到期", "Due today"),
    "home.work_waiting": ("待我处理", "Waiting for me"),
    "home.col_what": ("事项", "Step"),
    "home.col_who": ("客户", "Customer"),
    "home.col_store": ("门店", "Store"),
    "home.col_due": ("时限", "Deadline"),
    "home.figures_store": ("本店本月数据", "My store this month"),
    "home.figures_group": ("集团本月数据", "Group this month"),
    "home.to_dashboard": ("查看看板", "Open the dashboard"),
    "home.calendar_enter": ("录入节假日安排", "Enter the holiday schedule"),
    "home.calendar_uncovered": (
        "节假日安排缺失:{years} 年的放假与调休安排尚未录入,系统暂按周一至周五上班、无法定节假日计算投诉时限和回访日期。"
        "请在“设置 › 营业时间、联系时段与节假日”中录入国务院办公厅公布的安排。",
        "Holiday schedule missing: the official holidays and make-up workdays of {years} are not entered yet; "
        "complaint deadlines and callback days count Monday–Friday as working days with no public holidays. "
        "Enter the State Council schedule under Settings › Hours, contact windows and holidays.",
    ),
    # customers
    "customers.title": ("客户档案", "Customer records"),
    "customers.search.label": ("查找客户", "Find a customer"),
    "customers.search.placeholder": (
        "输入手机号、车牌号、VIN 或姓名",
        "Phone, plate, VIN or name",
    ),
    "customers.search.hint": (
        "输入时自动查找;↑↓ 选择,回车打开。",
        "Results appear as you type; ↑↓ to select, Enter to open.",
    ),
    "customers.search.empty": ("没有找到匹配的客户。", "No matching customer."),
    "customers.search.start": ("请输入查询条件。", "Type something to search."),
    "customers.search.count": ("找到 {n} 位客户", "{n} customers found"),
    "customers.search.more": (
        "仅显示前 {n} 条,请输入更完整的条件。",
        "Showing the first {n}; type more to narrow down.",
    ),
    "customers.col.name": ("客户", "Customer"),
    "customers.col.kind": ("类型", "Type"),
    "customers.col.mobile": ("手机号", "Mobile"),
    "customers.col.store": ("门店", "Store"),
    "customer.profile": ("基本信息", "Profile"),
    "customer.vehicles": ("车辆", "Vehicles"),
    "customer.sales": ("购车记录", "Sales"),
    "customer.visits": ("维修保养记录", "Service visits"),
    "customer.other_stores": ("本集团其他门店的记录", "Records in other stores of the group"),
    "customer.other_stores.none": ("其他门店没有该客户的记录。", "No records in other stores."),
    "customer.none": ("暂无记录", "No records"),
    "customer.do_not_call": ("勿扰", "Do not call"),
    "customer.inactive": ("已停用", "Inactive"),
    "customer.store_source": ("建档门店:{store} · 来源:{source}", "Store: {store} · Source: {source}"),
    "field.gender": ("性别", "Gender"),
    "field.birthday": ("生日", "Birthday"),
    "field.birthday_lunar": ("(农历)", "(lunar)"),
    "field.marital_status": ("婚姻状况", "Marital status"),
    "field.mobile": ("手机号", "Mobile"),
    "field.phone2": ("其他电话", "Other phone"),
    "field.email": ("电子邮箱", "E-mail"),
    "field.id_number": ("身份证号", "ID number"),
    "field.address": ("地址", "Address"),
    "field.postcode": ("邮编", "Postcode"),
    "field.employer": ("工作单位", "Employer"),
    "field.occupation": ("职业", "Occupation"),
    "field.hobbies": ("爱好", "Hobbies"),
    "field.industry": ("行业", "Industry"),
    "field.contact_person": ("联系人", "Contact person"),
    "field.credit_code": ("统一社会信用代码", "Unified social credit code"),
    "field.phone": ("联系电话", "Phone"),
    "field.brand": ("品牌", "Brand"),
    "field.vehicle": ("车辆", "Vehicle"),
    "field.note": ("备注", "Note"),
    "field.plate": ("车牌号", "Plate"),
    "field.vin": ("VIN", "VIN"),
    "field.engine_no": ("发动机号", "Engine no."),
    "field.model": ("车型", "Model"),
    "field.colour": ("颜色", "Colour"),
    "field.insurer": ("保险公司", "Insurer"),
    "field.insurance_expires_on": ("保险到期", "Insurance expires"),
    "field.inspection_due_on": ("年审日期", "Inspection due"),
    "field.delivered_at": ("交车日期", "Delivered"),
    "field.order_no": ("订单号", "Order no."),
    "field.salesperson": ("销售顾问", "Salesperson"),
    "field.price": ("成交价", "Price"),
    "field.discount": ("优惠", "Discount"),
    "field.left_at": ("离站时间", "Left"),
    "field.repair_order_no": ("工单号", "Repair order"),
    "field.advisor": ("服务顾问", "Service advisor"),
    "field.repair_type": ("维修类型", "Repair type"),
    "field.mileage": ("里程(km)", "Mileage (km)"),
    "field.amount": ("金额", "Amount"),
    "field.next_visit_on": ("下次保养", "Next visit"),
    # errors
    "error.404.title": ("页面不存在", "Page not found"),
    "error.404.text": (
        "您要找的内容不存在,或不在您的查看范围内。",
        "What you are looking for does not exist or is outside what you may see.",
    ),
    "error.403.title": ("无权访问", "Access denied"),
    "error.403.text": ("您的角色无权使用此功能。", "Your role may not use this function."),
    "error.400.title": ("请求有误", "Bad request"),
    "error.400.text": ("请求的参数不正确。", "The request has invalid parameters."),
    "error.500.title": ("系统出错了", "Something went wrong"),
    "error.500.text": (
        "服务器处理请求时出错,请稍后重试。如果问题持续,请联系管理员。",
        "The server failed to handle the request. Try again later; if it persists, contact your administrator.",
    ),
    "error.other.title": ("请求无法处理", "The request could not be handled"),
    "error.other.text": ("无法处理该请求,请返回后重试。", "The request could not be handled; go back and try again."),
    "error.request_failed": ("请求失败,请稍后重试。", "The request failed; try again later."),
    "error.home": ("返回工作台", "Back to home"),
    "error.back": ("返回上一页", "Go back"),
}


def extend(messages: Mapping[str, tuple[str, str]]) -> None:
    """Add an area's UI text; each value is (中文, English)."""
    clashes = sorted(set(messages) & set(CATALOGUE))
    if clashes:
        raise ValueError(f"UI text keys defined twice: {', '.join(clashes)}")
    for key, pair in messages.items():
        if len(pair) != 2 or not all(pair):
            raise ValueError(f"UI text {key!r} needs a Chinese and an English text")
    CATALOGUE.update(messages)


def translate(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text for `key` in `lang`, with `{name}` placeholders filled from `params`."""
    pair = CATALOGUE.get(key)
    if pair is None:
        log.warning("ui_text_missing", key=key)
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


def pick(zh: str, en: str, lang: str) -> str:
    """Choose between a Chinese and an English value held elsewhere (role titles, nav labels)."""
    return en if lang == "en" and en else zh


def language_of(connection: Any) -> str:
    """The caller's language: the session's choice, else Chinese.

    Works for requests that never reached the session middleware (e.g. an unknown URL), which get Chinese.
    """
    session = connection.scope.get("session")
    lang = session.get(SESSION_KEY) if isinstance(session, dict) else None
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE
