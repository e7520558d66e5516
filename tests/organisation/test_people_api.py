"""People through the API (人员管理): create with roles and a place, sign in, GM limits, disable, reset, import."""

from __future__ import annotations



from crm.complaints.tables import Complaint, ComplaintEvent
from crm.notify.tables import Notification
from tenants.tables import AuditEntry, User
from tests.support.builders import complaint, customer_with_car, group_code_of, walk_complaint
from tests.support.callbacks import make_due
from tests.support import imports
from tests.support.imports import imported
from tests.support.web import sign_in

API = "/api/v1"


async def _token(client, username: str, password: str) -> dict[str, str]:
    answer = await client.post(f"{API}/auth/token", json={
        "group_code": await group_code_of(username), "username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _choose_own_password(client, username: str, temporary: str) -> str:
    """A temporary password is changed for one's own before anything else (the API refuses other calls)."""
    own = f"{temporary}-own"
    changed = await client.post(f"{API}/account/password", headers=await _token(client, username, temporary),
                                json={"current_password": temporary, "new_password": own})
    assert changed.status_code == 204, changed.text
    return own


async def test_group_admin_creates_a_store_and_a_user_who_sees_only_that_store(client, tenant):
    admin = await tenant.headers("group_admin")
    store = (await client.post(f"{API}/stores", headers=admin, json={
        "code": f"NEW{tenant.group_id}", "name": "新开4S店", "brand_division_id": tenant.division_ids[1]})).json()
    created = await client.post(f"{API}/users", headers=admin, json={
        "username": f"new_agent_{tenant.group_id}", "display_name": "李新", "roles": ["callback_agent", "staff"],
        "store_id": store["id"], "phone": "13800001111"})
    assert created.status_code == 201, created.text
    user, password = created.json()["user"], created.json()["temporary_password"]
    assert user["roles"] == ["callback_agent", "staff"] and user["store_name"] == "新开4S店"
    assert user["must_change_password"] is True and len(password) == 12
    password = await _choose_own_password(client, user["username"], password)
    headers = await _token(client, user["username"], password)
    me = (await client.get(f"{API}/me", headers=headers)).json()
    assert me["store_ids"] == [store["id"]] and me["group_id"] == tenant.group_id
    assert (await client.get(f"{API}/stores/{store['id']}", headers=headers)).status_code == 200
    assert (await client.get(f"{API}/stores/{tenant.store_a}", headers=headers)).status_code == 404
    assert await AuditEntry.exists().where(AuditEntry.group == tenant.group_id,  # the test's own group
                                           AuditEntry.action == "user.create", AuditEntry.target_id == str(user["id"]))


async def test_a_gm_manages_the_staff_of_their_own_store_below_gm(client, tenant):
    gm = await tenant.headers("store_gm@A")
    listed = (await client.get(f"{API}/users", headers=gm)).json()
    assert {u["store_id"] for u in listed["items"]} == {tenant.store_a} and listed["total"] == 5
    assert (await client.get(f"{API}/users/{tenant.users['staff@B']}", headers=gm)).status_code == 404
    assert (await client.get(f"{API}/users/{tenant.users['hq_viewer']}", headers=gm)).status_code == 404
    assert (await client.post(f"{API}/users/{tenant.users['staff@B']}/disable", headers=gm)).status_code == 404
    new = {"username": f"a_staff_{tenant.group_id}", "display_name": "王五", "store_id": tenant.store_a}
    assert (await client.post(f"{API}/users", headers=gm, json={**new, "roles": ["staff"]})).status_code == 201
    for roles, store in ((["store_gm"], tenant.store_a), (["hq_viewer"], None)):
        refused = await client.post(f"{API}/users", headers=gm, json={
            **new, "username": f"x_{roles[0]}_{tenant.group_id}", "roles": roles, "store_id": store})
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail_zh"].startswith("无权管理该员工")
    elsewhere = await client.post(f"{API}/users", headers=gm, json={
        **new, "username": f"b_{tenant.group_id}", "roles": ["staff"], "store_id": tenant.store_b})
    assert elsewhere.status_code == 400 and elsewhere.json()["errors"][0]["field"] == "store_id"
    # the GM edits their staff, but not a role above their own
    staff = tenant.users["staff@A"]
    edited = await client.patch(f"{API}/users/{staff}", headers=gm, json={"roles": ["callback_agent"]})
    assert edited.status_code == 200 and edited.json()["roles"] == ["callback_agent"]
    assert (await client.patch(f"{API}/users/{staff}", headers=gm, json={"roles": ["store_gm"]})).status_code == 403
    # the customer-relations manager reads the store's people, and may change none
    manager = await tenant.headers("store_cr_manager@A")
    assert (await client.get(f"{API}/users/{staff}", headers=manager)).status_code == 200
    assert (await client.post(f"{API}/users/{staff}/disable", headers=manager)).status_code == 403
    assert (await client.get(f"{API}/users", headers=await tenant.headers("staff@A"))).status_code == 403


async def test_bad_person_input_gets_chinese_field_errors(client, tenant):
    admin = await tenant.headers("group_admin")
    answer = await client.post(f"{API}/users", headers=admin, json={
        "username": tenant.usernames["staff@A"], "display_name": " ", "roles": ["staff", "hq_viewer", "boss"],
        "email": "不是邮箱", "phone": "abc"})
    assert answer.status_code == 400
    errors = {e["field"]: e["message_zh"] for e in answer.json()["errors"]}
    assert errors == {"username": "用户名已被使用", "display_name": "请填写姓名", "email": "邮箱格式不正确",
                      "phone": "电话号码格式错误，应为11位手机号或带区号的固定电话（如 010-62345678）", "roles": "角色无效"}
    answer = await client.post(f"{API}/users", headers=admin, json={
        "username": f"mix_{tenant.group_id}", "display_name": "赵六", "roles": ["staff", "hq_viewer"]})
    fields = {e["field"]: e["message_zh"] for e in answer.json()["errors"]}
    assert fields["roles"] == "集团角色与门店角色不能授予同一用户" and fields["store_id"] == "门店角色必须指定门店"
    assert not await User.exists().where(User.username == f"mix_{tenant.group_id}")


async def test_disabling_a_user_ends_their_session_and_token_and_releases_their_work(client, tenant, browser_session):
    admin = await tenant.headers("group_admin")
    created = (await client.post(f"{API}/users", headers=admin, json={
        "username": f"leaver_{tenant.group_id}", "display_name": "离职员工", "roles": ["callback_agent", "department_head"],
        "store_id": tenant.store_a})).json()
    leaver = created["user"]
    password = await _choose_own_password(client, leaver["username"], created["temporary_password"])
    token = await _token(client, leaver["username"], password)
    session = await browser_session()
    assert (await sign_in(session, leaver["username"], password)).status_code == 303
    assert (await session.get("/callbacks")).status_code == 200
    # a claimed callback and a complaint they handle
    callback_id = await make_due(tenant)
    assert (await client.post(f"{API}/callbacks/{callback_id}/claim", headers=token)).status_code == 200
    complaint_id = await complaint(tenant, await customer_with_car(tenant, "A"), store="A")
    await walk_complaint(tenant, complaint_id, "accepted")
    manager = await tenant.headers("store_cr_manager@A")
    assigned = await client.post(f"{API}/complaints/{complaint_id}/assign", headers=manager,
                                 json={"handler_user_id": leaver["id"], "department": "service"})
    assert assigned.status_code == 200, assigned.text

    disabled = await client.post(f"{API}/users/{leaver['id']}/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["active"] is False
    assert disabled.json()["released"] == {"tokens_revoked": 1, "callbacks_released": 1, "complaints_reassigned": 1,
                                           "sessions_ended": 1}
    assert (await client.get(f"{API}/me", headers=token)).status_code == 401
    page = await session.get("/callbacks")
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")
    assert (await sign_in(session, leaver["username"], password)).status_code != 303
    # the work went back: the call to the queue, the complaint to the store's customer-relations manager
    queue = (await client.get(f"{API}/callbacks/{callback_id}", headers=manager)).json()
    assert queue["claimed_by"] is None
    row = await Complaint.select(Complaint.handler_user, Complaint.state).where(Complaint.id == complaint_id).first()
    assert row == {"handler_user": tenant.users["store_cr_manager@A"], "state": "assigned"}
    event = await ComplaintEvent.select(ComplaintEvent.note).where(ComplaintEvent.complaint == complaint_id).order_by(
        ComplaintEvent.id, ascending=False).first()
    assert "已停用" in event["note"]
    told = await Notification.select(Notification.title_zh, Notification.link).where(
        Notification.recipient == tenant.users["store_cr_manager@A"], Notification.kind == "staff.disabled",
        Notification.channel == "inapp").first()
    assert told == {"title_zh": "离职员工已停用，其工作已转交给您", "link": f"/complaints/{complaint_id}"}
    # enabled again, the user signs in with their password
    assert (await client.post(f"{API}/users/{leaver['id']}/enable", headers=admin)).json()["active"] is True
    await _token(client, leaver["username"], password)


async def test_reset_password_gives_a_new_one_once_and_ends_the_old_access(client, tenant):
    admin = await tenant.headers("group_admin")
    staff = await tenant.headers("staff@A")
    answer = await client.post(f"{API}/users/{tenant.users['staff@A']}/reset-password", headers=admin)
    assert answer.status_code == 200
    password = answer.json()["temporary_password"]
    assert (await client.get(f"{API}/me", headers=staff)).status_code == 401
    await _token(client, tenant.usernames["staff@A"], password)
    user = await User.select(User.must_change_password).where(User.id == tenant.users["staff@A"]).first()
    assert user["must_change_password"] is True
    assert (await client.post(f"{API}/users/{tenant.users['group_admin']}/disable", headers=admin)).status_code == 409


async def test_people_are_searched_and_paged(client, tenant):
    admin = await tenant.headers("group_admin")
    everyone = (await client.get(f"{API}/users", params={"page_size": 5}, headers=admin)).json()
    assert everyone["total"] == 22 and len(everyone["items"]) == 5 and everyone["pages"] == 5
    second = (await client.get(f"{API}/users", params={"page_size": 5, "page": 2}, headers=admin)).json()
    assert not {u["id"] for u in everyone["items"]} & {u["id"] for u in second["items"]}
    found = (await client.get(f"{API}/users", params={"q": "gm@B"}, headers=admin)).json()
    assert [u["id"] for u in found["items"]] == [tenant.users["store_gm@B"]]
    at_b = (await client.get(f"{API}/users", params={"store_id": tenant.store_b, "role": "staff"}, headers=admin)).json()
    assert [u["id"] for u in at_b["items"]] == [tenant.users["staff@B"]]


def _sheet(rows: list[list[str]]) -> bytes:
    return imports.xlsx([["用户名", "姓名", "角色", "门店编码", "品牌事业部", "邮箱", "手机"], *rows])


async def test_bulk_import_is_all_or_nothing_unless_valid_rows_are_accepted(client, tenant):
    admin = await tenant.headers("group_admin")
    code = (await client.get(f"{API}/stores/{tenant.store_a}", headers=admin)).json()["code"]
    tag = tenant.group_id
    content = _sheet([
        [f"imp1_{tag}", "陈一", "回访员", code, "", "chen1@example.com", "13900000001"],
        [f"imp2_{tag}", "陈二", "集团总部(运营副总裁/CEO), 法务部", "", "", "", ""],
        [f"imp3_{tag}", "陈三", "店长", code, "", "", ""],
        [f"imp1_{tag}", "陈四", "员工", code, "", "", ""],
    ])
    refused = await imported(client, admin, f"{API}/users/import", "people.xlsx", content)
    assert refused["status"] == "done" and refused["imported"] is False, refused
    assert [(e["row"], e["field"], e["message_zh"]) for e in refused["errors"]] == [
        (4, "roles", "角色无效：店长"), (5, "username", "与前面的行用户名重复")]
    assert (refused["rows_read"], refused["rows_accepted"], refused["rows_rejected"]) == (4, 0, 2)
    assert not await User.exists().where(User.username == f"imp1_{tag}")
    accepted = await imported(client, admin, f"{API}/users/import", "people.xlsx", content, accept_valid_rows=True)
    assert accepted["imported"] is True, accepted
    created = accepted["report"]["created"]
    assert [c["username"] for c in created] == [f"imp1_{tag}", f"imp2_{tag}"]
    await _token(client, created[1]["username"], created[1]["temporary_password"])
    # The temporary passwords are shown once, to whoever imported the sheet.
    again = (await client.get(accepted["url"], headers=admin)).json()
    assert [c["temporary_password"] for c in again["report"]["created"]] == ["", ""]
    gm = await tenant.headers("store_gm@A")
    by_gm = await imported(client, gm, f"{API}/users/import", "p.xlsx", _sheet([
        [f"imp5_{tag}", "陈五", "总经理", code, "", "", ""]]))
    assert by_gm["errors"][0]["message_zh"] == "无权授予该角色或管理该门店员工"


async def test_another_groups_admin_gets_404_for_every_user_endpoint(client, tenant, other_tenant):
    outsider = await other_tenant.headers("group_admin")
    user_id = tenant.users["staff@A"]
    assert (await client.get(f"{API}/users/{user_id}", headers=outsider)).status_code == 404
    assert (await client.patch(f"{API}/users/{user_id}", json={"display_name": "改"}, headers=outsider)).status_code == 404
    for action in ("disable", "enable", "reset-password"):
        assert (await client.post(f"{API}/users/{user_id}/{action}", headers=outsider)).status_code == 404
    listed = (await client.get(f"{API}/users", params={"q": tenant.usernames["staff@A"]}, headers=outsider)).json()
    assert listed["total"] == 0
