"""Customer-records service: scope rules, group identities, search, and the signals other areas hook on."""

from __future__ import annotations

import pytest

from crm.customers import events, service
from crm.customers.tables import Customer, CustomerIdentity, Sale, ServiceVisit
from tenants.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.builders import ago, make_id_number, make_mobile, make_vin
from crm.privacy import vault


async def test_same_mobile_in_two_stores_is_one_group_identity(world):
    group_cs = await world.tenant.scope("group_customer_service")  # group-wide, reads mobiles in clear
    a = await service.get_customer(actor=group_cs, customer_id=world.a.customer_id)
    b = await service.get_customer(actor=group_cs, customer_id=world.b.customer_id)
    c = await service.get_customer(actor=group_cs, customer_id=world.c.customer_id)
    assert a.identity_id == b.identity_id != c.identity_id
    assert b.mobile == world.mobile  # "+86 139-…" was normalised
    identity = vault.open_rows(await CustomerIdentity.select().where(CustomerIdentity.id == a.identity_id).first())
    stored = vault.open_rows(await Customer.select(Customer.id_number).where(Customer.id == world.a.customer_id).first())
    assert identity["mobile"] == world.mobile and identity["id_number"] == stored["id_number"]


async def test_hq_sees_the_history_across_stores_a_store_only_its_own(world):
    hq = await world.tenant.scope("hq_viewer")
    profile = await service.customer_profile(actor=hq, customer_id=world.a.customer_id)
    assert [h.store_id for h in profile.other_stores] == [world.tenant.store_b]
    assert profile.other_stores[0].vehicles[0].vin == world.b.vin
    assert [s.id for s in profile.other_stores[0].sales] == [world.b.sale_id]

    store_a = await world.tenant.scope("store_cr_manager@A")
    own = await service.customer_profile(actor=store_a, customer_id=world.a.customer_id)
    assert own.other_stores == []
    assert [v.vin for v in own.vehicles] == [world.a.vin]
    assert [s.id for s in own.sales] == [world.a.sale_id] and [v.id for v in own.visits] == [world.a.visit_id]

    history = await service.identity_history(actor=hq, identity_id=world.identity_id)
    assert {s.store_id for s in history.stores} == {world.tenant.store_a, world.tenant.store_b}
    partial = await service.identity_history(actor=store_a, identity_id=world.identity_id)
    assert [s.store_id for s in partial.stores] == [world.tenant.store_a]


async def test_brand_division_manager_sees_only_its_division(world):
    div2 = await world.tenant.scope("brand_manager@div2")
    with pytest.raises(NotFound):
        await service.customer_profile(actor=div2, customer_id=world.a.customer_id)
    with pytest.raises(NotFound):
        await service.identity_history(actor=div2, identity_id=world.identity_id)
    assert await service.search_customers(actor=div2, q=world.mobile) == []
    found = await service.search_customers(actor=div2, q="王芳")
    assert [s.id for s in found] == [world.c.customer_id]


async def test_other_group_sees_nothing(world, other_tenant):
    stranger = await other_tenant.scope("group_admin")
    for call in (
        service.customer_profile(actor=stranger, customer_id=world.a.customer_id),
        service.identity_history(actor=stranger, identity_id=world.identity_id),
        service.get_vehicle(actor=stranger, vehicle_id=world.a.vehicle_id),
        service.get_sale(actor=stranger, sale_id=world.a.sale_id),
        service.get_visit(actor=stranger, visit_id=world.a.visit_id),
    ):
        with pytest.raises(NotFound):
            await call
    assert await service.search_customers(actor=stranger, q=world.mobile) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mobile", {"a"}),
        ("mobile_last4", {"a"}),
        ("vin", {"a"}),
        ("vin_last6", {"a"}),
        ("plate", {"a"}),
        ("plate_part", {"a"}),
        ("张伟", {"a"}),
        ("张", {"a"}),
        ("王芳", set()),  # store C's customer is not in store A's scope
        ("", {"a"}),
        ("%", set()),
    ],
)
async def test_search_for_a_store_user(world, query, expected):
    terms = {
        "mobile": world.mobile,
        "mobile_last4": world.mobile[-4:],
        "vin": world.a.vin.lower(),
        "vin_last6": world.a.vin[-6:],
        "plate": "粤B 12345",
        "plate_part": "B1234",
    }
    actor = await world.tenant.scope("staff@A")
    found = await service.search_customers(actor=actor, q=terms.get(query, query))
    ids = {"a": world.a.customer_id, "b": world.b.customer_id, "c": world.c.customer_id}
    assert {s.id for s in found} == {ids[k] for k in expected}


