"""Callback and care rules (回访 / 关怀规则): the seed's defaults, in one place, and their overrides.

Every rule says when a contact is planned relative to its anchor (the delivery, the
customer leaving the workshop, the birthday, the insurance expiry…): `offset_minutes`
after the anchor it becomes due — negative means ahead of the date — and within
`window_minutes` after that it is on time. Date anchors (birthdays, holidays,
expiry dates) are local midnight of the date, so an offset of 600 means 10:00.

A group may override a rule for all its stores, and a store may override it again;
the effective rule is the store's, else the group's, else the default below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Literal

from crm import clock
from crm.callbacks.scripts import PLACEHOLDERS, script_placeholders
from crm.callbacks.tables import CallbackRule
from crm.db import transaction
from tenants import audit
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.roles import Role
from tenants.scope import Scope

DAY = 24 * 60

Channel = Literal["phone", "sms"]
Trigger = Literal["delivery", "service_visit", "next_maintenance", "complaint_resolved", "birthday",
                  "holiday", "insurance", "inspection"]

# Triggers whose anchor is a calendar date (local midnight), not an instant.
DATE_TRIGGERS = frozenset({"next_maintenance", "birthday", "holiday", "insurance", "inspection"})
# Greetings go out on holidays and weekends too; only quiet hours (night) hold them back.
GREETING_TRIGGERS = frozenset({"birthday", "holiday"})


@dataclass(frozen=True)
class Rule:
    kind: str
    trigger: Trigger
    label_zh: str
    label_en: str
    channel: Channel
    offset_minutes: int
    window_minutes: int
    script: str
    survey: str = ""  # "" | ssi | csi
    enabled: bool = True
    max_attempts: int = 3
    retry_minutes: int = 120
    # For holiday greetings: which holiday (see crm/callbacks/care.py).
    holiday: str = ""
    # Where this rule came from: default | group | store.
    level: str = "default"

    @property
    def is_call(self) -> bool:
        return self.channel == "phone"


_SALES_OPENING = (
    "您好！{customer}，我是{store}客户中心的客户专员{agent}。{when}您在我公司购买了一辆{car}，"
    "我想对您进行一个简单的电话回访，可能需要占用您几分钟时间。（征得同意后继续）"
)
_SERVICE_OPENING = (
    "您好！{customer}，我是{store}技术服务中心的回访员{agent}。您的{car}（{plate}）于{visit_on}在我店"
    "进行了{repair_type}，服务顾问是{advisor}。我想对您进行一个简单的电话回访，可能需要占用您几分钟时间。（征得同意后继续）"
)
_CLOSING = "请问您对我们的工作还有什么建议和意见吗？感谢您的支持，如有任何需要欢迎拨打我们的服务热线。再见！"

DEFAULT_RULES: dict[str, Rule] = {
    rule.kind: rule
    for rule in [
        # 002 §2.1 交车后跟踪
        Rule("delivery_care_2h", "delivery", "交车后2小时关怀回访", "Care call 2 hours after delivery", "phone",
             offset_minutes=120, window_minutes=4 * 60,
             script=_SALES_OPENING + "请问车辆开回去一切正常吗？新车的操作还有不清楚的地方吗？" + _CLOSING),
        Rule("delivery_followup_3d", "delivery", "交车3天内首次跟踪回访", "First follow-up within 3 days of delivery",
             "phone", offset_minutes=DAY, window_minutes=2 * DAY, survey="ssi",
             script=_SALES_OPENING + "想了解一下您这几天的用车情况，并请您为我们的销售服务打分（1–10分）。"
             "请问您对我们的销售服务满意吗？" + _CLOSING),
        Rule("delivery_care_7d", "delivery", "交车七天关怀回访", "7-day care call after delivery", "phone",
             offset_minutes=7 * DAY, window_minutes=DAY,
             script=_SALES_OPENING + "车辆使用一周了，请问有没有遇到什么问题？有问题我们会及时联系服务部门为您处理。" + _CLOSING),
        Rule("runin_reminder", "delivery", "走合保养提醒（三周内）", "Run-in maintenance reminder (within 3 weeks)", "sms",
             offset_minutes=14 * DAY, window_minutes=7 * DAY,
             script="【{store}】尊敬的{customer}，您的爱车{car}已行驶一段时间，请于交车后三周内到店进行走合保养（首保）。"
             "预约电话请咨询您的服务顾问。"),
        # 002 §2.2 维修回访: 用户服务离站三天之内; 提醒下次保养时间
        Rule("service_callback_3d", "service_visit", "维修保养离站3天内回访", "Service callback within 3 days of leaving",
             "phone", offset_minutes=DAY, window_minutes=2 * DAY, survey="csi",
             script=_SERVICE_OPENING + "请问您对我们的服务满意吗？故障是否已经彻底排除？"
             "您下次保养的时间是{next_visit_on}，届时欢迎预约。" + _CLOSING),
        Rule("next_maintenance_reminder", "next_maintenance", "下次保养提醒", "Next maintenance reminder", "sms",
             offset_minutes=-7 * DAY + 10 * 60, window_minutes=7 * DAY,
             script="【{store}】尊敬的{customer}，您的爱车{car}（{plate}）下次保养日期为{next_visit_on}，欢迎提前预约。"),
        # 000 e: 投诉处理完毕3天内回访. Its deadline is the group's complaint policy (`revisit_days`), not this
        # window: see `crm.callbacks.scheduling.schedule_complaint_revisit`.
        Rule("complaint_revisit_3d", "complaint_resolved", "投诉处理后3天内回访", "Revisit within 3 days of a resolved complaint",
             "phone", offset_minutes=4 * 60, window_minutes=3 * DAY - 4 * 60,
             script="您好！{customer}，我是{store}客户关系部的{agent}。关于您之前反映的问题，我们已处理完毕，"
             "想了解一下您对处理结果是否满意？" + _CLOSING),
        # 003 §3.3 客户关怀
        Rule("birthday_greeting", "birthday", "生日祝福", "Birthday greeting", "sms",
             offset_minutes=9 * 60, window_minutes=10 * 60,
             script="【{store}】尊敬的{customer}，今天是您的生日，{store}全体员工祝您生日快乐，行车平安！"),
        Rule("holiday_chunjie", "holiday", "春节问候", "Spring Festival greeting", "sms", holiday="春节",
             offset_minutes=-DAY + 10 * 60, window_minutes=DAY,
             script="【{store}】尊敬的{customer}，新春将至，{store}恭祝您新年快乐、阖家幸福、行车平安！"),
        Rule("holiday_zhongqiu", "holiday", "中秋问候", "Mid-Autumn greeting", "sms", holiday="中秋",
             offset_minutes=-DAY + 10 * 60, window_minutes=DAY,
             script="【{store}】尊敬的{customer}，中秋佳节将至，{store}祝您花好月圆、阖家团圆！"),
        Rule("holiday_guoqing", "holiday", "国庆问候", "National Day greeting", "sms", holiday="国庆",
             offset_minutes=-DAY + 10 * 60, window_minutes=DAY,
             script="【{store}】尊敬的{customer}，国庆长假将至，{store}提醒您出行前检查车况，祝您假期愉快、一路平安！"),
        Rule("holiday_yuandan", "holiday", "元旦问候", "New Year's Day greeting", "sms", holiday="元旦",
             offset_minutes=-DAY + 10 * 60, window_minutes=DAY, enabled=False,
             script="【{store}】尊敬的{customer}，{store}恭祝您元旦快乐！"),
        Rule("holiday_duanwu", "holiday", "端午问候", "Dragon Boat Festival greeting", "sms", holiday="端午",
             offset_minutes=-DAY + 10 * 60, window_minutes=DAY, enabled=False,
             script="【{store}】尊敬的{customer}，端午安康！{store}祝您节日快乐。"),
        # 001 §9, 003 §3.3: 续保、年审提醒
        Rule("insurance_renewal_reminder", "insurance", "续保提醒", "Insurance renewal reminder", "phone",
             offset_minutes=-30 * DAY + 10 * 60, window_minutes=20 * DAY,
             script="您好！{customer}，我是{store}的{agent}。您的爱车{car}（{plate}）的保险将于{insurance_expires_on}到期，"
             "我们可以为您提供续保服务，请问您需要了解一下吗？" + _CLOSING),
        Rule("annual_inspection_reminder", "inspection", "年审提醒", "Annual inspection reminder", "sms",
             offset_minutes=-30 * DAY + 10 * 60, window_minutes=25 * DAY,
             script="【{store}】尊敬的{customer}，您的爱车{car}（{plate}）年审到期日为{inspection_due_on}，"
             "请及时办理。我店可代办年检，欢迎咨询。"),
    ]
}

# Rule kinds whose callbacks feed the sales (新购车用户, attachment 3) and the service (维修用户, attachment 4) statistics.
SALES_KINDS = frozenset(k for k, r in DEFAULT_RULES.items() if r.trigger == "delivery")
SERVICE_KINDS = frozenset(k for k, r in DEFAULT_RULES.items() if r.trigger in ("service_visit", "next_maintenance"))

EDITABLE_FIELDS = ("enabled", "channel", "survey", "offset_minutes", "window_minutes", "max_attempts",
                   "retry_minutes", "script")
RULE_EDITORS = frozenset({Role.GROUP_ADMIN, Role.STORE_GM, Role.STORE_CR_MANAGER})


async def effective_rules(*, group_id: int, store_id: int | None) -> dict[str, Rule]:
    """Every rule as it applies to one store (or to the group, when `store_id` is None)."""
    # Callers pass a store checked with require_store, or a row's own.
    query = Scope.system(group_id, store_id).select(CallbackRule, group_rows=True)
    if store_id is None:
        query = query.where(CallbackRule.store.is_null())
    rows = await query
    rules = dict(DEFAULT_RULES)
    # Group rows first, store rows after: the store's override wins.
    for row in sorted(rows, key=lambda r: r["store"] is not None):
        default = DEFAULT_RULES.get(row["kind"])
        if default is None:
            continue
        rules[row["kind"]] = replace(
            default,
            **{name: row[name] for name in EDITABLE_FIELDS},
            level="group" if row["store"] is None else "store",
        )
    return rules


async def list_rules(*, actor: Scope, store_id: int | None) -> list[Rule]:
    group_id = _group_of(actor)
    if store_id is not None:
        actor.require_store(store_id)
    return list((await effective_rules(group_id=group_id, store_id=store_id)).values())


async def set_rule(*, actor: Scope, kind: str, store_id: int | None, changes: dict) -> Rule:
    """Override a rule for the group (store_id None, group admins) or for one store."""
    group_id = _group_of(actor)
    _require_editor(actor, store_id)
    current = (await effective_rules(group_id=group_id, store_id=store_id)).get(kind)
    if current is None:
        raise NotFound("callback_rule")
    updated = replace(current, **{k: v for k, v in changes.items() if k in EDITABLE_FIELDS})
    _validate(updated)
    values = {name: getattr(updated, name) for name in EDITABLE_FIELDS}
    key = _rule_key(group_id, store_id, kind)
    now = clock.now()
    async with transaction():
        level = Scope.system(group_id, store_id)  # the caller's group and a store _require_editor checked
        existing = await level.select(CallbackRule, CallbackRule.id, group_rows=True).where(
            CallbackRule.rule_key == key
        ).first()
        if existing:
            await level.update(
                CallbackRule, {**_columns(values), CallbackRule.updated_by: actor.user_id, CallbackRule.updated_at: now}
            ).where(CallbackRule.id == existing["id"])
        else:
            await CallbackRule.insert(
                CallbackRule(group=group_id, store=store_id, rule_key=key, kind=kind, updated_by=actor.user_id,
                             updated_at=now, **values)
            )
        await audit.record(actor, "callbacks.rule", "callback_rule", key,
                           before=_editable(current), after=values)
    return replace(updated, level="group" if store_id is None else "store")


async def reset_rule(*, actor: Scope, kind: str, store_id: int | None) -> Rule:
    """Drop a level's override: the store falls back to the group's rule, the group to the default."""
    group_id = _group_of(actor)
    _require_editor(actor, store_id)
    if kind not in DEFAULT_RULES:
        raise NotFound("callback_rule")
    key = _rule_key(group_id, store_id, kind)
    async with transaction():
        before = (await effective_rules(group_id=group_id, store_id=store_id))[kind]
        await Scope.system(group_id, store_id).delete(CallbackRule, group_rows=True).where(CallbackRule.rule_key == key)
        after = (await effective_rules(group_id=group_id, store_id=store_id))[kind]
        await audit.record(actor, "callbacks.rule.reset", "callback_rule", key,
                           before=_editable(before), after=_editable(after))
    return after


def rule_as_dict(rule: Rule) -> dict:
    return asdict(rule)


def _editable(rule: Rule) -> dict:
    return {name: getattr(rule, name) for name in EDITABLE_FIELDS}


def _group_of(actor: Scope) -> int:
    if actor.group_id is None:
        raise NotFound("group")
    return actor.group_id


def _require_editor(actor: Scope, store_id: int | None) -> None:
    if store_id is None:
        actor.require_role(Role.GROUP_ADMIN)
    else:
        actor.require_store(store_id)
        actor.require_role(*RULE_EDITORS)


def _rule_key(group_id: int, store_id: int | None, kind: str) -> str:
    return f"{group_id}:{store_id if store_id is not None else '*'}:{kind}"


def _columns(values: dict) -> dict:
    return {getattr(CallbackRule, name): value for name, value in values.items()}


def _validate(rule: Rule) -> None:
    problems = []
    if rule.channel not in ("phone", "sms"):
        problems.append(FieldProblem("channel", "渠道只能是电话或短信", "Channel must be phone or sms"))
    if rule.survey not in ("", "ssi", "csi"):
        problems.append(FieldProblem("survey", "问卷只能是 SSI 或 CSI", "Survey must be ssi, csi or empty"))
    if rule.channel == "sms" and rule.survey:
        problems.append(FieldProblem("survey", "短信回访不能打分", "An SMS cannot carry a survey"))
    if rule.window_minutes < 1:
        problems.append(FieldProblem("window_minutes", "回访时限必须大于0", "The window must be positive"))
    if not -366 * DAY <= rule.offset_minutes <= 366 * DAY:
        problems.append(FieldProblem("offset_minutes", "偏移量超出一年", "The offset must be within a year"))
    if not 1 <= rule.max_attempts <= 10:
        problems.append(FieldProblem("max_attempts", "尝试次数应为1–10次", "Attempts must be 1–10"))
    if not 10 <= rule.retry_minutes <= 7 * DAY:
        problems.append(FieldProblem("retry_minutes", "重拨间隔应为10分钟至7天", "Retry spacing must be 10 min to 7 days"))
    if not rule.script.strip() or len(rule.script) > 2000:
        problems.append(FieldProblem("script", "话术不能为空，最多2000字", "The script must be 1–2000 characters"))
    unknown = script_placeholders(rule.script) - PLACEHOLDERS
    if unknown:
        problems.append(FieldProblem("script", f"话术中有未知占位符：{'、'.join(sorted(unknown))}",
                                     f"Unknown placeholders in the script: {', '.join(sorted(unknown))}"))
    if problems:
        raise InvalidInput(problems)
