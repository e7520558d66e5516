"""Test data: real rows in the real database, through the services (so their signals fire), unique per call.

One way to make each thing: a tenant (a fresh dealer group, the test's own data), a customer
with a car, a sale, a visit, a complaint and that complaint walked to a state, a major
complaint; and, for the dashboards, raw rows at exact instants. Area helpers
(tests/support/<area>.py) build on these; a store is named by its label ("A", "B", "C")
or its id.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm import clock
from crm.callbacks.surveys import level_of_yes_no
from crm.callbacks.tables import Callback, CallbackScore
from crm.complaints import service as complaints
from crm.complaints.tables import Complaint, ComplaintDeadlineMiss
from crm.customers import service as customers
from crm.customers.tables import ServiceVisit
from crm.customers.validation import id_check_character, vin_check_digit
from crm.major import service as major
from crm.major.rules import MajorReason
from crm.major.tables import MajorComplaint
from crm.timers.tables import Timer
from tenants.accounts import create_user, hash_password, issue_token
from tenants.roles import GROUP_ROLES, STORE_ROLES, Role
from tenants.scope import Scope, scope_for_user
from tenants.tables import BrandDivision, DealerGroup, Region, Store, User

PASSWORD = "Passw0rd!"
_password_hash = hash_password(PASSWORD)
_tenants = itertools.count(1)
_serial = itertools.count(1)

# ---- tenants -------------------------------------------------------------------------------------------------


@dataclass
class Tenant:
    """A group with two brand divisions and three stores (A and B in division 1, C in division 2)."""

    group_id: int
    code: str  # 集团代码, with the username the sign-in of the group's users
    division_ids: list[int]
    store_ids: list[int]
    users: dict[str, int] = field(default_factory=dict)  # "store_gm@A" / "hq_viewer" → user id
    usernames: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def store_a(self) -> int:
        return self.store_ids[0]

    @property
    def store_b(self) -> int:
        return self.store_ids[1]

    @property
    def store_c(self) -> int:
        return self.store_ids[2]

    def label(self, store: str | int) -> str:
        """The store's label (A, B or C), given its label or its id."""
        return store if isinstance(store, str) else "ABC"[self.store_ids.index(store)]

    def store_id(self, store: str | int) -> int:
        return store if isinstance(store, int) else self.store_ids["ABC".index(store)]

    async def scope(self, who: str) -> Scope:
        scope = await scope_for_user(self.users[who])
        assert scope is not None
        return scope

    def login(self, who: str, password: str = PASSWORD) -> dict[str, str]:
        """The body of `POST /api/v1/auth/token` for one of the tenant's users."""
        return {"group_code": self.code, "username": self.usernames[who], "password": password}

    async def headers(self, who: str) -> dict[str, str]:
        """Bearer-token headers for one of the tenant's users."""
        if who not in self.tokens:
            self.tokens[who], _ = await issue_token(self.users[who], 1)
        return {"Authorization": f"Bearer {self.tokens[who]}"}


async def make_tenant() -> Tenant:
    n = next(_tenants)
    tag = uuid.uuid4().hex[:8]
    group = DealerGroup(name=f"测试集团{n}-{tag}", code=f"G{tag}")
    await group.save()
    divisions = []
    for name in ("上汽大众", "一汽丰田"):
        division = BrandDivision(group=group.id, name=name, code=f"{name}-{tag}")
        await division.save()
        divisions.append(division.id)
    region = Region(group=group.id, name="华东")
    await region.save()
    stores = []
    for label, division in [("A", divisions[0]), ("B", divisions[0]), ("C", divisions[1])]:
        store = Store(group=group.id, brand_division=division, region=region.id, code=f"S{tag}{label}",
                      name=f"测试4S店{label}{n}")
        await store.save()
        stores.append(store.id)
    tenant = Tenant(group_id=group.id, code=group.code, division_ids=divisions, store_ids=stores)

    async def add(key: str, role: Role, **where) -> None:
        username = f"{key.replace('@', '_')}_{tag}"
        tenant.users[key] = await create_user(
            username=username, password=PASSWORD, password_hash=_password_hash,
            display_name=f"{role.title_zh}{key}", roles=[role], **where,
        )
        tenant.usernames[key] = username

    for role in sorted(GROUP_ROLES):
        await add(str(role), role, group_id=group.id)
    await add("brand_manager@div2", Role.BRAND_MANAGER, group_id=group.id, brand_division_id=divisions[1])
    for label, store_id in zip("ABC", stores):
        for role in sorted(STORE_ROLES):
            await add(f"{role}@{label}", role, store_id=store_id)
    return tenant


