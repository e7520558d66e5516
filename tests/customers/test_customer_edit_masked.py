"""The profile form and masked personal fields: a masked value sent back as shown keeps the stored value,
an emptied field clears it, and a masked value half edited (still with *) is refused, not stored."""

from __future__ import annotations

from crm.customers.tables import Customer, CustomerChange
from crm.privacy import vault
from tests.support.builders import customer_with_history, make_id_number, make_mobile
from tests.support.web import csrf_of


async def _form(session, customer_id: int) -> tuple[str, dict[str, str]]:
    page = await session.get(f"/customers/{customer_id}/edit")
    assert page.status_code == 200
    fields = {"_csrf_token": csrf_of(page.text)}
    for name in ("kind", "name", "gender", "marital_status", "address", "occupation", "mobile", "phone2", "id_number"):
        if f'name="{name}" value="' in page.text:
            fields[name] = page.text.split(f'name="{name}" value="')[1].split('"')[0]
    fields.update({"kind": "private", "gender": "male", "marital_status": "married"})
    return page.text, fields


async def test_a_masked_field_is_kept_when_left_as_shown_and_cleared_when_emptied(browser_session, tenant):
    car = await customer_with_history(tenant, "A", name="钱进")
    phone2, id_number = make_mobile(), make_id_number()
    await Customer.update(vault.sealed_values(Customer, {Customer.phone2: phone2, Customer.id_number: id_number})).where(
        Customer.id == car.customer_id)
    gm = await browser_session(tenant.usernames["store_gm@A"])  # sees mobiles and ID numbers masked
    page, fields = await _form(gm, car.customer_id)
    assert "*" in fields["mobile"] and "*" in fields["phone2"] and "*" in fields["id_number"]
    assert 'id="hint-masked"' in page  # the form says what a masked value means

    kept = await gm.post(f"/customers/{car.customer_id}/edit", data=fields)
    assert kept.status_code in (302, 303), kept.text
    row = vault.open_rows(await Customer.select().where(Customer.id == car.customer_id).first())
    assert (row["mobile"], row["phone2"], row["id_number"]) == (car.mobile, phone2, id_number)

    cleared = await gm.post(f"/customers/{car.customer_id}/edit", data={**fields, "phone2": "", "id_number": ""})
    assert cleared.status_code in (302, 303), cleared.text
    row = vault.open_rows(await Customer.select().where(Customer.id == car.customer_id).first())
    assert (row["mobile"], row["phone2"], row["id_number"]) == (car.mobile, "", "")
    changes = {c["field"]: c for c in await CustomerChange.select().where(CustomerChange.customer == car.customer_id)}
    assert changes["phone2"]["new_value"] == "" and changes["id_number"]["new_value"] == ""


async def test_a_half_edited_masked_value_is_refused_and_nothing_changes(browser_session, tenant):
    car = await customer_with_history(tenant, "A", name="孙立")
    phone2 = make_mobile()
    await Customer.update(vault.sealed_values(Customer, {Customer.phone2: phone2})).where(Customer.id == car.customer_id)
    gm = await browser_session(tenant.usernames["store_gm@A"])
    _, fields = await _form(gm, car.customer_id)
    refused = await gm.post(f"/customers/{car.customer_id}/edit",
                            data={**fields, "phone2": fields["phone2"].replace("*", "5", 1), "address": "别处"})
    assert refused.status_code == 400
    message = refused.text.split('id="field-phone2"')[1].split("</label>")[0]
    assert "隐藏" in message and 'role="alert"' in message
    row = vault.open_rows(await Customer.select().where(Customer.id == car.customer_id).first())
    assert row["phone2"] == phone2 and row["address"] != "别处"
