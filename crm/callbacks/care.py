"""Customer care (客户关怀, 003 §3.3): birthday and holiday greetings, insurance renewal and annual inspection reminders.

A daily job plans, per store, every greeting and reminder that falls due within the
next `LOOKAHEAD_DAYS` (or is overdue but still inside its window, after a day the
job did not run). Planning is idempotent — each occasion has its dedupe key
(`birthday:<customer>:<year>`, `holiday:<kind>:<year>:<customer>`,
`insurance:<vehicle>:<expiry date>` …) — so running it twice, or on overlapping
days, plans nothing twice. Do-not-call customers get nothing.

Birthdays: `Customer.birthday` is the (solar) date of birth; a customer whose
`birthday_is_lunar` is set celebrates the anniversary of that day's lunar date (农历生日).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from lunar_python import Solar

from crm import clock
from crm.calendar.service import calendar_for_store, lunar_to_solar
from crm.callbacks.planning import Plan, plan
from crm.callbacks.rules import DAY, Rule, effective_rules
from crm.callbacks.scheduling import create_plans
from crm.customers.tables import Customer, Vehicle
from tenants.tables import Store
from tenants.scope import Scope

LOOKAHEAD_DAYS = 3


def holiday_date(holiday: str, year: int) -> date:
    """The solar date of a greeting holiday in `year` (春节, 中秋 and 端午 follow the lunar calendar)."""
    lunar = {"春节": (1, 1), "端午": (5, 5), "中秋": (8, 15)}
    if holiday in lunar:
        return lunar_to_solar(year, *lunar[holiday])
    return {"元旦": date(year, 1, 1), "国庆": date(year, 10, 1)}[holiday]


def birthday_in(birthday: date, year: int, *, lunar: bool) -> date:
    """The day a birthday is celebrated in `year` (29 February → 28 February in other years)."""
    if lunar:
        born = Solar.fromYmd(birthday.year, birthday.month, birthday.day).getLunar()
        month = born.getMonth()
        return lunar_to_solar(year, abs(month), born.getDay(), leap=month < 0)
    try:
        return birthday.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


async def plan_care(*, store_ids: Iterable[int] | None = None, enqueue: bool = True) -> dict[str, int]:
    """The daily job: plan the coming greetings and reminders of every (or the given) active store."""
    query = Store.select(Store.id, Store.group).where(Store.active.eq(True))
    if store_ids is not None:
        query = query.where(Store.id.is_in(list(store_ids) or [-1]))
    totals = {"stores": 0, "created": 0}
    for store in await query:
        totals["created"] += await plan_store_care(group_id=store["group"], store_id=store["id"], enqueue=enqueue)
        totals["stores"] += 1
    return totals


async def plan_store_care(*, group_id: int, store_id: int, enqueue: bool = True) -> int:
    rules = await effective_rules(group_id=group_id, store_id=store_id)
    calendar = await calendar_for_store(store_id)
    now = clock.now()
    today = now.astimezone(calendar.tz).date()
    horizon = now + timedelta(days=LOOKAHEAD_DAYS)
    plans: list[Plan] = []

    def occasions(rule: Rule) -> tuple[date, date]:
        """Anchor dates whose contact can fall due by the horizon and is not yet past its window."""
        first = today - timedelta(days=(rule.offset_minutes + rule.window_minutes) // DAY + 1)
        last = today + timedelta(days=LOOKAHEAD_DAYS - rule.offset_minutes // DAY + 1)
        return first, last

    def add(rule: Rule, anchor: date, source_type: str, source_id: int, customer_id: int, vehicle_id, key: str):
        planned = plan(rule, anchor=anchor, calendar=calendar, source_type=source_type, source_id=source_id,
                       customer_id=customer_id, vehicle_id=vehicle_id, dedupe_key=key)
        if planned.due_at <= horizon:
            plans.append(planned)

    active = [r for r in rules.values() if r.enabled]
    birthday_rules = [r for r in active if r.trigger == "birthday"]
    holiday_rules = [r for r in active if r.trigger == "holiday"]
    if birthday_rules or holiday_rules:
        customers = await Scope.system(group_id, store_id).select(
            Customer, Customer.id, Customer.birthday, Customer.birthday_is_lunar
        ).where(
            Customer.active.eq(True), Customer.do_not_call.eq(False),
            Customer.mobile != "")
        for rule in birthday_rules:
            first, last = occasions(rule)
            for customer in customers:
                if customer["birthday"] is None:
                    continue
                for year in range(first.year, last.year + 1):
                    day = birthday_in(customer["birthday"], year, lunar=customer["birthday_is_lunar"])
                    if first <= day <= last:
                        add(rule, day, "customer", customer["id"], customer["id"], None,
                            f"birthday:{customer['id']}:{day.year}")
        for rule in holiday_rules:
            first, last = occasions(rule)
            for year in range(first.year, last.year + 1):
                day = holiday_date(rule.holiday, year)
                if first <= day <= last:
                    for customer in customers:
                        add(rule, day, "customer", customer["id"], customer["id"], None,
                            f"holiday:{rule.kind}:{year}:{customer['id']}")
    for rule in active:
        column = {"insurance": Vehicle.insurance_expires_on, "inspection": Vehicle.inspection_due_on}.get(rule.trigger)
        if column is None:
            continue
        first, last = occasions(rule)
        vehicles = await Scope.system(group_id, store_id).select(Vehicle, Vehicle.id, Vehicle.customer, column).where(
            Vehicle.active.eq(True), column >= first, column <= last,
            Vehicle.customer.do_not_call.eq(False))
        for vehicle in vehicles:
            day = vehicle[column._meta.name]
            add(rule, day, "vehicle", vehicle["id"], vehicle["customer"], vehicle["id"],
                f"{rule.trigger}:{vehicle['id']}:{day.isoformat()}")
    return await create_plans(group_id=group_id, store_id=store_id, plans=plans, calendar=calendar, enqueue=enqueue)
