"""Demo data: one dealer group (华东汽车集团) with 3 brand divisions, 12 stores, ~5,000 customers.

`seed()` runs `STEPS` in order inside one transaction. Each step is an async
function taking the shared `DemoContext`; an area that wants demo data of its
own (complaints, callbacks, …) appends its step to `STEPS` — it can read what
the earlier steps made (`ctx.group_id`, `ctx.stores`, `ctx.users`,
`ctx.customers`; anything else it can query) and should draw its randomness
from `ctx.rng("<its name>")`, so adding a step never changes the data of the
others. Steps write rows in bulk and must not need Redis (`dealerdesk seed`
runs without one); timers they create are picked up by the worker's sweeper.

Everything is deterministic for a given day: a fixed random seed, dates
counted back from today (so the demo always shows "the last 12 months").
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from piccolo.table import Table, sort_table_classes

from crm import clock
from crm.analytics.demo import build_rollups, seed_dashboard_history
from crm.callbacks.demo import seed_callbacks
from crm.complaints.demo import seed_complaints
from crm.satisfaction.demo import seed_satisfaction
from crm.customers.tables import Customer, CustomerIdentity, Sale, ServiceVisit, Vehicle
from crm.customers.validation import id_check_character, vin_check_digit
from crm.privacy import vault
from tenants.accounts import create_user, hash_password
from tenants.roles import Role
from tenants.tables import BrandDivision, DealerGroup, Region, Store

SEED = 20240601
DEMO_PASSWORD = "demo1234"
GROUP_NAME = "华东汽车集团"
GROUP_CODE = "HDQC"  # 集团代码: the group's users sign in with it
SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH = 400  # rows per INSERT: keeps SQLite well under its bound-parameter limit


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    display_name: str
    store_code: str | None = None  # store roles: which store
    division_code: str | None = None  # brand manager: limited to this division

    @property
    def where(self) -> str:
        """The store or brand division the login is limited to, for the demo banner."""
        if self.store_code:
            division, district = next(s[1:3] for s in STORES if s[0] == self.store_code)
            return f"@ {store_name(division, district)} ({self.store_code})"
        if self.division_code:
            return f"@ {dict(DIVISIONS)[self.division_code]}事业部"
        return ""


# One demo user per role. Store roles sit in the first store (上汽大众 上海浦东店).
DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin("admin", Role.PLATFORM_ADMIN, "平台管理员"),
    DemoLogin("group_admin", Role.GROUP_ADMIN, "周敏"),
    DemoLogin("ceo", Role.HQ_VIEWER, "沈建国"),
    DemoLogin("brand_svw", Role.BRAND_MANAGER, "陆海涛", division_code="SVW"),
    DemoLogin("legal", Role.LEGAL, "顾晓雯"),
    DemoLogin("callcenter", Role.CALL_CENTER_AGENT, "蒋丽"),
    DemoLogin("groupcs", Role.GROUP_CUSTOMER_SERVICE, "钱芳"),
    DemoLogin("gm", Role.STORE_GM, "吴志强", store_code="SVW-SH01"),
    DemoLogin("crm_manager", Role.STORE_CR_MANAGER, "郑婷", store_code="SVW-SH01"),
    DemoLogin("callback", Role.CALLBACK_AGENT, "冯雪", store_code="SVW-SH01"),
    DemoLogin("dept_head", Role.DEPARTMENT_HEAD, "褚伟", store_code="SVW-SH01"),
    DemoLogin("staff", Role.STAFF, "卫鹏", store_code="SVW-SH01"),
]


@dataclass(frozen=True)
class DemoStore:
    id: int
    code: str
    name: str
    city: str
    division_code: str
    plate_prefix: str  # province character + city letter, e.g. 沪A
    area_code: str  # first six digits of a local ID number


@dataclass
class DemoCustomer:
    id: int
    store_id: int
    identity_id: int
    name: str
    mobile: str


@dataclass
class DemoContext:
    small: bool
    today: date
    group_id: int = 0
    division_ids: dict[str, int] = field(default_factory=dict)
    stores: list[DemoStore] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)  # username → id
    customers: list[DemoCustomer] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        """An independent, repeatable random stream per seeding step."""
        digest = hashlib.sha256(f"{SEED}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    @property
    def password(self) -> str:
        return DEMO_PASSWORD

    def person_name(self, rng: random.Random, gender: str = "male") -> str:
        """A plausible Chinese full name (for staff other steps create)."""
        return _People(rng)._name(gender)[0]

    def local_time(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A wall-clock time in Shanghai on `day`, as the aware UTC instant the database stores."""
        return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(timezone.utc)


