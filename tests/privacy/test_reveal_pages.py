"""The "show" button on the customer and complaint pages: shown to roles that may reveal, swapping in the clear
value (logged); refusals answered by meaning (400, 403, 404, 429) with the reason in place; the group admin's
access-log page."""

from __future__ import annotations

from crm.privacy import limits
from crm.privacy.tables import PersonalDataAccess
from tests.support.builders import complaint, customer_with_car, make_id_number
from tests.support.web import csrf_of


async def test_customer_page_reveals_the_mobile_for_the_store_gm_and_logs_it(browser_session, tenant):
    car = await customer_with_car(tenant, "A", name="孙丽", id_number=make_id_number())
    gm = await browser_session(tenant.usernames["store_gm@A"])
    page = await gm.get(f"/customers/{car.customer_id}")
    assert car.mobile not in page.text and car.mobile[-4:] in page.text
    assert f'hx-post="/customers/{car.customer_id}/reveal"' in page.text
    shown = await gm.post(f"/customers/{car.customer_id}/reveal", headers={"HX-Request": "true"},
                          data={"field": "mobile", "reason": "回电核实", "_csrf_token": csrf_of(page.text)})
    assert shown.status_code == 200 and car.mobile in shown.text and "<html" not in shown.text
    assert await PersonalDataAccess.exists().where(PersonalDataAccess.subject_id == car.customer_id,
                                                   PersonalDataAccess.user == tenant.users["store_gm@A"])

    no_reason = await gm.post(f"/customers/{car.customer_id}/reveal", headers={"HX-Request": "true"},
                              data={"field": "mobile", "reason": "", "_csrf_token": csrf_of(page.text)})
    assert no_reason.status_code == 400 and car.mobile not in no_reason.text and "请填写查看原因" in no_reason.text
    assert 'data-pii="mobile"' in no_reason.text and "<html" not in no_reason.text

    admin = await browser_session(tenant.usernames["group_admin"])
    log = await admin.get("/privacy/access-log")
    assert log.status_code == 200 and "回电核实" in log.text and f"/customers/{car.customer_id}" in log.text


async def test_no_show_button_for_a_role_that_may_not_reveal(browser_session, tenant):
    car = await customer_with_car(tenant, "A", name="周明", id_number=make_id_number())
    staff = await browser_session(tenant.usernames["staff@A"])
    page = await staff.get(f"/customers/{car.customer_id}")
    assert page.status_code == 200 and "/reveal" not in page.text and car.mobile not in page.text
    refused = await staff.post(f"/customers/{car.customer_id}/reveal", headers={"HX-Request": "true"},
                               data={"field": "mobile", "reason": "看看", "_csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403 and car.mobile not in refused.text and "无权" in refused.text
    assert (await staff.get("/privacy/access-log")).status_code == 403


async def test_complaint_page_reveals_the_complainant_phone(browser_session, tenant):
    car = await customer_with_car(tenant, "A", name="吴静")
    cid = await complaint(tenant, car, store="A")
    gm = await browser_session(tenant.usernames["store_gm@A"])
    page = await gm.get(f"/complaints/{cid}")
    assert car.mobile not in page.text and f'hx-post="/complaints/{cid}/reveal"' in page.text
    shown = await gm.post(f"/complaints/{cid}/reveal", headers={"HX-Request": "true"},
                          data={"field": "complainant_phone", "reason": "回访", "_csrf_token": csrf_of(page.text)})
    assert car.mobile in shown.text


async def test_a_used_up_allowance_answers_429_with_the_reason_in_place(browser_session, tenant, monkeypatch):
    monkeypatch.setitem(limits.LIMITS, "reveal", 1)
    car = await customer_with_car(tenant, "A", name="郑洁")
    gm = await browser_session(tenant.usernames["store_gm@A"])
    page = await gm.get(f"/customers/{car.customer_id}")
    form = {"field": "mobile", "reason": "回电核实", "_csrf_token": csrf_of(page.text)}
    url = f"/customers/{car.customer_id}/reveal"
    assert (await gm.post(url, headers={"HX-Request": "true"}, data=form)).status_code == 200
    refused = await gm.post(url, headers={"HX-Request": "true"}, data=form)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert car.mobile not in refused.text and "频繁" in refused.text and 'role="alert"' in refused.text


async def test_a_record_of_another_group_or_store_answers_404(browser_session, tenant, other_tenant):
    car = await customer_with_car(tenant, "A", name="冯涛")
    cid = await complaint(tenant, car, store="A")
    for session in (await browser_session(other_tenant.usernames["store_gm@A"]),
                    await browser_session(tenant.usernames["store_gm@B"])):
        page = await session.get("/")
        for url, field in ((f"/customers/{car.customer_id}/reveal", "mobile"),
                           (f"/complaints/{cid}/reveal", "complainant_phone")):
            refused = await session.post(url, headers={"HX-Request": "true"},
                                         data={"field": field, "reason": "核对", "_csrf_token": csrf_of(page.text)})
            assert refused.status_code == 404 and car.mobile not in refused.text, url
            assert "未找到" in refused.text and "<html" not in refused.text
    assert not await PersonalDataAccess.exists().where(PersonalDataAccess.user.is_in(
        [other_tenant.users["store_gm@A"], tenant.users["store_gm@B"]]))
