"""The daily care planner: birthdays (solar and lunar), holiday greetings, insurance and inspection reminders."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from lunar_python import Solar

from crm.callbacks.care import birthday_in, holiday_date, plan_care
from crm.callbacks.tables import Callback
from tests.support.callbacks import make_customer, make_vehicle

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


async def care_of(customer_id: int) -> dict[str, dict]:
    rows = await Callback.select().where(Callback.customer == customer_id)
    return {row["kind"]: row for row in rows}


def test_holiday_dates_follow_the_lunar_calendar():
    assert holiday_date("中秋", 2026) == date(2026, 9, 25)
    assert holiday_date("春节", 2026) == date(2026, 2, 17)
    assert holiday_date("国庆", 2026) == date(2026, 10, 1)


def test_lunar_birthday_is_the_anniversary_of_the_lunar_date_of_birth():
    born = date(1990, 3, 15)
    lunar = Solar.fromYmd(1990, 3, 15).getLunar()
    celebrated = birthday_in(born, 2026, lunar=True)
    again = Solar.fromYmd(celebrated.year, celebrated.month, celebrated.day).getLunar()
    assert (again.getMonth(), again.getDay()) == (lunar.getMonth(), lunar.getDay())
    assert celebrated != date(2026, 3, 15)
    assert birthday_in(date(1992, 2, 29), 2026, lunar=False) == date(2026, 2, 28)


async def test_birthday_greetings_solar_and_lunar_planned_ahead_once(tenant):
    with time_machine.travel(local(date(2026, 3, 13), 2), tick=False):
        solar = await make_customer(tenant, tenant.store_a, name="赵敏", gender="female", birthday=date(1990, 3, 15))
        lunar_born = date(1990, 4, 10)
        lunar = await make_customer(tenant, tenant.store_a, name="钱多多", birthday=lunar_born,
                                    birthday_is_lunar=True)
        quiet = await make_customer(tenant, tenant.store_a, birthday=date(1990, 3, 14), do_not_call=True)
        far = await make_customer(tenant, tenant.store_a, birthday=date(1990, 6, 1))
        first = await plan_care(store_ids=[tenant.store_a])
        again = await plan_care(store_ids=[tenant.store_a])
    greeting = (await care_of(solar))["birthday_greeting"]
    assert greeting["due_at"] == local(date(2026, 3, 15), 9) and greeting["channel"] == "sms"
    assert await care_of(quiet) == {} and await care_of(far) == {}
    lunar_day = birthday_in(lunar_born, 2026, lunar=True)
    if lunar_day <= date(2026, 3, 16):
        assert (await care_of(lunar))["birthday_greeting"]["due_at"] == local(lunar_day, 9)
    else:
        assert await care_of(lunar) == {}
    assert first["created"] >= 1 and again["created"] == 0


async def test_lunar_birthday_greeted_on_its_solar_day_this_year(tenant):
    lunar_born = date(1988, 8, 20)
    day = birthday_in(lunar_born, 2026, lunar=True)
    with time_machine.travel(local(day - timedelta(days=2), 8), tick=False):
        customer = await make_customer(tenant, tenant.store_b, birthday=lunar_born, birthday_is_lunar=True)
        await plan_care(store_ids=[tenant.store_b])
    assert (await care_of(customer))["birthday_greeting"]["due_at"] == local(day, 9)


async def test_mid_autumn_greeting_goes_to_every_reachable_customer(tenant):
    with time_machine.travel(local(date(2026, 9, 22), 8), tick=False):
        reachable = [await make_customer(tenant, tenant.store_c) for _ in range(3)]
        quiet = await make_customer(tenant, tenant.store_c, do_not_call=True)
        await plan_care(store_ids=[tenant.store_c])
        await plan_care(store_ids=[tenant.store_c])
    for customer in reachable:
        greeting = (await care_of(customer))["holiday_zhongqiu"]
        assert greeting["due_at"] == local(date(2026, 9, 24), 10)  # the day before 中秋 (25 Sep 2026)
    assert await care_of(quiet) == {}
    assert await Callback.count().where(Callback.store == tenant.store_c, Callback.kind == "holiday_zhongqiu") == 3


async def test_insurance_and_inspection_reminders_ahead_of_their_dates(tenant):
    today = date(2026, 5, 11)  # a Monday
    with time_machine.travel(local(today, 8), tick=False):
        customer = await make_customer(tenant, tenant.store_a)
        soon = await make_vehicle(tenant, tenant.store_a, customer, insurance_expires_on=today + timedelta(days=31),
                                  inspection_due_on=today + timedelta(days=29))
        later = await make_vehicle(tenant, tenant.store_a, customer, insurance_expires_on=today + timedelta(days=60))
        await plan_care(store_ids=[tenant.store_a])
    rows = await Callback.select().where(Callback.customer == customer)
    by_vehicle = {(r["vehicle"], r["kind"]): r for r in rows}
    insurance = by_vehicle[(soon, "insurance_renewal_reminder")]
    assert insurance["due_at"] == local(today + timedelta(days=1), 10) and insurance["channel"] == "phone"
    inspection = by_vehicle[(soon, "annual_inspection_reminder")]
    # Its planned 10:00 yesterday has passed but its window is open: due at the next contact time, 09:00 today.
    assert inspection["due_at"] == local(today, 9)
    assert (later, "insurance_renewal_reminder") not in by_vehicle