SeedStep = Callable[[DemoContext], Awaitable[None]]


async def seed(*, small: bool = False, reset: bool = False) -> dict[str, int] | None:
    """Create the demo data; None (nothing done) when the database already has a group and `reset` is false."""
    from piccolo_conf import DB

    if reset:
        await wipe_all_data()
    elif await DealerGroup.count() > 0:
        return None
    ctx = DemoContext(small=small, today=clock.now().astimezone(SHANGHAI).date())
    async with DB.transaction():
        for step in STEPS:
            await step(ctx)
    return ctx.counts


async def wipe_all_data() -> None:
    """Delete every row of every app table (not the migration records): `seed --reset`."""
    from piccolo.conf.apps import Finder
    from piccolo.engine.postgres import PostgresEngine

    from piccolo_conf import DB

    tables = [t for t in Finder().get_table_classes() if t._meta.tablename != "migration"]
    if isinstance(DB, PostgresEngine):
        names = ", ".join(t._meta.get_formatted_tablename() for t in tables)
        await DB.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return
    async with DB.transaction():
        for table in reversed(sort_table_classes(tables)):
            await table.delete(force=True)


# ---------------------------------------------------------------- steps

DIVISIONS = [("SVW", "上汽大众"), ("FTMS", "一汽丰田"), ("DFN", "东风日产")]
REGIONS = ["上海区域", "江苏区域", "浙江区域", "安徽区域"]
# (code, division, district store name, city, region, plate prefix, ID-number area code)
STORES = [
    ("SVW-SH01", "SVW", "上海浦东店", "上海", "上海区域", "沪A", "310115"),
    ("SVW-SZ01", "SVW", "苏州园区店", "苏州", "江苏区域", "苏E", "320571"),
    ("SVW-HZ01", "SVW", "杭州滨江店", "杭州", "浙江区域", "浙A", "330108"),
    ("SVW-HF01", "SVW", "合肥包河店", "合肥", "安徽区域", "皖A", "340111"),
    ("FTMS-SH01", "FTMS", "上海闵行店", "上海", "上海区域", "沪B", "310112"),
    ("FTMS-NJ01", "FTMS", "南京江宁店", "南京", "江苏区域", "苏A", "320115"),
    ("FTMS-NB01", "FTMS", "宁波鄞州店", "宁波", "浙江区域", "浙B", "330212"),
    ("FTMS-WX01", "FTMS", "无锡新吴店", "无锡", "江苏区域", "苏B", "320214"),
    ("DFN-SH01", "DFN", "上海嘉定店", "上海", "上海区域", "沪C", "310114"),
    ("DFN-CZ01", "DFN", "常州武进店", "常州", "江苏区域", "苏D", "320412"),
    ("DFN-WZ01", "DFN", "温州鹿城店", "温州", "浙江区域", "浙C", "330302"),
    ("DFN-NT01", "DFN", "南通崇川店", "南通", "江苏区域", "苏F", "320613"),
]


def store_name(division_code: str, district: str) -> str:
    return f"华东{dict(DIVISIONS)[division_code]}{district}"


async def seed_tenancy(ctx: DemoContext) -> None:
    """The group, its brand divisions (品牌事业部), regions (区域) and 12 4S stores."""
    group = DealerGroup(name=GROUP_NAME, code=GROUP_CODE, timezone="Asia/Shanghai", created_at=clock.now())
    await group.save()
    ctx.group_id = group.id
    for code, name in DIVISIONS:
        division = BrandDivision(group=group.id, name=name, code=code)
        await division.save()
        ctx.division_ids[code] = division.id
    region_ids = {}
    for name in REGIONS:
        region = Region(group=group.id, name=name)
        await region.save()
        region_ids[name] = region.id
    for code, division, district, city, region, plate_prefix, area_code in STORES:
        name = store_name(division, district)
        store = Store(group=group.id, brand_division=ctx.division_ids[division], region=region_ids[region],
                      code=code, name=name, city=city)
        await store.save()
        ctx.stores.append(DemoStore(store.id, code, name, city, division, plate_prefix, area_code))
    ctx.counts["stores"] = len(ctx.stores)