async def group_code_of(username: str) -> str:
    """The code of the group of the (test-unique) username; "" for the platform admin, who signs in without one."""
    row = await User.select(User.group.code).where(User.username == username).first()
    return (row and row["group.code"]) or ""


async def end_timers(tenant: Tenant) -> None:
    """Cancel the group's timers still pending when its test ends (time-travelling tests leave some due)."""
    await Timer.update({Timer.state: "cancelled"}).where(  # tenant: the test's own group
        Timer.group == tenant.group_id, Timer.state == "pending"
    )


# ---- identifiers and instants --------------------------------------------------------------------------------


def make_vin(serial: int | None = None, wmi: str = "LSV") -> str:
    """A real-looking VIN with a correct check digit, unique per call unless `serial` is given."""
    number = next(_serial) if serial is None else serial
    base = f"{wmi}AU218?N2{number:06d}"
    return base.replace("?", vin_check_digit(base.replace("?", "0")))


def make_mobile(serial: int | None = None) -> str:
    number = next(_serial) if serial is None else serial
    return f"139{number:08d}"


def make_id_number(birth: str = "19900307", serial: int | None = None) -> str:
    number = (next(_serial) if serial is None else serial) % 1000
    base = f"440301{birth}{number:03d}"
    return base + id_check_character(base)


def make_plate() -> str:
    return f"沪A{next(_serial) % 100000:05d}"


def ago(**kw: float) -> datetime:
    """An instant before the (pinned) clock's now: `ago(hours=30)`."""
    return clock.now() - timedelta(**kw)


# ---- customers, cars, sales, visits --------------------------------------------------------------------------


@dataclass
class Car:
    """A customer of one store with one vehicle."""

    customer_id: int
    vehicle_id: int
    mobile: str
    vin: str
    plate: str
    store: str = "A"
    name: str = "张三"


async def customer(tenant: Tenant, store: str | int = "A", *, name: str = "张三", mobile: str | None = None,
                   who: str | None = None, **fields) -> int:
    """The store's customer with this mobile (a new profile unless the store already has one)."""
    actor = await tenant.scope(who or f"store_cr_manager@{tenant.label(store)}")
    return await customers.find_or_create_customer(
        actor=actor, store_id=tenant.store_id(store), name=name, mobile=mobile or make_mobile(), **fields
    )


async def vehicle(tenant: Tenant, customer_id: int, store: str | int = "A", *, vin: str | None = None,
                  plate: str | None = None, who: str | None = None, **fields) -> int:
    actor = await tenant.scope(who or f"store_cr_manager@{tenant.label(store)}")
    fields = {"brand": "大众", "model": "帕萨特", **fields}
    return await customers.create_vehicle(
        actor=actor, customer_id=customer_id, vin=vin or make_vin(), plate=make_plate() if plate is None else plate,
        **fields,
    )


async def customer_with_car(tenant: Tenant, store: str | int = "A", *, name: str = "张三", mobile: str | None = None,
                            vin: str | None = None, plate: str | None = None, who: str | None = None,
                            car_fields: dict | None = None, **fields) -> Car:
    """A customer of the store with one vehicle (plate 沪A…).

    `fields` go to the customer, `car_fields` to the vehicle."""
    label, mobile, vin, plate = tenant.label(store), mobile or make_mobile(), vin or make_vin(), plate or make_plate()
    customer_id = await customer(tenant, label, name=name, mobile=mobile, who=who, **fields)
    vehicle_id = await vehicle(tenant, customer_id, label, vin=vin, plate=plate, who=who, **(car_fields or {}))
    return Car(customer_id, vehicle_id, mobile, vin, plate, label, name)


async def same_car_at(tenant: Tenant, car: Car, store: str | int) -> Car:
    """The same person and car as known to another store (its own profile and vehicle row)."""
    return await customer_with_car(tenant, store, name=car.name, mobile=car.mobile, vin=car.vin, plate=car.plate)


