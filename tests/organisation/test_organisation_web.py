"""The organisation and people pages over HTTP: forms save, bad input shows Chinese field errors, scope holds."""

from __future__ import annotations

from tenants.tables import Store, User
from tests.support.web import csrf_of


async def _post(session, page: str, action: str, data: dict):
    token = csrf_of((await session.get(page)).text)
    return await session.post(action, data={**data, "_csrf_token": token})


async def test_group_admin_adds_a_store_and_sees_field_errors_in_chinese(tenant, browser_session):
    admin = await browser_session(tenant.usernames["group_admin"])
    page = await admin.get("/organisation")
    assert page.status_code == 200 and "组织架构" in page.text
    bad = await _post(admin, "/organisation", "/organisation/stores",
                      {"code": "有 空格", "name": "", "timezone": "Nowhere/Zone", "open_time": "25:00"})
    assert bad.status_code == 400
    for message in ("门店编码不能包含空格", "请填写门店名称", "时区无效", "时间格式应为 HH:MM"):
        assert message in bad.text
    good = await _post(admin, "/organisation", "/organisation/stores",
                       {"code": f"W{tenant.group_id}", "name": "网页门店", "city": "南京", "region_id": "",
                        "brand_division_id": str(tenant.division_ids[1]), "contact_end": "19:30"})
    assert good.status_code == 303
    store = await Store.select().where(Store.group == tenant.group_id, Store.code == f"W{tenant.group_id}").first()
    assert store["city"] == "南京" and good.headers["location"] == f"/organisation/stores/{store['id']}"
    card = await admin.get(good.headers["location"])
    assert "19:30" in card.text and "关闭门店" in card.text
    closed = await _post(admin, good.headers["location"], f"/organisation/stores/{store['id']}/close", {})
    assert closed.status_code == 303
    assert "已关闭" in (await admin.get(good.headers["location"])).text
    division = await _post(admin, "/organisation", "/organisation/divisions", {"name": "", "code": ""})
    assert division.status_code == 400 and "请填写事业部名称" in division.text


async def test_people_pages_create_search_and_refuse_what_is_not_yours(tenant, browser_session):
    gm = await browser_session(tenant.usernames["store_gm@A"])
    listing = await gm.get("/people", params={"q": "staff"})
    assert listing.status_code == 200 and tenant.usernames["staff@A"] in listing.text
    assert tenant.usernames["staff@B"] not in listing.text
    fragment = await gm.get("/people", params={"q": "callback"}, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="people-list"')
    assert (await gm.get(f"/people/{tenant.users['staff@B']}")).status_code == 404
    bad = await _post(gm, "/people", "/people", {"username": tenant.usernames["staff@A"], "display_name": "重名",
                                                 "roles": "staff", "store_id": str(tenant.store_a)})
    assert bad.status_code == 400 and "用户名已被使用" in bad.text
    made = await _post(gm, "/people", "/people", {"username": f"gm_made_{tenant.group_id}", "display_name": "郑七",
                                                  "roles": "staff", "store_id": str(tenant.store_a)})
    assert made.status_code == 201 and "临时密码" in made.text
    user = await User.select(User.id, User.store).where(User.username == f"gm_made_{tenant.group_id}").first()
    assert user["store"] == tenant.store_a
    above = await _post(gm, f"/people/{user['id']}", f"/people/{user['id']}",
                        {"display_name": "郑七", "roles": "store_gm", "store_id": str(tenant.store_a)})
    assert above.status_code == 403
    reset = await _post(gm, f"/people/{user['id']}", f"/people/{user['id']}/reset-password", {})
    assert reset.status_code == 200 and 'id="the-password"' in reset.text
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    page = await manager.get(f"/people/{user['id']}")
    assert page.status_code == 200 and "disable-user" not in page.text
    assert (await (await browser_session(tenant.usernames["staff@A"])).get("/people")).status_code == 403
