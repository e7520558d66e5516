"""Demo data of the complaints area (a step of `deploy.demo_data.seed`).

About five complaints per store, each walked through the complaints service on a moved clock, so
their timelines, deadlines, timers, notifications and revisit callbacks are the real ones: fresh
complaints waiting at the store, some in handling, resolved ones awaiting feedback or the revisit,
closed ones, reopened ones — and a few that the store let slip, whose deadlines have passed (the
worker's sweeper records them as missed once it runs). Every store gets its customer-relations
team (客户关系部经理, 回访员, 部门经理, 服务顾问); the first store uses the demo logins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from crm import clock
from crm.complaints import service
from crm.customers.tables import Vehicle
from crm.db import without_after_commit
from tenants.accounts import create_user, hash_password
from tenants.roles import Role
from tenants.scope import Scope, scope_for_user

PER_STORE = 5
PER_STORE_SMALL = 2
HOUR = timedelta(hours=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Story:
    """One kind of complaint, with what the store finds and does about it."""

    content: str
    expected: str
    cause: str  # service | product | customer
    department: str  # sales | service | parts | accessories | other
    liable: bool
    analysis: str
    countermeasure: str
    resolution: str
    improvement: str


STORIES = [
    Story("保养后第二天仪表盘机油报警灯亮，到店检查发现机油加注不足。", "免费补加机油并检查发动机有无损伤",
          "service", "service", True, "技师未按作业标准核对机油液位，质检环节漏检。",
          "免费补加机油，安排发动机全面检测，赠送一次免费保养。", "已补加机油，检测发动机无异常，客户接受处理。",
          "保养作业增加机油液位双人确认，质检单增加签字项。"),
    Story("预约10点交车，实际延误了4个小时，服务顾问没有提前通知。", "说明延误原因并给予补偿",
          "service", "service", True, "配件到货延迟，服务顾问未及时告知客户。",
          "服务经理致电道歉，赠送工时费代金券300元。", "客户接受道歉和代金券。",
          "交车时间变更须提前1小时电话告知客户，纳入服务顾问考核。"),
    Story("洗车后车内座椅有油手印，脚垫没有放回原位。", "重新清洁内饰",
          "service", "service", True, "洗车工未按内饰防护流程铺设座椅套。",
          "安排上门取车重新精洗内饰。", "已重新精洗并送还车辆，客户满意。",
          "内饰防护三件套作业纳入洗车检查表。"),
    Story("维修结算时多收了两项工时费，事先没有说明。", "退还多收费用",
          "service", "service", True, "服务顾问开单时重复录入工时项目。",
          "核对结算单，退还多收工时费并致歉。", "已退还多收的工时费。",
          "结算前由服务顾问与客户逐项核对维修项目。"),
    Story("新车行驶两千公里，低速时变速箱顿挫明显。", "彻底检修，必要时更换变速箱",
          "product", "service", False, "经检测为变速箱控制程序问题，属厂家已知问题。",
          "按厂家技术通报升级变速箱控制程序，并进行路试。", "程序升级后路试正常，顿挫消失。",
          "同批次车辆主动邀约升级程序。"),
    Story("空调制冷效果差，出风口有异味。", "检修空调系统并清除异味",
          "product", "service", False, "蒸发箱霉菌滋生，冷媒略有不足。",
          "清洗蒸发箱，更换空调滤芯，补加冷媒。", "空调制冷恢复正常，异味消除。",
          "夏季前开展空调免费检测活动。"),
    Story("中控屏频繁死机重启，导航和倒车影像无法使用。", "更换中控主机",
          "product", "parts", False, "主机软件缺陷，厂家已发布升级包。",
          "升级主机软件，观察一周，仍有问题则申请更换主机。", "升级后使用正常，客户同意继续观察。",
          "建立软件升级车辆清单，定期回访。"),
    Story("下雨天天窗漏水，顶棚被浸湿。", "修复天窗并清洗顶棚",
          "product", "service", False, "天窗排水管堵塞。",
          "疏通排水管，更换受潮顶棚内衬。", "已修复，淋水试验无渗漏。",
          "保养项目增加天窗排水管检查。"),
    Story("交车时承诺赠送的脚垫和行车记录仪至今没有兑现。", "尽快兑现赠品",
          "service", "sales", True, "销售顾问口头承诺未录入合同附件。",
          "补送脚垫和行车记录仪并免费安装。", "赠品已安装，客户认可。",
          "所有赠品承诺必须写入合同附件并由展厅经理审核。"),
    Story("上牌手续拖了两周还没办好，影响正常用车。", "三天内办好上牌",
          "service", "sales", True, "资料交接遗漏，代办专员未跟进。",
          "专人加急办理，提供临时代步车。", "已完成上牌，客户满意。",
          "上牌进度每日跟踪，超期自动提醒展厅经理。"),
    Story("要求首保免费更换刹车片，店里说不在保修范围。", "免费更换刹车片",
          "customer", "service", False, "刹车片属易损件，不在保修范围，客户对保修条款有误解。",
          "由服务经理向客户详细解释保修条款，赠送刹车系统检测一次。", "客户理解保修政策，接受解释。",
          "交车时重点讲解保修范围及易损件说明。"),
    Story("自行加装的行车记录仪导致蓄电池亏电，要求4S店赔偿。", "免费更换蓄电池",
          "customer", "service", False, "加装设备接线不当导致静态电流过大，非车辆质量问题。",
          "为客户免费检测电路并规范改线，蓄电池按成本价更换。", "客户接受处理方案。",
          "加强加装电器风险提示。"),
]

# The paths a complaint takes; each step is (action, actor key).
GROUP_PATH = ["accept", "assign", "analyse", "countermeasure", "resolve", "feed_back", "revisit", "close"]
STORE_PATH = ["assign", "analyse", "countermeasure", "resolve", "revisit", "close"]
# How far along, and how many of every ten complaints get there.
OUTCOMES = [
    ("received", 1), ("accepted", 1), ("assigned", 1), ("analysed", 1), ("countermeasure", 1), ("resolved", 1),
    ("fed_back", 1), ("closed", 2), ("reopened", 1),
]
OVERDUE_STATES = ["received", "accepted", "analysed"]


@dataclass
class _Team:
    cr: Scope
    head: Scope
    sales_head: Scope
    agent: Scope
    staff: Scope


async def seed_complaints(ctx) -> None:
    rng = ctx.rng("complaints")
    now = clock.now()
    call_center = await scope_for_user(ctx.users["callcenter"])
    group_cs = await scope_for_user(ctx.users["groupcs"])
    teams = await _teams(ctx, rng)
    per_store = PER_STORE_SMALL if ctx.small else PER_STORE
    moment = [now]
    clock.set_clock(lambda: moment[0])
    made = overdue = 0
    try:
        async with without_after_commit():
            for n in range(per_store * len(ctx.stores)):
                store = ctx.stores[n % len(ctx.stores)]
                team = teams[store.id]
                cars = await Scope.system(ctx.group_id, store.id).select(Vehicle, Vehicle.id, Vehicle.customer).order_by(
                    Vehicle.id).limit(60)
                car = rng.choice(cars)
                story = rng.choice(STORIES)
                late = n % 12 == 5  # about one in twelve is left to slip
                target = rng.choice(OVERDUE_STATES) if late else rng.choices(
                    [o[0] for o in OUTCOMES], [o[1] for o in OUTCOMES])[0]
                # Waiting for the store or fed back to the group: only the group's own intake gets there.
                via_group = target in ("received", "fed_back") or rng.random() < 0.6
                path = _path(target, via_group)
                times = _times(rng, now, len(path) + 1, late=late, done=target == "closed")
                moment[0] = times[0]
                intake = call_center if via_group else team.cr
                cid = await service.create_complaint(
                    actor=intake, store_id=store.id, customer_id=car["customer"], vehicle_id=car["id"],
                    channel=rng.choice(["hotline_400", "hotline_400", "manufacturer", "online"]) if via_group
                    else rng.choice(["walk_in", "store_phone"]),
                    content=story.content, expected_solution=story.expected,
                )
                for step, at in zip(path, times[1:]):
                    moment[0] = at
                    await _do(step, cid, story, team, group_cs if via_group else team.agent, rng)
                made += 1
                overdue += late
    finally:
        clock.set_clock(None)
    ctx.counts.update(complaints=made, complaints_overdue=overdue, users=len(ctx.users))


def _path(target: str, via_group: bool) -> list[str]:
    """The steps from intake to the target state (a walk-in is accepted when the store registers it)."""
    full = GROUP_PATH if via_group else STORE_PATH
    if target == "reopened":
        return [*full[: full.index("revisit")], "revisit_unhappy"]
    ends = {"received": None, "accepted": "accept", "assigned": "assign", "analysed": "analyse",
            "countermeasure": "countermeasure", "resolved": "resolve", "fed_back": "feed_back", "closed": "close"}
    last = ends[target]
    if last is None or last not in full:
        # A walk-in starts accepted; a store's own complaint is never fed back: stop just before.
        return [] if last in (None, "accept") else full[: full.index("resolve") + 1]
    return full[: full.index(last) + 1]


def _times(rng, now: datetime, count: int, *, late: bool, done: bool) -> list[datetime]:
    """When each step happened: closed ones weeks ago, fresh ones over the last hours, late ones days ago."""
    if count == 1 and not late:
        return [now - timedelta(minutes=rng.uniform(5, 50))]  # just taken, the store has not seen it yet
    if late:
        start = now - timedelta(days=rng.uniform(3, 6))
        end = start + rng.uniform(1, 4) * HOUR
    elif done:
        start = now - timedelta(days=rng.uniform(8, 50))
        end = start + timedelta(days=rng.uniform(2, 5))
    else:
        start = now - rng.uniform(4, 20) * HOUR
        end = now - rng.uniform(0.2, 2) * HOUR
    cuts = sorted(rng.random() for _ in range(count - 1))
    times = [start] + [start + (end - start) * c for c in cuts]
    in_hours = [_office_hours(t) for t in times]
    return in_hours if in_hours[-1] < now else times


def _office_hours(moment: datetime) -> datetime:
    """The same day's moment squeezed into 08:30–19:00 Shanghai time (order is kept): staff work by day."""
    local = moment.astimezone(SHANGHAI)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    share = (local - midnight) / timedelta(days=1)
    return (midnight + timedelta(hours=8.5) + timedelta(hours=10.5) * share).astimezone(timezone.utc)


