"""Complaint intake by the car: a VIN (17 characters, no I/O/Q; the check digit is not required) or a mainland
plate (new-energy plates included) instead of customer_id / vehicle_id. Malformed or ambiguous is a 400 and
unknown a 404, each naming the field in Chinese and English; other stores' and groups' cars are unknown."""

from __future__ import annotations

from crm.complaints.tables import Complaint
from crm.customers.tables import Vehicle
from tests.support.builders import customer_with_car
from tests.support.complaints import API

BODY = {"channel": "hotline_400", "content": "新车异响，多次维修未解决"}


async def _intake(client, tenant, who="call_center_agent", **fields):
    return await client.post(API, json={**BODY, **fields}, headers=await tenant.headers(who))


def _fields(response) -> dict[str, dict]:
    return {e["field"]: e for e in response.json().get("errors", [])}


async def _complaint(complaint_id: int) -> dict:
    return await Complaint.select(Complaint.customer, Complaint.vehicle, Complaint.vin, Complaint.plate).where(
        Complaint.id == complaint_id).first()


async def test_intake_by_vin_or_plate_finds_the_customer_and_the_car(client, tenant):
    car = await customer_with_car(tenant, "A")
    r = await _intake(client, tenant, vin=car.vin.lower())
    assert r.status_code == 201, r.text
    assert await _complaint(r.json()["id"]) == {"customer": car.customer_id, "vehicle": car.vehicle_id,
                                                "vin": car.vin, "plate": car.plate}
    electric = await customer_with_car(tenant, "A", plate="粤AD12345")
    r = await _intake(client, tenant, plate="粤ad 12345", who="store_cr_manager@A")
    assert r.status_code == 201, r.text
    assert (await _complaint(r.json()["id"]))["vehicle"] == electric.vehicle_id


async def test_a_vin_without_a_valid_check_digit_is_looked_up(client, tenant):
    car = await customer_with_car(tenant, "A")
    chinese = car.vin[:8] + ("0" if car.vin[8] != "0" else "1") + car.vin[9:]  # the check digit is wrong
    await Vehicle.update({Vehicle.vin: chinese}).where(Vehicle.id == car.vehicle_id)
    r = await _intake(client, tenant, vin=chinese)
    assert r.status_code == 201, r.text
    assert (await _complaint(r.json()["id"]))["vehicle"] == car.vehicle_id


async def test_malformed_vin_and_plate_are_400_with_every_bad_field(client, tenant):
    before = await Complaint.count().where(Complaint.group == tenant.group_id)
    r = await _intake(client, tenant, vin="LSVAU2180N21832IO", complainant_phone="abc-not-a-phone")
    assert r.status_code == 400 and {"vin", "complainant_phone"} <= set(_fields(r))
    assert "I、O、Q" in _fields(r)["vin"]["message_zh"] and "I, O or Q" in _fields(r)["vin"]["message_en"]
    r = await _intake(client, tenant, vin="LSVAU2180N")
    assert r.status_code == 400 and "17" in _fields(r)["vin"]["message_zh"]
    r = await _intake(client, tenant, plate="ABC123")
    assert r.status_code == 400 and _fields(r)["plate"]["message_zh"] and _fields(r)["plate"]["message_en"]
    car = await customer_with_car(tenant, "A")
    r = await _intake(client, tenant, vin=car.vin, customer_id=car.customer_id)
    assert r.status_code == 400 and "vin" in _fields(r)
    assert await Complaint.count().where(Complaint.group == tenant.group_id) == before


async def test_unknown_car_is_404_naming_the_field(client, tenant):
    car = await customer_with_car(tenant, "A")
    r = await _intake(client, tenant, plate="京Z99999")
    assert r.status_code == 404
    assert _fields(r)["plate"]["message_zh"] == "没有找到该车牌号的车辆"
    r = await _intake(client, tenant, vin="LFV2A21K" + "0" + "N0000001")
    assert r.status_code == 404 and _fields(r)["vin"]["message_en"] == "No vehicle with this VIN"
    r = await _intake(client, tenant, vin=car.vin, plate="京Z99999")  # both given: the same car must have both
    assert r.status_code == 404


async def test_a_plate_on_record_for_two_customers_is_ambiguous(client, tenant):
    car = await customer_with_car(tenant, "A", plate="沪B54321")
    await customer_with_car(tenant, "B", name="李四", plate="沪B54321")
    r = await _intake(client, tenant, plate="沪B54321")
    assert r.status_code == 400
    assert "customer_id" in _fields(r)["plate"]["message_zh"]
    r = await _intake(client, tenant, vin=car.vin)  # the VIN tells them apart
    assert r.status_code == 201, r.text


async def test_other_stores_and_groups_cars_are_unknown(client, tenant, other_tenant):
    car = await customer_with_car(tenant, "A")
    assert (await _intake(client, tenant, who="store_cr_manager@B", vin=car.vin)).status_code == 404
    assert (await _intake(client, other_tenant, vin=car.vin)).status_code == 404
    assert (await _intake(client, other_tenant, plate=car.plate)).status_code == 404


async def test_the_intake_screens_lookup_by_a_full_vin_or_plate_offers_just_that_car(browser_session, tenant):
    import re

    from tests.support.builders import vehicle

    car = await customer_with_car(tenant, "A", plate="沪A12345F")
    second = await vehicle(tenant, car.customer_id, "A", plate="沪A54321")
    agent = await browser_session(tenant.usernames["call_center_agent"])
    for q in (car.vin, "沪a 12345f"):
        found = await agent.get("/complaint-intake/lookup", params={"q": q}, headers={"HX-Request": "true"})
        rows = re.findall(r'/complaint-intake/take\?customer_id=(\d+)&amp;vehicle_id=(\d*)', found.text)
        assert rows == [(str(car.customer_id), str(car.vehicle_id))], q
    by_phone = await agent.get("/complaint-intake/lookup", params={"q": car.mobile}, headers={"HX-Request": "true"})
    rows = re.findall(r'/complaint-intake/take\?customer_id=(\d+)&amp;vehicle_id=(\d*)', by_phone.text)
    assert {v for _, v in rows} == {str(car.vehicle_id), str(second)}  # a phone lists every car of the customer
