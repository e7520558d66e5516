"""报表订阅 on the notification settings page: people subscribe themselves, the group admin the group's
recipients; errors in Chinese and English; never across stores or groups."""

from __future__ import annotations

from crm.reports.tables import ReportSubscription
from tests.support.web import csrf_of as csrf

PAGE = "/notification-settings"


async def _post(client, path: str, data: dict):
    page = await client.get(PAGE)
    return await client.post(path, data={**data, "_csrf_token": csrf(page.text)})


async def _subscriptions(user_id: int) -> set[tuple[str, int | None]]:
    rows = await ReportSubscription.select(ReportSubscription.kind, ReportSubscription.store).where(
        ReportSubscription.user == user_id)
    return {(r["kind"], r["store"]) for r in rows}


async def test_a_store_manager_subscribes_and_unsubscribes_herself(browser_session, tenant):
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    page = await manager.get(PAGE)
    assert 'id="report-subscriptions"' in page.text and "报表订阅" in page.text
    assert 'value="complaint_month"' in page.text and 'value="group_comparison"' not in page.text
    assert 'id="subscribe-user"' not in page.text  # only the group admin chooses recipients
    done = await _post(manager, f"{PAGE}/reports", {"kind": "cr_center_month", "store_id": str(tenant.store_a)})
    assert done.status_code == 303
    user = tenant.users["store_cr_manager@A"]
    assert await _subscriptions(user) == {("cr_center_month", tenant.store_a)}
    listed = await manager.get(PAGE)
    assert 'data-kind="cr_center_month"' in listed.text and "客户关系中心月报表" in listed.text
    gone = await _post(manager, f"{PAGE}/reports/delete", {"kind": "cr_center_month", "store_id": str(tenant.store_a),
                                                          "user_id": str(user)})
    assert gone.status_code == 303 and await _subscriptions(user) == set()


async def test_people_who_read_no_reports_see_no_subscriptions(browser_session, tenant):
    staff = await browser_session(tenant.usernames["staff@A"])
    assert 'id="report-subscriptions"' not in (await staff.get(PAGE)).text
    refused = await _post(staff, f"{PAGE}/reports", {"kind": "complaint_month", "store_id": str(tenant.store_a)})
    assert refused.status_code == 403 and await _subscriptions(tenant.users["staff@A"]) == set()


async def test_errors_name_the_field_in_chinese_and_english(browser_session, tenant):
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    missing = await _post(manager, f"{PAGE}/reports", {"kind": "", "store_id": ""})
    assert missing.status_code == 400 and 'data-field="kind"' in missing.text and "请选择报表" in missing.text
    no_store = await _post(manager, f"{PAGE}/reports", {"kind": "complaint_month", "store_id": ""})
    assert no_store.status_code == 400 and 'data-field="store_id"' in no_store.text and "须指定门店" in no_store.text
    assert 'value="complaint_month" selected' in no_store.text  # what was chosen is kept
    await manager.get("/lang/en", params={"next": PAGE})
    english = await _post(manager, f"{PAGE}/reports", {"kind": "complaint_month", "store_id": "x"})
    assert english.status_code == 400 and 'data-field="store_id"' in english.text and "Invalid value" in english.text
    unknown = await _post(manager, f"{PAGE}/reports", {"kind": "no_such_report", "store_id": str(tenant.store_a)})
    assert unknown.status_code == 400 and "Unknown report kind" in unknown.text


async def test_the_group_admin_subscribes_the_groups_recipients(browser_session, tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    page = await admin.get(PAGE)
    gm_a, hq, staff = tenant.users["store_gm@A"], tenant.users["hq_viewer"], tenant.users["staff@A"]
    assert 'id="subscribe-user"' in page.text and f'<option value="{gm_a}"' in page.text
    assert f'<option value="{staff}"' not in page.text  # reads no reports
    for data in ({"kind": "complaint_month", "store_id": str(tenant.store_a), "user_id": str(gm_a)},
                 {"kind": "group_comparison", "user_id": str(hq)}):
        assert (await _post(admin, f"{PAGE}/reports", data)).status_code == 303
    assert await _subscriptions(gm_a) == {("complaint_month", tenant.store_a)}
    assert await _subscriptions(hq) == {("group_comparison", None)}
    listed = (await admin.get(PAGE)).text
    assert f'data-user="{gm_a}"' in listed and f'data-user="{hq}"' in listed
    # Only what the recipient may read: store A's GM neither reads store B nor the group's report.
    wrong_store = await _post(admin, f"{PAGE}/reports", {"kind": "complaint_month", "store_id": str(tenant.store_b),
                                                         "user_id": str(gm_a)})
    assert wrong_store.status_code == 400 and 'data-field="user_id"' in wrong_store.text
    wrong_kind = await _post(admin, f"{PAGE}/reports", {"kind": "group_comparison", "user_id": str(gm_a)})
    assert wrong_kind.status_code == 400 and "该用户无权查看此报表" in wrong_kind.text
    gone = await _post(admin, f"{PAGE}/reports/delete", {"kind": "group_comparison", "user_id": str(hq)})
    assert gone.status_code == 303 and await _subscriptions(hq) == set()
    # The GM sees only her own subscription, and cannot choose or remove others'.
    gm = await browser_session(tenant.usernames["store_gm@A"])
    own = (await gm.get(PAGE)).text
    assert f'data-user="{gm_a}"' in own and 'id="subscribe-user"' not in own
    others = await _post(gm, f"{PAGE}/reports", {"kind": "complaint_month", "store_id": str(tenant.store_a),
                                                 "user_id": str(tenant.users["store_cr_manager@A"])})
    assert others.status_code == 403


async def test_never_across_stores_or_groups(browser_session, tenant, other_tenant):
    """Another group's people, stores and subscriptions answer 404 and stay untouched."""
    admin = await browser_session(tenant.usernames["group_admin"])
    foreign_gm = other_tenant.users["store_gm@A"]
    stranger = await _post(admin, f"{PAGE}/reports", {"kind": "complaint_month", "store_id": str(tenant.store_a),
                                                      "user_id": str(foreign_gm)})
    assert stranger.status_code == 404 and await _subscriptions(foreign_gm) == set()
    foreign_store = await _post(admin, f"{PAGE}/reports", {"kind": "complaint_month",
                                                           "store_id": str(other_tenant.store_a)})
    assert foreign_store.status_code == 404
    other_admin = await browser_session(other_tenant.usernames["group_admin"])
    assert (await _post(other_admin, f"{PAGE}/reports", {"kind": "complaint_month", "store_id": str(
        other_tenant.store_a), "user_id": str(foreign_gm)})).status_code == 303
    removal = {"kind": "complaint_month", "store_id": str(other_tenant.store_a), "user_id": str(foreign_gm)}
    assert (await _post(admin, f"{PAGE}/reports/delete", removal)).status_code == 404
    assert await _subscriptions(foreign_gm) == {("complaint_month", other_tenant.store_a)}
    assert f'data-user="{foreign_gm}"' not in (await admin.get(PAGE)).text
    gm_b = await browser_session(tenant.usernames["store_gm@B"])
    assert (await _post(gm_b, f"{PAGE}/reports", {"kind": "complaint_month",
                                                  "store_id": str(tenant.store_a)})).status_code == 404