async def _do(step: str, cid: int, story: Story, team: _Team, revisitor: Scope, rng) -> None:
    handler = team.sales_head if story.department == "sales" else team.head
    if step == "accept":
        await service.accept_complaint(actor=team.cr, complaint_id=cid, note="已登记，发放《用户抱怨/投诉处理表》")
    elif step == "assign":
        await service.assign_handler(actor=team.cr, complaint_id=cid, handler_user_id=handler.user_id,
                                     department=story.department)
    elif step == "analyse":
        await service.record_cause(
            actor=handler, complaint_id=cid, cause_category=story.cause, department=story.department,
            liability="liable" if story.liable else "not_liable",
            accused_user_id=team.staff.user_id if story.liable and story.department == "service" else None,
            note=story.analysis,
        )
    elif step == "countermeasure":
        await service.record_countermeasure(actor=handler, complaint_id=cid, countermeasure=story.countermeasure)
    elif step == "resolve":
        await service.resolve_complaint(actor=handler, complaint_id=cid, resolution=story.resolution)
        # The department reports the result with its improvement measures; the CR department checks it.
        await service.submit_result_report(actor=handler, complaint_id=cid, result=story.resolution,
                                           improvement_measures=story.improvement)
        await service.check_result_report(actor=team.cr, complaint_id=cid, accepted=True)
    elif step == "feed_back":
        await service.feed_back_to_group(actor=team.cr, complaint_id=cid, note=story.resolution)
    elif step == "revisit":
        await service.record_revisit(actor=revisitor, complaint_id=cid, satisfied=True,
                                     note=rng.choice(["客户对处理结果满意", "客户表示认可，感谢回访", "客户满意，无其他意见"]))
    elif step == "revisit_unhappy":
        await service.record_revisit(actor=revisitor, complaint_id=cid, satisfied=False,
                                     note=rng.choice(["客户表示问题仍未解决", "客户对补偿方案不满意，要求重新处理"]))
    elif step == "close":
        await service.close_complaint(actor=revisitor, complaint_id=cid)