async def sale(tenant: Tenant, car: Car, delivered_at: datetime | None = None, *, who: str | None = None,
               **fields) -> int:
    """A delivery of the car (default now), recorded through the customer records so its signal plans callbacks."""
    actor = await tenant.scope(who or f"store_cr_manager@{car.store}")
    fields = {"order_no": f"SO{next(_serial)}", "salesperson": "李娜", **fields}
    return await customers.record_sale(
        actor=actor, customer_id=car.customer_id, vehicle_id=car.vehicle_id,
        delivered_at=clock.now() if delivered_at is None else delivered_at, **fields,
    )


async def visit(tenant: Tenant, car: Car, left_at: datetime, *, who: str | None = None, **fields) -> int:
    """A workshop visit of the car (maintenance, three hours in the workshop), recorded through the customer records."""
    actor = await tenant.scope(who or f"store_cr_manager@{car.store}")
    fields = {"arrived_at": left_at - timedelta(hours=3), "repair_order_no": f"RO{next(_serial)}", "advisor": "王强",
              "repair_type": "maintenance", "mileage": 5000, **fields}
    return await customers.record_visit(
        actor=actor, customer_id=car.customer_id, vehicle_id=car.vehicle_id, left_at=left_at, **fields
    )


async def customer_with_history(tenant: Tenant, store: str | int = "A", *, name: str = "王建国",
                                who: str | None = None) -> Car:
    """A private customer with every profile field, one vehicle, its delivery (200 days ago) and a visit (20 days)."""
    car = await customer_with_car(
        tenant, store, name=name, who=who, gender="male", marital_status="married", id_number=make_id_number(),
        address="上海市浦东新区张江路88号", occupation="工程师",
        car_fields={"model": "帕萨特 330TSI", "colour": "珍珠白", "insurer": "中国人保"},
    )
    await sale(tenant, car, ago(days=200), who=who, price=Decimal("218800.00"), discount=Decimal("12000.00"))
    await visit(tenant, car, ago(days=20), who=who, advisor="张伟", mileage=7500, amount=Decimal("680.00"))
    return car


# ---- complaints ----------------------------------------------------------------------------------------------

WALK = ("accepted", "assigned", "analysed", "countermeasure", "resolved", "fed_back", "revisited", "closed")


async def complaint(tenant: Tenant, car: Car, *, who: str = "call_center_agent", store: str | int | None = None,
                    channel: str = "hotline_400", content: str = "变速箱异响,多次维修未解决",
                    expected_solution: str = "更换变速箱", **extra) -> int:
    """A complaint about the car through the real intake (routed by the service unless `store` is given)."""
    if store is not None:
        extra["store_id"] = tenant.store_id(store)
    return await complaints.create_complaint(
        actor=await tenant.scope(who), customer_id=car.customer_id, vehicle_id=car.vehicle_id, channel=channel,
        content=content, expected_solution=expected_solution, **extra,
    )


async def walk_complaint(tenant: Tenant, complaint_id: int, to: str, *, store: str | int = "A",
                         department: str = "service", countermeasure: str = "安排技师复检,更换故障部件") -> None:
    """Take a complaint on through the workflow from where it stands (received: from the start), as the store
    and the group do, up to state `to` (see WALK)."""
    label = tenant.label(store)
    current = (await Complaint.select(Complaint.state).where(Complaint.id == complaint_id).first())["state"]
    cr, head = await tenant.scope(f"store_cr_manager@{label}"), await tenant.scope(f"department_head@{label}")
    group_cs = await tenant.scope("group_customer_service")
    steps = {
        "accepted": lambda: complaints.accept_complaint(actor=cr, complaint_id=complaint_id),
        "assigned": lambda: complaints.assign_handler(actor=cr, complaint_id=complaint_id,
                                                      handler_user_id=head.user_id, department=department),
        "analysed": lambda: complaints.record_cause(actor=head, complaint_id=complaint_id, cause_category="service",
                                                    department=department, liability="liable"),
        "countermeasure": lambda: complaints.record_countermeasure(actor=head, complaint_id=complaint_id,
                                                                   countermeasure=countermeasure),
        "resolved": lambda: complaints.resolve_complaint(actor=head, complaint_id=complaint_id, resolution="已处理",
                                                         improvement_measures="加强终检"),
        "fed_back": lambda: complaints.feed_back_to_group(actor=cr, complaint_id=complaint_id),
        "revisited": lambda: complaints.record_revisit(actor=group_cs, complaint_id=complaint_id, satisfied=True),
        "closed": lambda: complaints.close_complaint(actor=group_cs, complaint_id=complaint_id),
    }
    for state in WALK[WALK.index(current) + 1 if current in WALK else 0: WALK.index(to) + 1]:
        await steps[state]()