async def test_search_for_the_call_center_spans_the_group(world):
    agent = await world.tenant.scope("call_center_agent")
    found = await service.search_customers(actor=agent, q=world.mobile[-6:])
    assert {s.store_id for s in found} == {world.tenant.store_a, world.tenant.store_b}
    assert all(s.identity_id == world.identity_id for s in found)
    by_plate = await service.search_customers(actor=agent, q="沪A12345F")
    assert [s.id for s in by_plate] == [world.c.customer_id]
    assert by_plate[0].plates == ["沪A12345F"]


async def test_search_paging(world):
    actor = await world.tenant.scope("staff@A")
    for n in range(3):
        await service.create_customer(actor=actor, name=f"张{n}号", mobile=make_mobile())
    zhang = service.CustomerFilter(q="张")
    first = await service.search_customers_page(actor=actor, filters=zhang, want=service.CUSTOMER_LIST.parse(page_size=2))
    second = await service.search_customers_page(actor=actor, filters=zhang,
                                                 want=service.CUSTOMER_LIST.parse(page_size=2, page=2))
    assert first.total == second.total and first.pages == -(-first.total // 2) >= 2
    assert len(first.items) == 2 and len(second.items) == 2
    assert not {s.id for s in first.items} & {s.id for s in second.items}


async def test_store_users_write_to_their_own_store_only(tenant):
    staff = await tenant.scope("staff@A")
    own = await service.create_customer(actor=staff, name="赵敏", mobile=make_mobile())
    assert (await service.get_customer(actor=staff, customer_id=own)).store_id == tenant.store_a
    with pytest.raises(InvalidInput) as error:
        await service.create_customer(actor=staff, store_id=tenant.store_b, name="赵敏", mobile=make_mobile())
    assert error.value.problems[0].field == "store_id"


async def test_group_users_must_name_a_visible_store(tenant, other_tenant):
    agent = await tenant.scope("call_center_agent")
    with pytest.raises(InvalidInput) as error:
        await service.create_customer(actor=agent, name="钱进", mobile=make_mobile())
    assert error.value.problems[0].field == "store_id"
    with pytest.raises(InvalidInput):
        await service.create_customer(actor=agent, store_id=other_tenant.store_a, name="钱进", mobile=make_mobile())
    created = await service.create_customer(actor=agent, store_id=tenant.store_c, name="钱进", mobile=make_mobile())
    assert (await service.get_customer(actor=agent, customer_id=created)).store_id == tenant.store_c


async def test_readers_may_not_write(tenant):
    hq = await tenant.scope("hq_viewer")
    with pytest.raises(Forbidden):
        await service.create_customer(actor=hq, store_id=tenant.store_a, name="孙丽", mobile=make_mobile())


async def test_find_or_create_returns_the_existing_profile(tenant):
    agent = await tenant.scope("call_center_agent")
    mobile = make_mobile()
    first = await service.find_or_create_customer(actor=agent, store_id=tenant.store_a, name="周杰", mobile=mobile)
    again = await service.find_or_create_customer(
        actor=agent, store_id=tenant.store_a, name="周杰", mobile=f"+86 {mobile}"
    )
    elsewhere = await service.find_or_create_customer(actor=agent, store_id=tenant.store_b, name="周杰", mobile=mobile)
    assert first == again != elsewhere
    hq = await tenant.scope("hq_viewer")
    assert (await service.get_customer(actor=hq, customer_id=elsewhere)).identity_id == (
        await service.get_customer(actor=hq, customer_id=first)
    ).identity_id


async def test_duplicate_mobile_in_a_store_is_a_conflict(tenant):
    staff = await tenant.scope("staff@A")
    mobile = make_mobile()
    first = await service.create_customer(actor=staff, name="吴磊", mobile=mobile)
    with pytest.raises(Conflict) as error:
        await service.create_customer(actor=staff, name="吴磊", mobile=mobile)
    assert error.value.extra["customer_id"] == first


async def test_invalid_fields_are_reported_together_and_nothing_is_written(tenant):
    staff = await tenant.scope("staff@A")
    before = await Customer.count().where(Customer.store == tenant.store_a)
    with pytest.raises(InvalidInput) as error:
        await service.create_customer(
            actor=staff, name="郑爽", mobile="1234", id_number="440301199003071231", email="x@", postcode="1"
        )
    assert {p.field for p in error.value.problems} == {"mobile", "id_number", "email", "postcode"}
    assert all(p.zh and p.en for p in error.value.problems)
    assert await Customer.count().where(Customer.store == tenant.store_a) == before


async def test_id_number_fills_birthday_and_gender(tenant):
    staff = await tenant.scope("staff@A")
    number = make_id_number("19851212")
    customer_id = await service.create_customer(actor=staff, name="冯刚", id_number=number)
    record = await service.get_customer(actor=staff, customer_id=customer_id)
    assert record.birthday.isoformat() == "1985-12-12"
    assert record.gender == ("male" if int(number[16]) % 2 else "female")


async def test_company_customer_takes_a_credit_code(tenant):
    staff = await tenant.scope("staff@A")
    customer_id = await service.create_customer(
        actor=staff, kind="company", name="深圳市某某科技有限公司", id_number="91350100M000100Y43",
        contact_person="李经理", phone2="0755-88886666",
    )
    assert (await service.get_customer(actor=staff, customer_id=customer_id)).kind == "company"
    with pytest.raises(InvalidInput):
        await service.update_customer(actor=staff, customer_id=customer_id, kind="private")


async def test_changing_the_mobile_relinks_the_identity(world):
    staff = await world.tenant.scope("staff@B")
    new_mobile = make_mobile()
    record = await service.update_customer(actor=staff, customer_id=world.b.customer_id, mobile=new_mobile)
    assert record.identity_id != world.identity_id
    back = await service.update_customer(actor=staff, customer_id=world.b.customer_id, mobile=world.mobile)
    assert back.identity_id == world.identity_id


async def test_vehicle_rules(world):
    staff = await world.tenant.scope("staff@A")
    with pytest.raises(Conflict):
        await service.create_vehicle(actor=staff, customer_id=world.a.customer_id, vin=world.a.vin)
    with pytest.raises(InvalidInput) as error:
        await service.create_vehicle(actor=staff, customer_id=world.b.customer_id, vin=make_vin())
    assert error.value.problems[0].field == "customer_id"
    with pytest.raises(InvalidInput) as error:
        await service.create_vehicle(actor=staff, customer_id=world.a.customer_id, vin="LSVAU2180N2183294",
                                     plate="京A1234")
    assert {p.field for p in error.value.problems} == {"vin", "plate"}
    await service.deactivate_vehicle(actor=staff, vehicle_id=world.a.vehicle_id)
    again = await service.create_vehicle(actor=staff, customer_id=world.a.customer_id, vin=world.a.vin)
    assert again != world.a.vehicle_id


async def test_sale_and_visit_rules(world):
    staff = await world.tenant.scope("staff@A")
    with pytest.raises(InvalidInput) as error:
        await service.record_sale(actor=staff, customer_id=world.a.customer_id, vehicle_id=world.b.vehicle_id,
                                  delivered_at=ago(hours=1))
    assert error.value.problems[0].field == "vehicle_id"
    with pytest.raises(InvalidInput) as error:
        await service.record_sale(actor=staff, customer_id=world.a.customer_id, vehicle_id=world.a.vehicle_id,
                                  delivered_at=ago(hours=-48), price=100, discount=200)
    assert {p.field for p in error.value.problems} == {"delivered_at", "discount"}
    with pytest.raises(Conflict):
        await service.record_visit(actor=staff, customer_id=world.a.customer_id, vehicle_id=world.a.vehicle_id,
                                   left_at=ago(hours=2), repair_order_no=f"RO-{world.a.vin[-6:]}")
    with pytest.raises(InvalidInput) as error:
        await service.record_visit(actor=staff, customer_id=world.a.customer_id, vehicle_id=world.a.vehicle_id,
                                   left_at=ago(hours=2), arrived_at=ago(hours=1), mileage=-5)
    assert {p.field for p in error.value.problems} == {"arrived_at", "mileage"}


async def test_signals_fire_inside_the_transaction(tenant):
    staff = await tenant.scope("staff@A")
    customer_id = await service.create_customer(actor=staff, name="何静", mobile=make_mobile())
    vehicle_id = await service.create_vehicle(actor=staff, customer_id=customer_id, vin=make_vin())
    heard: list[tuple[str, dict]] = []

    def recorder(name):
        async def handler(**kwargs):
            heard.append((name, kwargs))
        return handler

    handlers = {
        signal: recorder(signal.name)
        for signal in (events.sale_recorded, events.sale_changed, events.sale_cancelled,
                       events.visit_recorded, events.visit_changed, events.visit_cancelled)
    }
    for signal, handler in handlers.items():
        signal.connect(handler)
    try:
        sale_id = await service.record_sale(actor=staff, customer_id=customer_id, vehicle_id=vehicle_id,
                                            delivered_at=ago(hours=3))
        await service.update_sale(actor=staff, sale_id=sale_id, delivered_at=ago(hours=2))
        await service.cancel_sale(actor=staff, sale_id=sale_id)
        await service.cancel_sale(actor=staff, sale_id=sale_id)  # twice: no second signal
        visit_id = await service.record_visit(actor=staff, customer_id=customer_id, vehicle_id=vehicle_id,
                                              left_at=ago(hours=1))
        await service.update_visit(actor=staff, visit_id=visit_id, advisor="陈静")
        await service.cancel_visit(actor=staff, visit_id=visit_id)
    finally:
        for signal, handler in handlers.items():
            signal.disconnect(handler)
    base = {"group_id": tenant.group_id, "store_id": tenant.store_a}
    assert heard == [
        ("sale_recorded", {**base, "sale_id": sale_id}),
        ("sale_changed", {**base, "sale_id": sale_id}),
        ("sale_cancelled", {**base, "sale_id": sale_id}),
        ("visit_recorded", {**base, "visit_id": visit_id}),
        ("visit_changed", {**base, "visit_id": visit_id}),
        ("visit_cancelled", {**base, "visit_id": visit_id}),
    ]
    with pytest.raises(Conflict):
        await service.update_visit(actor=staff, visit_id=visit_id, advisor="王强")


async def test_a_failing_handler_rolls_the_record_back(tenant):
    staff = await tenant.scope("staff@A")
    customer_id = await service.create_customer(actor=staff, name="罗兰", mobile=make_mobile())
    vehicle_id = await service.create_vehicle(actor=staff, customer_id=customer_id, vin=make_vin())

    async def broken(**_):
        raise RuntimeError("timer could not be scheduled")

    events.visit_recorded.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            await service.record_visit(actor=staff, customer_id=customer_id, vehicle_id=vehicle_id,
                                       left_at=ago(hours=1))
    finally:
        events.visit_recorded.disconnect(broken)
    assert await ServiceVisit.count().where(ServiceVisit.customer == customer_id) == 0
    assert await Sale.count().where(Sale.customer == customer_id) == 0


async def test_a_deactivated_customer_leaves_search_but_keeps_history(world):
    staff = await world.tenant.scope("staff@A")
    await service.deactivate_customer(actor=staff, customer_id=world.a.customer_id)
    assert await service.search_customers(actor=staff, q=world.mobile) == []
    profile = await service.customer_profile(actor=staff, customer_id=world.a.customer_id)
    assert not profile.customer.active and profile.sales
    with pytest.raises(Conflict):
        await service.create_vehicle(actor=staff, customer_id=world.a.customer_id, vin=make_vin())
    again = await service.create_customer(actor=staff, name="张伟", mobile=world.mobile)
    assert again != world.a.customer_id


async def test_an_id_number_shared_across_stores_links_even_with_different_mobiles(tenant):
    number = make_id_number("19781010")
    a = await service.create_customer(actor=await tenant.scope("staff@A"), name="高翔", mobile=make_mobile(),
                                      id_number=number)
    b = await service.create_customer(actor=await tenant.scope("staff@B"), name="高翔", mobile=make_mobile(),
                                      id_number=number)
    hq = await tenant.scope("hq_viewer")
    assert (await service.get_customer(actor=hq, customer_id=a)).identity_id == (
        await service.get_customer(actor=hq, customer_id=b)
    ).identity_id


async def test_a_shared_family_phone_does_not_merge_people_with_different_id_numbers(tenant):
    mobile = make_mobile()
    a = await service.create_customer(actor=await tenant.scope("staff@A"), name="林父", mobile=mobile,
                                      id_number=make_id_number("19600101"))
    b = await service.create_customer(actor=await tenant.scope("staff@B"), name="林子", mobile=mobile,
                                      id_number=make_id_number("19900101"))
    hq = await tenant.scope("hq_viewer")
    assert (await service.get_customer(actor=hq, customer_id=a)).identity_id != (
        await service.get_customer(actor=hq, customer_id=b)
    ).identity_id


async def test_concurrent_creation_with_one_mobile_makes_one_profile(tenant):
    import asyncio

    mobile = make_mobile()
    agent = await tenant.scope("call_center_agent")
    ids = await asyncio.gather(*[
        service.find_or_create_customer(actor=agent, store_id=tenant.store_a, name="并发", mobile=mobile)
        for _ in range(4)
    ])
    assert len(set(ids)) == 1
    assert await CustomerIdentity.count().where(CustomerIdentity.mobile_hash == vault.lookup(mobile)) == 1
