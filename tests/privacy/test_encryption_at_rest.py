"""Mobiles and ID numbers encrypted at rest (`crm.privacy.vault`): what the database holds, search through keyed
hashes, key rotation, loud failures on wrong or missing keys, and no key in any output."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crm.complaints.tables import Complaint
from crm.customers import service as customers
from crm.customers.history import customer_changes
from crm.customers.tables import Customer, CustomerChange, CustomerIdentity
from crm.notify.service import message_customer
from crm.notify.tables import Notification
from crm.privacy import sealing, vault
from tests.support.builders import complaint, customer_with_car, make_id_number, make_mobile
from tests.support.keys import TEST_PII_HASH_KEY, TEST_PII_KEYS

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
NEW_KEY = "t2:" + base64.b64encode(bytes(range(100, 132))).decode()


async def _stored(table, row_id: int, *columns: str) -> dict:
    """The row as the database holds it, read with plain SQL."""
    sql = f"SELECT {', '.join(columns)} FROM {table._meta.tablename} WHERE id = {{}}"
    return (await table.raw(sql, row_id))[0]


async def test_the_database_holds_sealed_tokens_and_keyed_hashes_never_the_numbers(tenant):
    car = await customer_with_car(tenant, "A", name="钱程", id_number=make_id_number(), phone2="021-64381234")
    complaint_id = await complaint(tenant, car, complainant_phone="13912345678")

    row = await _stored(Customer, car.customer_id, "mobile", "phone2", "id_number", "mobile_hash", "mobile_tail",
                        "group_identity")
    for column in ("mobile", "phone2", "id_number"):
        assert row[column].startswith("v1:t1:"), column
    assert car.mobile not in str(row) and car.mobile[-4:] not in row["mobile_tail"]
    assert row["mobile_hash"] == vault.lookup(car.mobile) and len(row["mobile_hash"]) == 64
    person = await _stored(CustomerIdentity, row["group_identity"], "mobile", "id_number", "mobile_hash")
    assert person["mobile"].startswith("v1:") and person["id_number"].startswith("v1:")
    assert car.mobile not in str(person)
    phone = await _stored(Complaint, complaint_id, "complainant_phone", "complainant_phone_hash")
    assert phone["complainant_phone"].startswith("v1:") and "13912345678" not in str(phone)
    # a change of the mobile: its history row holds both numbers sealed, and reads them back in clear
    new_mobile = make_mobile()
    await customers.update_customer(actor=await tenant.scope("store_cr_manager@A"), customer_id=car.customer_id,
                                    mobile=new_mobile)
    [change] = await CustomerChange.raw("SELECT old_value, new_value FROM customer_change WHERE customer = {} AND "
                                        "field = 'mobile'", car.customer_id)
    assert change["old_value"].startswith("v1:") and change["new_value"].startswith("v1:")
    history = (await customer_changes(actor=await tenant.scope("store_cr_manager@A"), customer_id=car.customer_id)).items
    assert [(c.old_value, c.new_value) for c in history if c.field == "mobile"] == [(car.mobile, new_mobile)]
    # an SMS to the customer: the number it goes to is sealed too
    sms = await message_customer(group_id=tenant.group_id, store_id=tenant.store_a, mobile=car.mobile,
                                  kind="test_sms", label_zh="测试", label_en="Test", text="您好",
                                  idempotency_key=f"sealed-sms-{car.customer_id}")
    assert (await _stored(Notification, sms, "address"))["address"].startswith("v1:")
    # two seals of one value differ (a fresh nonce each time); the lookup hash is the same
    assert vault.seal(car.mobile) != vault.seal(car.mobile) and vault.lookup(car.mobile) == row["mobile_hash"]


async def test_postgres_refuses_a_clear_number_written_past_the_vault(tenant):
    car = await customer_with_car(tenant, "A")
    with pytest.raises(Exception, match="pii_sealed"):
        await Customer.raw("UPDATE customer SET mobile = {} WHERE id = {}", "13800138000", car.customer_id)


async def test_search_by_full_number_and_last_four_digits_still_finds_the_customer(client, tenant, other_tenant):
    car = await customer_with_car(tenant, "A", name="孙权")
    other = await customer_with_car(other_tenant, "A", name="曹操", mobile=car.mobile)
    headers = await tenant.headers("call_center_agent")
    for q in (car.mobile, f"+86 {car.mobile[:3]}-{car.mobile[3:7]}-{car.mobile[7:]}", car.mobile[-4:]):
        found = await client.get(f"{API}/customers", headers=headers, params={"q": q, "limit": 200})
        ids = [i["id"] for i in found.json()["items"]]
        assert car.customer_id in ids and other.customer_id not in ids, q
        assert [i["mobile"] for i in found.json()["items"] if i["id"] == car.customer_id] == [car.mobile]

    complaint_id = await complaint(tenant, car, complainant_phone=car.mobile)
    for q in (car.mobile, car.mobile[-4:]):
        listed = (await client.get(f"{API}/complaints", headers=headers, params={"q": q, "limit": 200})).json()
        items = listed["items"] if isinstance(listed, dict) else listed  # a page, or (before paging) a list
        assert complaint_id in [c["id"] for c in items], q


async def test_the_caller_popup_looks_up_the_sealed_number(browser_session, tenant):
    car = await customer_with_car(tenant, "A", name="周瑜")
    agent = await browser_session(tenant.usernames["call_center_agent"])
    page = await agent.get("/complaint-intake", params={"caller": f"0086{car.mobile}"})
    assert page.status_code == 200
    assert f'name="customer_id" id="customer_id" value="{car.customer_id}"' in page.text


async def test_rotation_reseals_with_the_new_key_and_old_rows_still_read_meanwhile(client, tenant, monkeypatch):
    car = await customer_with_car(tenant, "A", name="吕蒙", id_number=make_id_number())
    complaint_id = await complaint(tenant, car, complainant_phone=car.mobile)
    headers = await tenant.headers("call_center_agent")
    try:
        monkeypatch.setenv("PII_KEYS", f"{NEW_KEY},{TEST_PII_KEYS}")  # t2 seals now, t1 still opens
        vault.reset_keys()
        before = await client.get(f"{API}/customers/{car.customer_id}", headers=headers)
        assert before.json()["customer"]["mobile"] == car.mobile  # an old row, read before rotation

        counts = await sealing.reseal_all(group_id=tenant.group_id, batch=2)
        assert counts["customer"] >= 1 and counts["customer_identity"] >= 1 and counts["complaint"] >= 1
        row = await _stored(Customer, car.customer_id, "mobile", "id_number", "mobile_hash")
        assert row["mobile"].startswith("v1:t2:") and row["id_number"].startswith("v1:t2:")
        assert row["mobile_hash"] == vault.lookup(car.mobile)  # the hash key is not rotated
        assert (await _stored(Complaint, complaint_id, "complainant_phone"))["complainant_phone"].startswith("v1:t2:")
        assert set((await sealing.reseal_all(group_id=tenant.group_id)).values()) == {0}  # resumable: nothing left

        monkeypatch.setenv("PII_KEYS", NEW_KEY)  # the old key retired
        vault.reset_keys()
        after = await client.get(f"{API}/customers/{car.customer_id}", headers=headers)
        assert after.json()["customer"]["mobile"] == car.mobile
        found = await client.get(f"{API}/customers", headers=headers, params={"q": car.mobile})
        assert [i["id"] for i in found.json()["items"]] == [car.customer_id]
    finally:  # back to the suite's key, for the rows of this group
        monkeypatch.setenv("PII_KEYS", f"{TEST_PII_KEYS},{NEW_KEY}")
        vault.reset_keys()
        await sealing.reseal_all(group_id=tenant.group_id)
        monkeypatch.setenv("PII_KEYS", TEST_PII_KEYS)
        vault.reset_keys()


def test_a_wrong_or_unknown_key_fails_loudly_and_names_no_key(monkeypatch):
    token = vault.seal("13800138000")
    assert vault.unseal(token) == "13800138000"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(vault.VaultError, match="does not open"):
        vault.unseal(tampered)
    with pytest.raises(vault.VaultError, match="not a sealed token"):
        vault.unseal("13800138000")
    try:
        monkeypatch.setenv("PII_KEYS", NEW_KEY)
        vault.reset_keys()
        with pytest.raises(vault.VaultError, match="'t1'") as unknown:
            vault.unseal(token)
        assert NEW_KEY.split(":")[1] not in str(unknown.value)
        wrong = "t1:" + base64.b64encode(bytes(32)).decode()
        monkeypatch.setenv("PII_KEYS", wrong)
        vault.reset_keys()
        with pytest.raises(vault.VaultError, match="wrong key"):
            vault.unseal(token)
        assert base64.b64encode(bytes(32)).decode() not in repr(vault.get_keys())
        for bad in ("t1:c2hvcnQ=", "t1", f"{TEST_PII_KEYS},{TEST_PII_KEYS}"):
            monkeypatch.setenv("PII_KEYS", bad)
            vault.reset_keys()
            with pytest.raises(vault.VaultError) as refused:
                vault.get_keys()
            assert TEST_PII_KEYS.split(":")[1] not in str(refused.value)
        monkeypatch.setenv("PII_KEYS", TEST_PII_KEYS)
        monkeypatch.delenv("PII_HASH_KEY")
        vault.reset_keys()
        with pytest.raises(vault.VaultError, match="both"):
            vault.get_keys()
    finally:
        monkeypatch.setenv("PII_KEYS", TEST_PII_KEYS)
        monkeypatch.setenv("PII_HASH_KEY", TEST_PII_HASH_KEY)
        vault.reset_keys()


def _launch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deploy.launcher", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_production_refuses_to_start_without_keys():
    env = {k: v for k, v in os.environ.items() if k not in ("PII_KEYS", "PII_HASH_KEY")}  # PostgreSQL: production
    done = _launch(["migrate"], env)
    assert done.returncode == 2 and "PII_KEYS and PII_HASH_KEY must be set" in done.stderr


def test_the_embedded_demo_generates_its_keys_once_readable_by_its_owner_only(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PII_KEYS", "PII_HASH_KEY", "DATABASE_URL")}
    env["DEALERDESK_VAR"] = str(tmp_path)
    program = "from crm.privacy import vault; print(vault.unseal(vault.seal('13800138000')), vault.get_keys().current)"
    runs = [subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60) for _ in range(2)]
    key_file = tmp_path / vault.KEY_FILE
    assert [r.stdout.split() for r in runs] == [["13800138000", "k1"]] * 2, runs[0].stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keys = dict(line.split("=", 1) for line in key_file.read_text().splitlines())
    assert len(base64.b64decode(keys["PII_HASH_KEY"])) == 32
    # the migrations of a fresh demo database seal with those keys and print none of them
    migrated = _launch(["migrate", "--verbose"], env)
    assert migrated.returncode == 0, migrated.stderr
    for secret in (keys["PII_KEYS"].split(":", 1)[1], keys["PII_HASH_KEY"]):
        assert secret not in migrated.stdout + migrated.stderr + runs[0].stdout + runs[0].stderr


async def test_the_migration_seals_rows_written_in_clear_before_it(tenant):
    """Rows from before encryption (clear values, no hashes) are sealed and become findable; shown here inside a
    transaction that lifts the CHECK for a moment and is rolled back."""
    car = await customer_with_car(tenant, "A", name="黄盖")
    async with Customer._meta.db.transaction() as transaction:
        await Customer.raw("ALTER TABLE customer DROP CONSTRAINT customer_pii_sealed")
        await Customer.raw("UPDATE customer SET mobile = {}, mobile_hash = '', mobile_tail = '' WHERE id = {}",
                           car.mobile, car.customer_id)
        assert await sealing.reseal(Customer, group_id=tenant.group_id) == 1
        row = await _stored(Customer, car.customer_id, "mobile", "mobile_hash", "mobile_tail")
        assert row["mobile"].startswith("v1:t1:") and vault.unseal(row["mobile"]) == car.mobile
        assert (row["mobile_hash"], row["mobile_tail"]) == (vault.lookup(car.mobile), vault.tail_lookup(car.mobile))
        await transaction.rollback()


def test_the_logs_redact_the_keys_wherever_they_appear():
    from crm.logs import redact, scrub

    assert TEST_PII_HASH_KEY not in scrub(f"env: PII_HASH_KEY={TEST_PII_HASH_KEY} PII_KEYS={TEST_PII_KEYS}")
    assert TEST_PII_KEYS.split(":")[1] not in scrub(f"PII_KEYS={TEST_PII_KEYS}")
    assert redact({"PII_KEYS": TEST_PII_KEYS, "pii_hash_key": TEST_PII_HASH_KEY}) == {
        "PII_KEYS": "[redacted]", "pii_hash_key": "[redacted]"}