async def _teams(ctx, rng) -> dict[int, _Team]:
    """Each store's customer-relations team: the demo logins in the first store, new people elsewhere."""
    password_hash = hash_password(ctx.password)
    teams: dict[int, _Team] = {}
    for store in ctx.stores:
        if store.code == "SVW-SH01":
            ids = {"cr": ctx.users["crm_manager"], "head": ctx.users["dept_head"], "agent": ctx.users["callback"],
                   "staff": ctx.users["staff"]}
        else:
            ids = {}
            for key, role, gender in [("cr", Role.STORE_CR_MANAGER, "female"), ("head", Role.DEPARTMENT_HEAD, "male"),
                                      ("agent", Role.CALLBACK_AGENT, "female"), ("staff", Role.STAFF, "male")]:
                username = f"{store.code.lower().replace('-', '_')}_{key}"
                ids[key] = await create_user(
                    username=username, password=ctx.password, password_hash=password_hash,
                    display_name=ctx.person_name(rng, gender), roles=[role], store_id=store.id,
                )
                ctx.users[username] = ids[key]
        sales_username = f"{store.code.lower().replace('-', '_')}_sales_head"
        ctx.users[sales_username] = await create_user(
            username=sales_username, password=ctx.password, password_hash=password_hash,
            display_name=ctx.person_name(rng, "male"), roles=[Role.DEPARTMENT_HEAD], store_id=store.id,
        )
        teams[store.id] = _Team(
            cr=await scope_for_user(ids["cr"]), head=await scope_for_user(ids["head"]),
            sales_head=await scope_for_user(ctx.users[sales_username]), agent=await scope_for_user(ids["agent"]),
            staff=await scope_for_user(ids["staff"]),
        )
    return teams
