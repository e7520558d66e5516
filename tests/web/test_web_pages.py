"""The web UI over HTTP: sign-in, layout per role, language switch, customer pages and their tenant walls."""

from __future__ import annotations

import pytest

from crm.customers.service import create_customer
from tenants.accounts import create_user
from tenants.roles import Role
from tests.support.builders import PASSWORD, customer_with_history, make_mobile
from tests.support.web import csrf_of, sign_in


# ---- sign-in and sign-out ----


async def test_pages_require_sign_in_and_keep_the_target(browser_session):
    client = await browser_session()
    response = await client.get("/customers", params={"q": "王"})
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/login?next=%2Fcustomers%3Fq%3D%25E7%258E%258B"

    login = await client.get(response.headers["location"])
    assert login.status_code == 200
    assert 'name="next" value="/customers?q=%E7%8E%8B"' in login.text
    assert "登录" in login.text and 'lang="zh-CN"' in login.text


async def test_htmx_request_without_session_redirects_the_whole_page(browser_session):
    client = await browser_session()
    response = await client.get(
        "/customers",
        params={"q": "138"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/customers?q=13"},
    )
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=%2Fcustomers%3Fq%3D13"


async def test_sign_in_goes_to_next_and_wrong_password_keeps_it(browser_session, tenant):
    client = await browser_session()
    username = tenant.usernames["store_gm@A"]
    wrong = await sign_in(client, username, password="wrong", next_path="/customers")
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text
    assert 'name="next" value="/customers"' in wrong.text
    assert f'value="{username}"' in wrong.text

    right = await sign_in(client, username, next_path="/customers")
    assert right.status_code == 303
    assert right.headers["location"] == "/customers"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
async def test_sign_in_never_redirects_off_site(browser_session, tenant, target):
    client = await browser_session()
    response = await sign_in(client, tenant.usernames["staff@A"], next_path=target)
    assert response.headers["location"] == "/"


async def test_sign_in_without_csrf_token_is_refused(browser_session, tenant):
    client = await browser_session()
    await client.get("/login")
    response = await client.post("/login", data={"username": tenant.usernames["staff@A"], "password": PASSWORD})
    assert response.status_code == 403


async def test_sign_out_needs_csrf_and_ends_the_session(browser_session, tenant):
    client = await browser_session(tenant.usernames["staff@A"])
    home = await client.get("/")
    assert (await client.post("/logout")).status_code == 403
    assert (await client.get("/")).status_code == 200

    out = await client.post("/logout", data={"_csrf_token": csrf_of(home.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert (await client.get("/")).status_code in (302, 303, 307)


# ---- layout per role ----


async def test_every_role_gets_the_layout_with_its_title_and_navigation(browser_session, tenant):
    for key, username in tenant.usernames.items():
        client = await browser_session(username)
        home = await client.get("/")
        assert home.status_code == 200, key
        role = Role(key.split("@")[0])
        assert role.title_zh in home.text, key
        assert 'id="notif-bell"' in home.text and 'sse-connect="/events"' in home.text
        assert 'action="/logout"' in home.text and "_csrf_token" in home.text
        assert 'href="/customers"' in home.text, key
        search = await client.get("/customers")
        assert search.status_code == 200, key
        assert "客户档案" in search.text and 'id="customer-q"' in search.text


async def test_user_menu_names_store_or_group(browser_session, tenant):
    store_user = await browser_session(tenant.usernames["store_gm@B"])
    text = (await store_user.get("/")).text
    assert "测试4S店B" in text and "测试集团" in text

    hq = await browser_session(tenant.usernames["hq_viewer"])
    text = (await hq.get("/")).text
    assert "测试集团" in text and "可见门店 3 家" in text


async def test_user_without_a_group_has_no_customer_pages(browser_session, tenant):
    username = f"platform_{tenant.group_id}"
    await create_user(username=username, password=PASSWORD, display_name="平台运维", roles=[Role.PLATFORM_ADMIN])
    client = await browser_session(username)
    home = await client.get("/")
    assert home.status_code == 200
    assert "平台管理员" in home.text
    assert 'href="/customers"' not in home.text
    denied = await client.get("/customers")  # a group's pages do not exist for the platform admin
    assert denied.status_code == 404
    assert "text/html" in denied.headers["content-type"]
    assert "页面不存在" in denied.text


# ---- language ----


async def test_english_switch_and_back(browser_session, tenant):
    client = await browser_session(tenant.usernames["callback_agent@A"])
    switched = await client.get("/lang/en", params={"next": "/customers?q=1"})
    assert switched.status_code == 303 and switched.headers["location"] == "/customers?q=1"
    page = await client.get("/customers")
    assert 'lang="en"' in page.text
    assert "Customer records" in page.text and "Callback agent" in page.text
    assert "客户档案" not in page.text

    await client.get("/lang/zh")
    page = await client.get("/customers")
    assert 'lang="zh-CN"' in page.text and "客户档案" in page.text


async def test_language_chosen_before_sign_in_is_kept(browser_session, tenant):
    client = await browser_session()
    await client.get("/lang/en", params={"next": "/login"})
    assert "Sign in" in (await client.get("/login")).text
    await sign_in(client, tenant.usernames["staff@A"])
    assert "Home" in (await client.get("/")).text


async def test_unknown_language_and_off_site_next(browser_session):
    client = await browser_session()
    assert (await client.get("/lang/fr")).status_code == 404
    response = await client.get("/lang/en", params={"next": "//evil.example"})
    assert response.headers["location"] == "/"


# ---- customer search and customer page ----


async def test_search_as_you_type_returns_the_result_fragment(browser_session, tenant):
    customer = await customer_with_history(tenant, "A", name="孙悦")
    client = await browser_session(tenant.usernames["staff@A"])

    fragment = await client.get("/customers", params={"q": customer.mobile}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "孙悦" in fragment.text and f'data-href="/customers/{customer.customer_id}"' in fragment.text
    assert "HX-Request" in fragment.headers["vary"]

    for q in (customer.plate, customer.vin, customer.vin[-6:], "孙悦"):
        page = await client.get("/customers", params={"q": q})
        assert "<html" in page.text
        assert f'/customers/{customer.customer_id}"' in page.text, q


async def test_search_finds_nothing_outside_the_store(browser_session, tenant, other_tenant):
    customer = await customer_with_history(tenant, "A", name="周杰")
    for who in (tenant.usernames["store_gm@B"], other_tenant.usernames["hq_viewer"]):
        client = await browser_session(who)
        page = await client.get("/customers", params={"q": customer.mobile})
        assert page.status_code == 200
        assert "没有找到匹配的客户" in page.text
        assert f"/customers/{customer.customer_id}" not in page.text


async def test_customer_page_shows_profile_vehicles_sales_visits(browser_session, tenant):
    customer = await customer_with_history(tenant, "A", name="吴敏")
    client = await browser_session(tenant.usernames["callback_agent@A"])
    page = await client.get(f"/customers/{customer.customer_id}")
    assert page.status_code == 200
    text = page.text
    for expected in ("吴敏", customer.mobile, "上海市浦东新区张江路88号", "已婚",
                     customer.plate, customer.vin, "帕萨特 330TSI",
                     "李娜", "¥218,800.00", "张伟", "保养", "7,500"):
        assert expected in text, expected
    assert "********" in text  # the ID number is masked
    assert "本集团其他门店的记录" not in text


async def test_customer_page_of_another_store_or_group_is_404(browser_session, tenant, other_tenant):
    customer = await customer_with_history(tenant, "A", name="郑凯")
    for who in (tenant.usernames["store_gm@B"], tenant.usernames["brand_manager@div2"],
                other_tenant.usernames["hq_viewer"], other_tenant.usernames["store_gm@A"]):
        client = await browser_session(who)
        page = await client.get(f"/customers/{customer.customer_id}")
        assert page.status_code == 404, who
        assert "text/html" in page.headers["content-type"]
        assert "页面不存在" in page.text
        assert "郑凯" not in page.text


async def test_missing_or_absurd_customer_ids_are_404(browser_session, tenant):
    client = await browser_session(tenant.usernames["store_gm@A"])
    for path in ("/customers/0", "/customers/2147483648", "/customers/99999999999999999999", "/no-such-page"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "页面不存在" in response.text


async def test_hq_sees_the_same_customer_in_other_stores(browser_session, tenant):
    customer = await customer_with_history(tenant, "A", name="冯涛")
    in_b = await create_customer(actor=await tenant.scope("store_gm@B"), name="冯涛", mobile=customer.mobile)
    unrelated = await create_customer(actor=await tenant.scope("store_gm@B"), name="冯涛", mobile=make_mobile())

    hq = await browser_session(tenant.usernames["hq_viewer"])
    page = await hq.get(f"/customers/{customer.customer_id}")
    assert "本集团其他门店的记录" in page.text
    assert f'href="/customers/{in_b}"' in page.text
    assert f'href="/customers/{unrelated}"' not in page.text

    store = await browser_session(tenant.usernames["store_gm@A"])
    page = await store.get(f"/customers/{customer.customer_id}")
    assert f"/customers/{in_b}" not in page.text


async def test_api_errors_stay_json(client, tenant):
    response = await client.get("/api/v1/no-such-endpoint", headers=await tenant.headers("store_gm@A"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail_zh"] == "未找到"
