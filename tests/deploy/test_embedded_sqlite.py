"""The embedded mode, as `./dev demo` runs it: SQLite, the bundled Redis, the worker and the web app.

Runs the real `dealerdesk` command in subprocesses without DATABASE_URL / REDIS_URL
(the session's PostgreSQL and Redis are for the other tests).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx

from crm.customers.validation import check_id_number, check_mobile, check_plate, check_vin
from crm.privacy import vault
from deploy.demo_data import DEMO_LOGINS, DEMO_PASSWORD, GROUP_CODE
from deploy.services import free_port

DEALERDESK = str(Path(sys.executable).parent / "dealerdesk")


async def test_embedded_demo_migrates_seeds_serves_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DEALERDESK_VAR=str(tmp_path), PORT=str(port))

    assert "migrations applied" in _run(env, "migrate")
    assert (tmp_path / "dealerdesk.sqlite").stat().st_mode & 0o777 == 0o600  # personal data: the service's user only
    with closing(sqlite3.connect(tmp_path / "dealerdesk.sqlite")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",), "readers must not wait for writers"
    assert "demo data seeded" in _run(env, "seed", "--small")
    assert "nothing seeded" in _run(env, "seed", "--small")
    mobile = _assert_demo_records_are_valid(tmp_path / "dealerdesk.sqlite")

    demo = subprocess.Popen([DEALERDESK, "demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            await _wait_until_healthy(client, demo)
            login = next(login for login in DEMO_LOGINS if login.username == "ceo")
            token = await client.post("/api/v1/auth/token",
                                      json={"group_code": GROUP_CODE, "username": login.username,
                                            "password": DEMO_PASSWORD})
            assert token.status_code == 200
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            me = await client.get("/api/v1/me", headers=bearer)
            assert me.status_code == 200
            assert me.json()["roles"] == ["hq_viewer"]
            assert len(me.json()["store_ids"]) == 12
            found = await client.get("/api/v1/customers", params={"q": mobile}, headers=bearer)
            assert found.status_code == 200
            # found by mobile; the HQ viewer reads it masked (personal data by role)
            assert mobile[:3] + "****" + mobile[-4:] in {c["mobile"] for c in found.json()["items"]}
            # The dashboard's resolution times come from the histogram lists (SQLite: JSON arrays).
            year = await client.get("/api/v1/dashboards/stores", params={"period": "year"}, headers=bearer)
            assert year.status_code == 200
            assert year.json()["total"]["resolution_median_hours"] is not None
            trend = await client.get("/api/v1/dashboards/trend", params={"metric": "resolution_p90_hours"},
                                     headers=bearer)
            assert trend.status_code == 200
            assert any(point["value"] is not None for point in trend.json()["points"])
    finally:
        demo.send_signal(signal.SIGTERM)
        output, _ = demo.communicate(timeout=60)

    assert demo.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
    assert "ceo" in output and DEMO_PASSWORD in output
    assert (tmp_path / "redis" / "dump.rdb").exists(), "the embedded Redis was stopped gracefully and persisted"


def _assert_demo_records_are_valid(path: Path) -> str:
    """The demo's customers and vehicles pass the same checks as typed-in records; returns a mobile to search."""
    with closing(sqlite3.connect(path)) as db:
        for sealed_mobile, sealed_id_number in db.execute("SELECT mobile, id_number FROM customer"):
            assert sealed_mobile.startswith("v1:")  # encrypted at rest, opened with the keys of the environment
            mobile, id_number = vault.unseal(sealed_mobile), vault.unseal(sealed_id_number)
            assert check_mobile(mobile) == mobile
            assert not id_number or check_id_number(id_number) == id_number
        for vin, plate in db.execute("SELECT vin, plate FROM vehicle"):
            assert check_vin(vin) == vin and check_plate(plate) == plate
        assert db.execute("SELECT count(*) FROM store").fetchone() == (12,)
        assert db.execute("SELECT count(*) FROM sale").fetchone()[0] > 0
        assert db.execute("SELECT count(*) FROM service_visit").fetchone()[0] > 0
        # Complaints walked through the service: several states, each with its timeline and live deadline.
        states = {s for (s,) in db.execute("SELECT state FROM complaint")}
        assert {"received", "closed", "reopened"} <= states and len(states) >= 6, states
        assert db.execute(
            "SELECT count(*) FROM complaint c WHERE (SELECT count(*) FROM complaint_event e WHERE e.complaint = c.id) < 1"
        ).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM timer WHERE subject_type = 'complaint' AND state = 'pending'").fetchone()[0]
        names = [n for (n,) in db.execute("SELECT display_name FROM app_user WHERE username <> 'admin'")]
        assert names and all(" " not in n for n in names), names
        return vault.unseal(db.execute("SELECT mobile FROM customer ORDER BY id LIMIT 1").fetchone()[0])


def _run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([DEALERDESK, *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def _wait_until_healthy(client: httpx.AsyncClient, process: subprocess.Popen) -> None:
    """Poll /health while the server starts (start-up, not a deadline: no clock to travel)."""
    for _ in range(600):
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("dealerdesk demo did not answer /health within 60 s")


def test_an_existing_database_file_is_narrowed_to_its_owner(tmp_path):
    from deploy.launcher import private_file

    database = tmp_path / "dealerdesk.sqlite"
    database.write_bytes(b"")
    database.chmod(0o644)
    private_file(database)
    assert database.stat().st_mode & 0o777 == 0o600
    private_file(tmp_path / "new" / "dealerdesk.sqlite")
    assert (tmp_path / "new" / "dealerdesk.sqlite").stat().st_mode & 0o777 == 0o600