async def seed_users(ctx: DemoContext) -> None:
    """One demo user per role, all with DEMO_PASSWORD (hashed once: argon2 is slow on purpose)."""
    password_hash = hash_password(DEMO_PASSWORD)
    stores = {s.code: s.id for s in ctx.stores}
    for login in DEMO_LOGINS:
        where: dict[str, int | None] = {}
        if login.store_code:
            where["store_id"] = stores[login.store_code]
        elif login.role != Role.PLATFORM_ADMIN:
            where["group_id"] = ctx.group_id
        if login.division_code:
            where["brand_division_id"] = ctx.division_ids[login.division_code]
        ctx.users[login.username] = await create_user(
            username=login.username, password=DEMO_PASSWORD, password_hash=password_hash,
            display_name=login.display_name, roles=[login.role], **where,
        )
    ctx.counts["users"] = len(ctx.users)


async def seed_customer_records(ctx: DemoContext) -> None:
    """客户档案: customers with group-wide identities, vehicles, 12 months of sales and service visits."""
    rng = ctx.rng("customer_records")
    per_store = 5 if ctx.small else 417  # 12 stores → ~5,000 customers
    people = _People(rng)
    now = clock.now()

    identities: list[CustomerIdentity] = []
    customers: list[Customer] = []
    plans: list[tuple[DemoStore, _Person]] = []
    identity_of: dict[str, CustomerIdentity] = {}
    for store in ctx.stores:
        for _ in range(per_store):
            person = people.returning(store) if rng.random() < 0.04 else None
            person = person or people.new(store)
            if person.mobile not in identity_of:
                identity = CustomerIdentity(group=ctx.group_id, mobile=person.mobile, id_number=person.id_number,
                                            name=person.name, created_at=now)
                identity_of[person.mobile] = identity
                identities.append(identity)
            plans.append((store, person))
    await _insert(CustomerIdentity, identities)

    for n, (store, person) in enumerate(plans, start=1):
        customers.append(Customer(
            group=ctx.group_id, store=store.id, group_identity=identity_of[person.mobile].id,
            kind=person.kind, name=person.name, gender=person.gender, birthday=person.birthday,
            marital_status=person.marital_status, mobile=person.mobile, id_number=person.id_number,
            address=person.address, postcode=person.postcode, employer=person.employer,
            occupation=person.occupation, industry=person.industry, contact_person=person.contact_person,
            email=person.email, source="dms", dms_ref=f"DEMO-C{n:06d}", created_at=now, updated_at=now,
        ))
    await _insert(Customer, customers)
    ctx.customers = [
        DemoCustomer(c.id, store.id, identity_of[p.mobile].id, p.name, p.mobile)
        for c, (store, p) in zip(customers, plans)
    ]

    fleet = _Fleet(rng, ctx)
    vehicles: list[Vehicle] = []
    owned: list[tuple[Customer, DemoStore, _Car]] = []
    for customer, (store, _) in zip(customers, plans):
        for _ in range(2 if rng.random() < 0.15 else 1):
            car = fleet.new_car(store)
            vehicles.append(Vehicle(
                group=ctx.group_id, store=store.id, customer=customer.id, vin=car.vin, engine_no=car.engine_no,
                plate=car.plate, brand=car.brand, model=car.model, colour=car.colour, insurer=car.insurer,
                insurance_expires_on=car.insurance_expires_on, inspection_due_on=car.inspection_due_on,
                source="dms", created_at=now, updated_at=now,
            ))
            owned.append((customer, store, car))
    await _insert(Vehicle, vehicles)

    sales: list[Sale] = []
    visits: list[ServiceVisit] = []
    for vehicle, (customer, store, car) in zip(vehicles, owned):
        if car.sold_in_window:
            sales.append(fleet.sale(store, customer.id, vehicle.id, car, now))
        visits.extend(fleet.visits(store, customer.id, vehicle.id, car, now))
    await _insert(Sale, sales)
    await _insert(ServiceVisit, visits)
    ctx.counts.update(customers=len(customers), customer_identities=len(identities), vehicles=len(vehicles),
                      sales=len(sales), service_visits=len(visits))


STEPS: list[SeedStep] = [seed_tenancy, seed_users, seed_customer_records, seed_callbacks, seed_complaints,
                         seed_dashboard_history, seed_satisfaction, build_rollups]


async def _insert(table: type[Table], rows: list[Table]) -> None:
    """Bulk insert in batches, personal data sealed; Piccolo sets each row's id from RETURNING."""
    for start in range(0, len(rows), BATCH):
        await table.insert(*(vault.seal_row(row) for row in rows[start:start + BATCH]))


