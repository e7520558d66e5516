"""The settings screens (设置): each saves a valid change through its area's service (and the change takes
effect), shows a field error in Chinese next to the field on bad input without changing anything, writes the
change to the audit log, and answers 404 for another group's or an invisible store's objects."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from crm.calendar import overrides
from crm.calendar.settings import effective_settings
from crm.callbacks import dms, rules, statistics
from crm.callbacks.tables import DmsWebhookKey
from crm.complaints import authority
from crm.customers.tables import Customer
from crm.notify import inbox
from tenants.roles import Role
from tenants.tables import AuditEntry
from tests.support.builders import make_mobile, make_vin
from tests.support.customers import run_queued_import
from tests.support.receivers import http_receiver, smtp_server
from tests.support.web import csrf_of


async def _post(client, path: str, data: dict | None = None, files: dict | None = None):
    page = await client.get("/settings")  # any signed-in page carries the CSRF token
    return await client.post(path, data={**(data or {}), "_csrf_token": csrf_of(page.text)}, files=files)


async def _audit(tenant, action: str) -> list[dict]:
    rows = await AuditEntry.select().where(AuditEntry.group == tenant.group_id, AuditEntry.action == action)  # the test's group
    return [{**r, "before": _json(r["before"]), "after": _json(r["after"])} for r in rows]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


# ------------------------------------------------------------------------------------------------ the menu


async def test_the_menu_lists_the_screens_each_role_may_open(browser_session, tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    page = (await admin.get("/settings")).text
    for path in ("/settings/calendar", "/settings/complaint-deadlines", "/settings/authority", "/settings/major-policy",
                 "/settings/callback-rules", "/settings/notification-channels", "/settings/dms-keys",
                 "/settings/customer-import"):
        assert f'href="{path}"' in page, path
    assert 'href="/settings"' in (await admin.get("/")).text  # in the navigation

    gm = (await (await browser_session(tenant.usernames["store_gm@A"])).get("/settings")).text
    assert 'href="/settings/calendar"' in gm and 'href="/settings/dms-keys"' in gm
    assert 'href="/settings/authority"' not in gm and 'href="/settings/notification-channels"' not in gm
    hq = (await (await browser_session(tenant.usernames["hq_viewer"])).get("/settings")).text
    assert 'href="/settings/major-policy"' in hq and 'href="/settings/calendar"' not in hq
    staff = await browser_session(tenant.usernames["staff@A"])
    assert (await staff.get("/settings")).status_code == 403
    assert 'href="/settings"' not in (await staff.get("/")).text


async def test_the_screens_speak_english_when_asked(browser_session, tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    await admin.get("/lang/en")
    assert "Hours, contact windows and holidays" in (await admin.get("/settings")).text
    page = (await admin.get("/settings/calendar")).text
    assert "Contact from" in page and "Holidays and make-up workdays" in page
    bad = await _post(admin, "/settings/complaint-deadlines", {**DEADLINES, "revisit_days": "x"})
    assert "Enter a whole number" in bad.text


# ------------------------------------------------------------------------------------------------ calendar


HOURS = {"open_time": "08:30", "close_time": "18:00", "contact_start": "09:30", "contact_end": "20:00",
         "contact_on_weekends": "yes"}


async def test_group_hours_and_contact_window_save_and_refuse_bad_times(browser_session, tenant, other_tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    scope = await tenant.scope("group_admin")
    assert (await _post(admin, "/settings/calendar", HOURS)).status_code == 303
    saved = await effective_settings(actor=scope)
    assert (saved["open_time"], saved["contact_start"], saved["contact_end"], saved["contact_on_weekends"],
            saved["contact_on_holidays"]) == ("08:30", "09:30", "20:00", True, False)
    [entry] = await _audit(tenant, "calendar.settings")
    assert entry["actor"] == tenant.users["group_admin"] and entry["after"]["contact_start"] == "09:30"

    bad = await _post(admin, "/settings/calendar", {**HOURS, "contact_end": "08:00", "open_time": "8点"})
    assert bad.status_code == 400 and 'data-field="open_time"' in bad.text and "时间格式应为 HH:MM" in bad.text
    bad = await _post(admin, "/settings/calendar", {**HOURS, "contact_start": "21:00"})
    assert bad.status_code == 400 and 'data-field="contact_end"' in bad.text and "结束时间必须晚于开始时间" in bad.text
    assert await effective_settings(actor=scope) == saved
    assert len(await _audit(tenant, "calendar.settings")) == 1
    other = await effective_settings(actor=await other_tenant.scope("group_admin"))
    assert other["contact_start"] != "09:30"


async def test_a_store_gm_sets_their_stores_contact_window_only(browser_session, tenant, other_tenant):
    gm = await browser_session(tenant.usernames["store_gm@A"])
    page = await gm.get("/settings/calendar")
    assert page.status_code == 200 and 'id="calendar-store"' in page.text and 'id="calendar-group"' not in page.text
    window = {"contact_start": "10:00", "contact_end": "19:00", "contact_on_weekends": "no"}
    assert (await _post(gm, f"/settings/calendar/store?store={tenant.store_a}", window)).status_code == 303
    store = await effective_settings(actor=await tenant.scope("group_admin"), store_id=tenant.store_a)
    assert store["overrides"] == {"contact_start": "10:00", "contact_end": "19:00", "contact_on_weekends": False}
    group = await effective_settings(actor=await tenant.scope("group_admin"))
    assert group["contact_start"] != "10:00"

    bad = await _post(gm, f"/settings/calendar/store?store={tenant.store_a}", {**window, "contact_end": "09:00"})
    assert bad.status_code == 400 and 'data-field="contact_end"' in bad.text
    assert (await effective_settings(actor=await tenant.scope("group_admin"), store_id=tenant.store_a)) == store
    assert (await _post(gm, "/settings/calendar", {**HOURS})).status_code == 403  # the group's hours are not theirs

    assert (await gm.get(f"/settings/calendar?store={tenant.store_b}")).status_code == 404
    assert (await _post(gm, f"/settings/calendar/store?store={tenant.store_b}", window)).status_code == 404
    stranger = await browser_session(other_tenant.usernames["group_admin"])
    assert (await stranger.get(f"/settings/calendar?store={tenant.store_a}")).status_code == 404
    assert (await _post(stranger, f"/settings/calendar/store?store={tenant.store_a}", window)).status_code == 404


async def test_holiday_schedule_is_entered_line_by_line_with_the_years_coverage(browser_session, tenant, other_tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    page = (await admin.get("/settings/calendar")).text
    assert 'data-year="2027" data-covered="0"' in page and "缺少安排" in page

    lines = "2027-01-01 放假 元旦\n2027-02-06 放假 春节\n2027-02-14 上班 春节调休\n"
    saved = await _post(admin, "/settings/calendar/overrides", {"entries": lines})
    assert saved.status_code == 303 and saved.headers["location"].startswith("/settings/calendar?year=2027")
    listed = await overrides.list_overrides(actor=await tenant.scope("group_admin"), year=2027)
    assert [(o["day"], o["kind"], o["name"]) for o in listed] == [
        ("2027-01-01", "holiday", "元旦"), ("2027-02-06", "holiday", "春节"), ("2027-02-14", "workday", "春节调休")]
    page = (await admin.get("/settings/calendar?year=2027")).text
    assert 'data-day="2027-02-14"' in page
    [entry] = await _audit(tenant, "calendar.overrides")
    assert entry["after"]["2027-02-14"] == "workday 春节调休" and entry["before"]["2027-02-14"] is None

    bad = await _post(admin, "/settings/calendar/overrides", {"entries": "2027-03-01 放假 植树\n2027-13-01 放假"})
    assert bad.status_code == 400 and 'data-field="entries"' in bad.text and "第2行" in bad.text
    assert "2027-03-01 放假 植树" in bad.text  # what was typed is kept
    bad = await _post(admin, "/settings/calendar/overrides", {"entries": "2027-03-01 请假"})
    assert bad.status_code == 400 and "类型应为" in bad.text
    assert len(await overrides.list_overrides(actor=await tenant.scope("group_admin"), year=2027)) == 3

    gm = await browser_session(tenant.usernames["store_gm@A"])
    assert (await _post(gm, "/settings/calendar/overrides", {"entries": lines})).status_code == 403
    stranger = await browser_session(other_tenant.usernames["group_admin"])
    assert (await _post(stranger, f"/settings/calendar/overrides/{listed[0]['id']}/delete")).status_code == 404
    assert (await _post(admin, f"/settings/calendar/overrides/{listed[0]['id']}/delete?year=2027")).status_code == 303
    assert len(await overrides.list_overrides(actor=await tenant.scope("group_admin"), year=2027)) == 2


async def test_home_page_links_the_missing_holiday_schedule_to_its_screen(browser_session, tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    home = (await admin.get("/")).text
    assert 'id="calendar-enter"' in home and 'href="/settings/calendar?year=2027"' in home
    assert "/api/v1/calendar/overrides" not in home


# ------------------------------------------------------------------------------------------------ complaints


DEADLINES = {"accept_working_hours": "4", "urgent_accept_working_hours": "2", "handle_working_days": "2",
             "report_days": "1", "feedback_hours": "24", "revisit_days": "3", "appeal_forward_working_days": "1",
             "appeal_ruling_working_days": "2"}


async def test_complaint_deadlines_save_and_refuse_bad_numbers(browser_session, tenant, other_tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    assert (await admin.get("/settings/complaint-deadlines")).status_code == 200
    assert (await _post(admin, "/settings/complaint-deadlines", DEADLINES)).status_code == 303
    policy = await authority.policy_for_group(tenant.group_id)
    assert (policy.accept_working_hours, policy.handle_working_days, policy.appeal_ruling_working_days) == (4, 2, 2)
    [entry] = await _audit(tenant, "complaints.policy")
    assert entry["before"] == {"accept_working_hours": 2, "appeal_ruling_working_days": 1, "handle_working_days": 1,
                               "urgent_accept_working_hours": 1}

    bad = await _post(admin, "/settings/complaint-deadlines", {**DEADLINES, "revisit_days": "三"})
    assert bad.status_code == 400 and 'data-field="revisit_days"' in bad.text and "请输入整数" in bad.text
    bad = await _post(admin, "/settings/complaint-deadlines", {**DEADLINES, "urgent_accept_working_hours": "8"})
    assert bad.status_code == 400 and 'data-field="urgent_accept_working_hours"' in bad.text
    bad = await _post(admin, "/settings/complaint-deadlines", {**DEADLINES, "handle_working_days": "31"})
    assert bad.status_code == 400 and "必须在 1 到 30 之间" in bad.text  # the API's bound, now the service's
    assert await authority.policy_for_group(tenant.group_id) == policy
    assert await authority.policy_for_group(other_tenant.group_id) == authority.Policy()

    gm = await browser_session(tenant.usernames["store_gm@A"])
    assert (await gm.get("/settings/complaint-deadlines")).status_code == 403
    assert (await _post(gm, "/settings/complaint-deadlines", DEADLINES)).status_code == 403


async def test_authority_table_saves_rising_tiers_and_refuses_falling_ones(browser_session, tenant, other_tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    page = (await admin.get("/settings/authority")).text
    assert 'value="1000.00"' in page or 'value="1000"' in page
    form = {"max_amount": ["2000", "20000", "", ""], "role": ["store_cr_manager", "store_gm", "hq_viewer", ""]}
    assert (await _post(admin, "/settings/authority", form)).status_code == 303
    tiers = await authority.authority_table(tenant.group_id)
    assert [(t.max_amount, t.approver_role) for t in tiers] == [
        (Decimal("2000"), Role.STORE_CR_MANAGER), (Decimal("20000"), Role.STORE_GM), (None, Role.HQ_VIEWER)]
    [entry] = await _audit(tenant, "complaints.authority")
    assert entry["after"]["tiers"][0] == "≤2000.00 store_cr_manager"

    bad = await _post(admin, "/settings/authority", {"max_amount": ["5000", "3000", ""],
                                                     "role": ["store_cr_manager", "store_gm", "hq_viewer"]})
    assert bad.status_code == 400 and 'data-field="tiers[1].max_amount"' in bad.text and "金额须逐档递增" in bad.text
    bad = await _post(admin, "/settings/authority", {"max_amount": ["abc", ""], "role": ["store_gm", "hq_viewer"]})
    assert bad.status_code == 400 and 'data-field="tiers[0].max_amount"' in bad.text
    bad = await _post(admin, "/settings/authority", {"max_amount": ["1000", "9000"], "role": ["store_gm", "hq_viewer"]})
    assert bad.status_code == 400 and "最后一档不得设上限" in bad.text
    assert await authority.authority_table(tenant.group_id) == tiers
    assert len(await authority.authority_table(other_tenant.group_id)) == len(authority.DEFAULT_AUTHORITY)
    hq = await browser_session(tenant.usernames["hq_viewer"])
    assert (await _post(hq, "/settings/authority", form)).status_code == 403


# ------------------------------------------------------------------------------------------------ callbacks


async def test_a_callback_rule_and_its_script_are_edited_for_the_group(browser_session, tenant, other_tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    listing = (await admin.get("/settings/callback-rules")).text
    assert 'data-kind="delivery_care_2h"' in listing and "交车后2小时关怀回访" in listing
    page = (await admin.get("/settings/callback-rules/delivery_care_2h")).text
    assert 'name="offset_hours" id="offset_hours" inputmode="decimal" value="2"' in page
    form = {"enabled": "yes", "channel": "phone", "survey": "", "offset_hours": "3", "window_hours": "5",
            "retry_hours": "2", "max_attempts": "4", "script": "您好!{customer},我是{store}的{agent}。"}
    assert (await _post(admin, "/settings/callback-rules/delivery_care_2h", form)).status_code == 303
    rule = (await rules.effective_rules(group_id=tenant.group_id, store_id=tenant.store_a))["delivery_care_2h"]
    assert (rule.offset_minutes, rule.window_minutes, rule.max_attempts, rule.level) == (180, 300, 4, "group")
    assert rule.script == form["script"]
    [entry] = await _audit(tenant, "callbacks.rule")
    assert entry["before"]["offset_minutes"] == 120 and entry["after"]["offset_minutes"] == 180

    bad = await _post(admin, "/settings/callback-rules/delivery_care_2h", {**form, "script": "您好{客户}"})
    assert bad.status_code == 400 and 'data-field="script"' in bad.text and "未知占位符" in bad.text
    bad = await _post(admin, "/settings/callback-rules/delivery_care_2h", {**form, "offset_hours": "两小时"})
    assert bad.status_code == 400 and 'data-field="offset_hours"' in bad.text
    bad = await _post(admin, "/settings/callback-rules/delivery_care_2h", {**form, "channel": "sms", "survey": "ssi"})
    assert bad.status_code == 400 and "短信回访不能打分" in bad.text
    assert (await rules.effective_rules(group_id=tenant.group_id, store_id=None))["delivery_care_2h"] == rule
    other = await rules.effective_rules(group_id=other_tenant.group_id, store_id=None)
    assert other["delivery_care_2h"].offset_minutes == 120

    assert (await _post(admin, "/settings/callback-rules/delivery_care_2h/reset")).status_code == 303
    assert (await rules.effective_rules(group_id=tenant.group_id, store_id=None))["delivery_care_2h"].level == "default"
    assert (await admin.get("/settings/callback-rules/no_such_rule")).status_code == 404


async def test_a_store_sets_its_own_rule_and_targets(browser_session, tenant, other_tenant):
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    page = await manager.get("/settings/callback-rules")
    assert page.status_code == 200 and f'value="{tenant.store_a}" selected' in page.text
    form = {"enabled": "", "channel": "sms", "survey": "", "offset_hours": "2", "window_hours": "4",
            "retry_hours": "2", "max_attempts": "3", "script": "【{store}】感谢您选择我们!"}
    path = f"/settings/callback-rules/delivery_care_2h?store={tenant.store_a}"
    assert (await _post(manager, path, form)).status_code == 303
    rule = (await rules.effective_rules(group_id=tenant.group_id, store_id=tenant.store_a))["delivery_care_2h"]
    assert (rule.enabled, rule.channel, rule.level) == (False, "sms", "store")
    assert (await rules.effective_rules(group_id=tenant.group_id, store_id=tenant.store_b))["delivery_care_2h"].enabled

    targets = f"/settings/callback-targets?store={tenant.store_a}"
    assert (await _post(manager, targets, {"callback_rate_pct": "100", "satisfaction_rate_pct": "95"})).status_code == 303
    saved = await statistics.callback_targets(group_id=tenant.group_id, store_id=tenant.store_a)
    assert (saved.satisfaction_rate, saved.level) == (0.95, "store")
    bad = await _post(manager, targets, {"callback_rate_pct": "120", "satisfaction_rate_pct": "九十"})
    assert bad.status_code == 400 and 'data-field="satisfaction_rate_pct"' in bad.text
    bad = await _post(manager, targets, {"callback_rate_pct": "120", "satisfaction_rate_pct": "90"})
    assert bad.status_code == 400 and 'data-field="callback_rate_pct"' in bad.text and "0 到 100" in bad.text
    assert await statistics.callback_targets(group_id=tenant.group_id, store_id=tenant.store_a) == saved
    assert [e["after"] for e in await _audit(tenant, "callbacks.targets")] == [
        {"satisfaction_rate_pct": 95}]

    assert (await manager.get(f"/settings/callback-rules?store={tenant.store_b}")).status_code == 404
    assert (await _post(manager, f"/settings/callback-targets?store={tenant.store_b}",
                        {"callback_rate_pct": "90", "satisfaction_rate_pct": "90"})).status_code == 404
    stranger = await browser_session(other_tenant.usernames["group_admin"])
    assert (await stranger.get(path)).status_code == 404
    assert (await _post(stranger, path, form)).status_code == 404


# ------------------------------------------------------------------------------------------------ channels


async def test_a_robot_channel_is_saved_and_a_test_really_goes_out(browser_session, tenant, other_tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    with http_receiver() as robot:
        url = robot.url + "/cgi-bin/webhook/send?key=SECRET-KEY"
        saved = await _post(admin, "/settings/notification-channels/wecom", {"url": url, "enabled": "yes"})
        assert saved.status_code == 303
        page = (await admin.get("/settings/notification-channels")).text
        assert "SECRET-KEY" not in page and "/cgi-bin/webhook/send?…" in page
        tested = await _post(admin, "/settings/notification-channels/wecom/test", {"to": "13800000001"})
        assert tested.status_code == 200 and 'id="wecom-test-result"' in tested.text and "测试消息已发送成功" in tested.text
        assert len(robot.requests) == 1 and robot.requests[0].body["text"]["mentioned_mobile_list"] == ["13800000001"]
        robot.default = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        failed = await _post(admin, "/settings/notification-channels/wecom/test", {"to": ""})
        assert failed.status_code == 200 and "发送失败" in failed.text and "93000" in failed.text
    [entry] = await _audit(tenant, "notify.channel")
    assert "SECRET-KEY" not in json.dumps(entry["after"], ensure_ascii=False) and entry["after"]["enabled"] is True

    bad = await _post(admin, "/settings/notification-channels/wecom", {"url": "ftp://robot", "enabled": "yes"})
    assert bad.status_code == 400 and 'data-field="url"' in bad.text and "地址必须以 http 开头" in bad.text
    bad = await _post(admin, "/settings/notification-channels/sms/test", {"to": "12345"})
    assert bad.status_code == 400 and 'data-field="to"' in bad.text and "11位手机号码" in bad.text
    bad = await _post(admin, "/settings/notification-channels/dingtalk", {"url": "", "enabled": "yes"})
    assert bad.status_code == 400 and "请填写地址" in bad.text  # nothing saved yet to keep
    settings = await inbox.channel_settings(actor=await tenant.scope("group_admin"))
    assert [(s["channel"], s["url"]) for s in settings] == [("wecom", robot.url + "/cgi-bin/webhook/send?…")]

    # Saving again without typing the URL keeps it (the screen never shows it in full).
    assert (await _post(admin, "/settings/notification-channels/wecom", {"url": ""})).status_code == 303
    [kept] = await inbox.channel_settings(actor=await tenant.scope("group_admin"))
    assert kept["url"] == robot.url + "/cgi-bin/webhook/send?…" and kept["enabled"] is False

    assert await inbox.channel_settings(actor=await other_tenant.scope("group_admin")) == []
    gm = await browser_session(tenant.usernames["store_gm@A"])
    assert (await gm.get("/settings/notification-channels")).status_code == 403
    assert (await _post(gm, "/settings/notification-channels/wecom/test", {"to": ""})).status_code == 403
    assert (await _post(admin, "/settings/notification-channels/fax", {"url": "http://x"})).status_code == 404


async def test_an_email_test_goes_through_the_groups_smtp_server(browser_session, tenant):
    admin = await browser_session(tenant.usernames["group_admin"])
    with smtp_server() as smtp:
        assert (await _post(admin, "/settings/notification-channels/email",
                            {"url": smtp.url, "enabled": "yes"})).status_code == 303
        bad = await _post(admin, "/settings/notification-channels/email/test", {"to": "not-an-address"})
        assert bad.status_code == 400 and "有效的电子邮箱" in bad.text
        tested = await _post(admin, "/settings/notification-channels/email/test", {"to": "admin@dealer.test"})
        assert "测试消息已发送成功" in tested.text
    assert [m["To"] for m in smtp.messages] == ["admin@dealer.test"]
    assert "test message" in smtp.messages[0]["Subject"]


# ------------------------------------------------------------------------------------------------ DMS keys


async def test_dms_keys_are_issued_rotated_and_revoked_with_the_secret_shown_once(browser_session, tenant,
                                                                                   other_tenant):
    gm = await browser_session(tenant.usernames["store_gm@A"])
    assert "该门店还没有密钥" in (await gm.get("/settings/dms-keys")).text
    issued = await _post(gm, f"/settings/dms-keys?store={tenant.store_a}")
    assert issued.status_code == 201 and 'id="issued-secret"' in issued.text
    [key] = await DmsWebhookKey.select().where(DmsWebhookKey.store == tenant.store_a)  # the test's store
    assert key["secret"] in issued.text and issued.headers["cache-control"] == "no-store"
    again = (await gm.get("/settings/dms-keys")).text
    assert key["key_id"] in again and key["secret"] not in again

    rotated = await _post(gm, f"/settings/dms-keys/{key['key_id']}/rotate")
    assert rotated.status_code == 201
    keys = await dms.list_keys(actor=await tenant.scope("store_gm@A"), store_id=tenant.store_a)
    assert [(k.key_id == key["key_id"], k.active) for k in keys] == [(True, False), (False, True)]
    assert keys[1].key_id in rotated.text
    revoked = await _post(gm, f"/settings/dms-keys/{keys[1].key_id}/revoke?store={tenant.store_a}")
    assert revoked.status_code == 303
    assert not any(k.active for k in await dms.list_keys(actor=await tenant.scope("store_gm@A"), store_id=tenant.store_a))
    bad = await _post(gm, f"/settings/dms-keys/{key['key_id']}/rotate")
    assert bad.status_code == 400 and "已停用" in bad.text
    assert [e["action"] for e in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.group == tenant.group_id, AuditEntry.target_type == "dms_key").order_by(AuditEntry.id)] == [
        "dms.key.issue", "dms.key.revoke", "dms.key.issue", "dms.key.revoke"]

    fresh = await dms.issue_key(actor=await tenant.scope("store_gm@A"), store_id=tenant.store_a)
    for who, client in (("store B's GM", await browser_session(tenant.usernames["store_gm@B"])),
                        ("another group's admin", await browser_session(other_tenant.usernames["group_admin"]))):
        assert (await _post(client, f"/settings/dms-keys/{fresh.key_id}/rotate")).status_code == 404, who
        assert (await _post(client, f"/settings/dms-keys/{fresh.key_id}/revoke")).status_code == 404, who
        assert (await client.get(f"/settings/dms-keys?store={tenant.store_a}")).status_code == 404, who
        assert (await _post(client, f"/settings/dms-keys?store={tenant.store_a}")).status_code == 404, who
    assert (await dms.list_keys(actor=await tenant.scope("store_gm@A"), store_id=tenant.store_a))[-1].active


# ------------------------------------------------------------------------------------------------ import


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


async def test_customer_import_reports_row_errors_and_imports_the_valid_rows_on_request(browser_session, tenant):
    """The upload starts a job and goes to its progress page, which polls itself while the job runs and shows the
    per-row report once it is done."""
    manager = await browser_session(tenant.usernames["store_cr_manager@A"])
    content = _csv([["客户姓名", "手机", "车架号", "车牌号", "交车日期", "订单号"],
                    ["好客户", make_mobile(), make_vin(), "粤B11111", "2025-03-01", "SO-OK"],
                    ["坏手机", "1380013800", make_vin(), "粤B33333", "2025-03-03", "SO-BAD"]])
    upload = {"file": ("sales.csv", content, "text/csv")}

    async def job_page(data: dict | None = None):
        started = await _post(manager, "/settings/customer-import", data, files=upload)
        assert started.status_code == 303, started.text
        url = started.headers["location"]
        queued = await manager.get(url)
        assert queued.status_code == 200 and 'data-status="queued"' in queued.text
        assert 'hx-trigger="every 1s"' in queued.text and f'hx-get="{url}/progress"' in queued.text
        await run_queued_import(int(url.rsplit("/", 1)[1]))
        fragment = await manager.get(f"{url}/progress")
        assert 'data-status="done"' in fragment.text and "hx-trigger" not in fragment.text
        return fragment

    refused = await job_page()
    assert 'data-imported="0"' in refused.text and 'data-row="3"' in refused.text
    assert "未导入任何数据" in refused.text
    assert await Customer.count().where(Customer.store == tenant.store_a) == 0  # the test's store

    accepted = await job_page({"accept_valid_rows": "1"})
    assert 'data-imported="1"' in accepted.text and 'data-row="3"' in accepted.text
    assert await Customer.select(Customer.name).where(Customer.store == tenant.store_a) == [{"name": "好客户"}]

    page = await manager.get("/settings")
    htmx = await manager.post("/settings/customer-import", data={"_csrf_token": csrf_of(page.text)}, files=upload,
                              headers={"HX-Request": "true"})
    assert htmx.headers["hx-redirect"].startswith("/imports/")
    await run_queued_import(int(htmx.headers["hx-redirect"].rsplit("/", 1)[1]))

    missing = await _post(manager, "/settings/customer-import", {"accept_valid_rows": "1"})
    assert missing.status_code == 400 and 'data-field="file"' in missing.text and "请选择文件" in missing.text

    admin = await browser_session(tenant.usernames["group_admin"])
    no_store = await _post(admin, "/settings/customer-import", files=upload)
    assert no_store.status_code == 400 and 'data-field="store_id"' in no_store.text
    hq = await browser_session(tenant.usernames["hq_viewer"])
    assert (await hq.get("/settings/customer-import")).status_code == 403


async def test_customer_import_cannot_write_to_another_groups_store(browser_session, tenant, other_tenant):
    stranger = await browser_session(other_tenant.usernames["group_admin"])
    content = _csv([["客户姓名", "手机"], ["外人", make_mobile()]])
    refused = await _post(stranger, "/settings/customer-import", {"store_id": str(tenant.store_a)},
                          files={"file": ("c.csv", content, "text/csv")})
    assert refused.status_code == 400 and 'data-field="store_id"' in refused.text
    assert await Customer.count().where(Customer.store == tenant.store_a) == 0  # the test's store