async def major_complaint(tenant: Tenant, complaint_id: int, *reasons: MajorReason, who: str = "call_center_agent",
                          note: str = "说明") -> int:
    """Mark a complaint major (default reason: the customer blocks the gate); returns the major complaint's id."""
    return await major.mark_major(
        actor=await tenant.scope(who), complaint_id=complaint_id,
        reasons=[major.ReasonInput(reason, note) for reason in reasons or (MajorReason.BLOCKING_GATE,)],
    )


# ---- raw rows at exact instants (dashboards) -----------------------------------------------------------------
# Inserted directly, not through the services, so a test states every timestamp a metric depends on; the
# database triggers queue the touched store-days exactly as for rows the services write.

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """A Shanghai wall-clock instant."""
    return datetime.combine(day, time(hh, mm), tzinfo=SHANGHAI)


async def complaint_row(tenant: Tenant, car: Car, store_id: int, received: datetime, *, state: str = "received",
                        channel: str = "walk_in", missed: tuple[str, ...] = (), **columns) -> int:
    row = Complaint(group=tenant.group_id, store=store_id, channel=channel, customer=car.customer_id,
                    vehicle=car.vehicle_id, complainant_name="张三", content="投诉", state=state, received_at=received,
                    routed_at=received, updated_at=received, **columns)
    await row.save()
    for kind in missed:
        await ComplaintDeadlineMiss(group=tenant.group_id, store=store_id, complaint=row.id, kind=kind,
                                    due_at=received, missed_at=received, responsible_role="store_cr_manager",
                                    dedupe_key=f"t{next(_serial)}:{row.id}:{kind}").save()
    return row.id


async def major_row(tenant: Tenant, complaint_id: int, store_id: int, marked: datetime, *,
                    filed: datetime | None = None, overdue: bool = False) -> int:
    row = MajorComplaint(group=tenant.group_id, store=store_id, complaint=complaint_id, marked_at=marked,
                         report_due_at=marked + timedelta(hours=24), report_filed_at=filed,
                         report_status="filed" if filed else "missing", report_overdue=overdue)
    await row.save()
    return row.id


async def callback_row(tenant: Tenant, car: Car, store_id: int, due: datetime, *, channel: str = "phone",
                       state: str = "done", attempts: int = 1, first_attempt: datetime | None = None,
                       satisfied: bool | None = None, deadline: datetime | None = None, survey: str = "") -> int:
    row = Callback(group=tenant.group_id, store=store_id, customer=car.customer_id, vehicle=car.vehicle_id,
                   kind="service_3d", channel=channel, survey=survey, source_type="service_visit", source_id=0,
                   dedupe_key=f"test-{next(_serial)}-{due.isoformat()}", anchor_at=due, due_at=due,
                   deadline_at=deadline or due + timedelta(days=2), state=state, attempts=attempts,
                   first_attempt_at=first_attempt if attempts else None,
                   satisfaction=level_of_yes_no(satisfied), created_at=due)
    await row.save()
    return row.id


async def score_rows(tenant: Tenant, callback_id: int, store_id: int, survey: str, values: list[int],
                     when: datetime) -> None:
    for n, value in enumerate(values):
        await CallbackScore(group=tenant.group_id, store=store_id, callback=callback_id, survey=survey,
                            factor=f"f{n}", score=value, recorded_at=when).save()


async def visit_row(tenant: Tenant, car: Car, store_id: int, left: datetime, *, cancelled: bool = False) -> int:
    row = ServiceVisit(group=tenant.group_id, store=store_id, customer=car.customer_id, vehicle=car.vehicle_id,
                       left_at=left, created_at=left, updated_at=left, repair_order_no=f"RO{next(_serial)}",
                       cancelled_at=left if cancelled else None)
    await row.save()
    return row.id