# ---------------------------------------------------------------- people

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳毅峰建国志文博"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲桂英萍红婷雪琳晶颖慧倩洁琴云莹欣怡佳悦蕾薇梅兰"
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "153", "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "182",
                   "183", "185", "186", "187", "188", "189", "191", "198", "199"]
OCCUPATIONS = ["工程师", "教师", "医生", "公务员", "个体经营", "销售经理", "会计", "设计师", "律师", "程序员", "自由职业", "退休"]
EMPLOYERS = ["中国银行", "华为技术", "上海电气", "苏州工业园区管委会", "阿里巴巴", "宁波港集团", "江苏银行", "合肥京东方",
             "浙江大学", "南京医科大学附属医院", "常州天合光能", "温州市人民医院", "个体"]
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "南京路", "长江路", "淮海路", "延安路", "新华路", "文化路", "滨江大道"]
COMPANY_WORDS = ["恒通", "华鑫", "宏远", "金桥", "瑞丰", "联创", "新锐", "永泰", "天成", "嘉禾", "中拓", "博远"]
COMPANY_KINDS = [("贸易有限公司", "批发零售"), ("物流有限公司", "交通运输"), ("建设工程有限公司", "建筑"),
                 ("科技有限公司", "信息技术"), ("食品有限公司", "制造业"), ("租赁有限公司", "租赁服务")]
POSTCODES = {"上海": "200", "苏州": "215", "杭州": "310", "合肥": "230", "南京": "211", "宁波": "315",
             "无锡": "214", "常州": "213", "温州": "325", "南通": "226"}


@dataclass
class _Person:
    kind: str
    name: str
    gender: str
    mobile: str
    birthday: date | None = None
    marital_status: str = ""
    id_number: str = ""
    address: str = ""
    postcode: str = ""
    employer: str = ""
    occupation: str = ""
    industry: str = ""
    contact_person: str = ""
    email: str = ""
    stores: set[int] = field(default_factory=set)


class _People:
    """Private customers (个人) and a few companies (单位), with unique valid mobiles."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.mobiles: set[str] = set()
        self.everyone: list[_Person] = []

    def returning(self, store: DemoStore) -> _Person | None:
        """Someone already a customer of another store of the group (the group-wide identity)."""
        others = [p for p in self.everyone[-300:] if store.id not in p.stores]
        if not others:
            return None
        person = self.rng.choice(others)
        person.stores.add(store.id)
        return person

    def new(self, store: DemoStore) -> _Person:
        rng = self.rng
        address = f"{store.city}市{rng.choice(STREETS)}{rng.randint(1, 999)}号"
        postcode = POSTCODES[store.city] + f"{rng.randint(0, 999):03d}"
        if rng.random() < 0.08:
            word = rng.choice(COMPANY_WORDS)
            suffix, industry = rng.choice(COMPANY_KINDS)
            person = _Person(kind="company", name=f"{store.city}{word}{suffix}", gender="", mobile=self._mobile(),
                             industry=industry, contact_person=self._name("male")[0], address=address,
                             postcode=postcode)
        else:
            gender = "male" if rng.random() < 0.62 else "female"
            name, _ = self._name(gender)
            birthday = date(rng.randint(1960, 2003), rng.randint(1, 12), rng.randint(1, 28))
            person = _Person(
                kind="private", name=name, gender=gender, mobile=self._mobile(), birthday=birthday,
                marital_status=rng.choice(["married", "married", "single", ""]),
                id_number=self._id_number(store.area_code, birthday, gender) if rng.random() < 0.4 else "",
                address=address, postcode=postcode, employer=rng.choice(EMPLOYERS),
                occupation=rng.choice(OCCUPATIONS),
            )
            if rng.random() < 0.3:
                person.email = f"{person.mobile}@163.com"
        person.stores.add(store.id)
        self.everyone.append(person)
        return person

    def _name(self, gender: str) -> tuple[str, str]:
        given = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
        surname = self.rng.choice(SURNAMES)
        first = "".join(self.rng.choice(given) for _ in range(self.rng.choice([1, 2, 2])))
        return surname + first, surname

    def _mobile(self) -> str:
        while True:
            mobile = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"
            if mobile not in self.mobiles:
                self.mobiles.add(mobile)
                return mobile

    def _id_number(self, area_code: str, birthday: date, gender: str) -> str:
        """An 18-digit 居民身份证号码: area, birth date, sequence (odd = male), ISO 7064 MOD 11-2 check."""
        sequence = self.rng.randint(0, 499) * 2 + (1 if gender == "male" else 0)
        body = f"{area_code}{birthday:%Y%m%d}{sequence:03d}"
        return body + id_check_character(body)


# ---------------------------------------------------------------- vehicles

# (brand, WMI, model, VDS (5 characters), price range in 10k RMB, new-energy?)
MODELS = {
    "SVW": [("上汽大众", "LSV", "朗逸", "AB218", (10, 15), False), ("上汽大众", "LSV", "帕萨特", "DN3C1", (18, 26), False),
            ("上汽大众", "LSV", "途观L", "UA60T", (21, 29), False), ("上汽大众", "LSV", "途岳", "ZA2C1", (15, 20), False),
            ("上汽大众", "LSV", "ID.4 X", "UE0E8", (19, 25), True)],
    "FTMS": [("一汽丰田", "LFM", "卡罗拉", "A1BE3", (11, 16), False), ("一汽丰田", "LFM", "亚洲龙", "AC2C9", (20, 28), False),
             ("一汽丰田", "LFM", "RAV4荣放", "JA4E4", (18, 26), False), ("一汽丰田", "LFM", "皇冠陆放", "KA7D6", (26, 35), False),
             ("一汽丰田", "LFM", "bZ3", "EB3H2", (16, 20), True)],
    "DFN": [("东风日产", "LGB", "轩逸", "H52E0", (9, 14), False), ("东风日产", "LGB", "天籁", "L27A4", (18, 24), False),
            ("东风日产", "LGB", "奇骏", "M17D2", (18, 26), False), ("东风日产", "LGB", "逍客", "J12C5", (13, 18), False),
            ("东风日产", "LGB", "艾睿雅", "F37E6", (19, 28), True)],
}
COLOURS = ["珍珠白", "极地白", "曜石黑", "星空灰", "魅影蓝", "熔岩红", "月光银", "香槟金"]
INSURERS = ["中国人保财险", "中国平安财险", "太平洋财险", "中华联合财险", "大地保险", "阳光财险"]
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # plates use no I or O
VIN_YEAR = {2017: "H", 2018: "J", 2019: "K", 2020: "L", 2021: "M", 2022: "N", 2023: "P", 2024: "R",
            2025: "S", 2026: "T", 2027: "V", 2028: "W", 2029: "X", 2030: "Y"}
REPAIR_TYPES = [("maintenance", 60), ("repair", 20), ("warranty", 10), ("accident", 7), ("other", 3)]


@dataclass
class _Car:
    vin: str
    engine_no: str
    plate: str
    brand: str
    model: str
    colour: str
    price: tuple[int, int]
    delivered_on: date
    sold_in_window: bool
    insurer: str
    insurance_expires_on: date
    inspection_due_on: date | None


class _Fleet:
    """Vehicles with valid VINs and plates, their sales (交车) and service visits (维修/保养)."""

    def __init__(self, rng: random.Random, ctx: DemoContext):
        self.rng = rng
        self.ctx = ctx
        self.serial = 0
        self.plates: set[str] = set()
        self.staff: dict[int, tuple[list[str], list[str]]] = {}

    def new_car(self, store: DemoStore) -> _Car:
        rng, today = self.rng, self.ctx.today
        brand, wmi, model, vds, price, electric = rng.choice(MODELS[store.division_code])
        sold_in_window = rng.random() < 0.4
        delivered_on = today - timedelta(days=rng.randint(1, 364) if sold_in_window else rng.randint(365, 8 * 365))
        self.serial += 1
        vin = f"{wmi}{vds}0{VIN_YEAR[max(delivered_on.year, 2017)]}{rng.choice('ABCDEFGHJ')}{self.serial:06d}"
        vin = vin[:8] + vin_check_digit(vin) + vin[9:]
        insurance_expires_on = _anniversary(delivered_on, today)
        return _Car(
            vin=vin, engine_no=f"{wmi[1:]}{rng.randint(100000, 999999)}", plate=self._plate(store, electric),
            brand=brand, model=model, colour=rng.choice(COLOURS), price=price, delivered_on=delivered_on,
            sold_in_window=sold_in_window, insurer=rng.choice(INSURERS), insurance_expires_on=insurance_expires_on,
            # 年审: new private cars are exempt for their first six years, then inspected yearly
            inspection_due_on=_anniversary(delivered_on, today) if today.year - delivered_on.year >= 6 else None,
        )

    def sale(self, store: DemoStore, customer_id: int, vehicle_id: int, car: _Car, now: datetime) -> Sale:
        rng = self.rng
        price = Decimal(rng.randint(car.price[0] * 100, car.price[1] * 100)) * 100
        discount = (price * Decimal(rng.choice([0, 2, 3, 5, 6, 8])) / 100).quantize(Decimal("1"))
        return Sale(
            group=self.ctx.group_id, store=store.id, customer=customer_id, vehicle=vehicle_id,
            order_no=f"SO{car.delivered_on:%Y%m%d}{car.vin[-6:]}", salesperson=rng.choice(self._staff(store)[0]),
            price=price, discount=discount,
            delivered_at=self.ctx.local_time(car.delivered_on, rng.randint(9, 17), rng.choice([0, 15, 30, 45])),
            source="dms", created_at=now, updated_at=now,
        )

    def visits(self, store: DemoStore, customer_id: int, vehicle_id: int, car: _Car,
               now: datetime) -> list[ServiceVisit]:
        """Visits in the last 12 months, roughly every 3 to 6 months after delivery."""
        rng, today = self.rng, self.ctx.today
        window_start = today - timedelta(days=365)
        mileage = max(0, (window_start - car.delivered_on).days) * rng.randint(25, 60)
        day = max(car.delivered_on, window_start) + timedelta(days=rng.randint(20, 150))
        visits = []
        while day < today:
            repair_type = rng.choices([t for t, _ in REPAIR_TYPES], weights=[w for _, w in REPAIR_TYPES])[0]
            days_in = rng.choice([0, 0, 0, 1]) if repair_type != "accident" else rng.randint(2, 10)
            left_on = min(day + timedelta(days=days_in), today)
            mileage += rng.randint(2500, 9000)
            amount = {"maintenance": (400, 1500), "repair": (300, 6000), "warranty": (0, 0),
                      "accident": (2000, 30000), "other": (100, 800)}[repair_type]
            visits.append(ServiceVisit(
                group=self.ctx.group_id, store=store.id, customer=customer_id, vehicle=vehicle_id,
                repair_order_no=f"RO{day:%Y%m%d}{car.vin[-6:]}{len(visits)}", advisor=rng.choice(self._staff(store)[1]),
                repair_type=repair_type, amount=Decimal(rng.randint(*amount)), mileage=mileage,
                arrived_at=self.ctx.local_time(day, rng.randint(8, 11), rng.choice([0, 10, 20, 30, 40, 50])),
                left_at=self.ctx.local_time(left_on, rng.randint(14, 18), rng.choice([0, 15, 30, 45])),
                next_visit_on=left_on + timedelta(days=180) if repair_type == "maintenance" else None,
                source="dms", created_at=now, updated_at=now,
            ))
            day += timedelta(days=rng.randint(90, 200))
        return visits

    def _plate(self, store: DemoStore, electric: bool) -> str:
        """普通车牌 (7 characters) or 新能源车牌 (8 characters, D/F then five digits)."""
        while True:
            if electric:
                tail = self.rng.choice("DF") + f"{self.rng.randint(0, 99999):05d}"
            else:
                tail = self.rng.choice(PLATE_LETTERS + "0123456789") + "".join(
                    self.rng.choice("0123456789" if self.rng.random() < 0.85 else PLATE_LETTERS) for _ in range(4)
                )
            plate = store.plate_prefix + tail
            if plate not in self.plates:
                self.plates.add(plate)
                return plate

    def _staff(self, store: DemoStore) -> tuple[list[str], list[str]]:
        """Each store's salespeople (销售顾问) and service advisors (服务顾问)."""
        if store.id not in self.staff:
            names = _People(self.ctx.rng(f"staff:{store.code}"))
            self.staff[store.id] = (
                [names._name(g)[0] for g in ("male", "female", "male", "female", "male", "male")],
                [names._name(g)[0] for g in ("male", "male", "female", "male", "female")],
            )
        return self.staff[store.id]


def _anniversary(start: date, today: date) -> date:
    """The next yearly anniversary of `start` on or after today (29 February falls on the 28th)."""
    year = today.year
    while True:
        candidate = date(year, start.month, min(start.day, 28 if start.month == 2 else 31))
        if candidate >= today:
            return candidate
        year += 1
