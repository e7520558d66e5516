"""Major complaints with a real worker process: a ladder measured in seconds fires on its own,
and a worker SIGKILLed in the middle of an escalation alerts once after the restart.

Black-box: the policy is set and the complaint marked through the HTTP API; the worker
(`arq workers.settings.WorkerSettings`, a subprocess) does the rest; the test polls the
database with a bounded loop (waiting for a process, not sleeping through a deadline).
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from crm.major.tables import MajorAlert, MajorComplaint
from crm.timers.tables import Timer
from tests.support import workers
from tests.support.builders import customer_with_car
from tests.support.major import HANG_MARKER_ENV, complaint_for, notifications
from tests.support.workers import stop_worker, wait_for

SECONDS_LADDER = {
    "report_deadline_seconds": 2,
    "renotify_seconds": 3600,
    "levels": [
        {"delay_seconds": 2, "condition": "report_missing", "roles": ["hq_viewer"], "label_zh": "2秒未报备"},
        {"delay_seconds": 4, "condition": "unresolved", "roles": ["legal"]},
    ],
}


def start_worker(log: Path, tenant, *handler_modules: str, **env: str) -> subprocess.Popen:
    return workers.start_worker(log, *handler_modules, groups=[tenant.group_id], TIMER_SWEEP_SECONDS="2", **env)


async def _mark_through_the_api(client, tenant) -> int:
    response = await client.put("/api/v1/major/policy", json=SECONDS_LADDER, headers=await tenant.headers("group_admin"))
    assert response.status_code == 200, response.text
    complaint_id = await complaint_for(tenant, await customer_with_car(tenant))
    response = await client.post(
        f"/api/v1/complaints/{complaint_id}/major", json={"reasons": [{"reason": "trouble_on_site"}]},
        headers=await tenant.headers("store_gm@A"),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _levels(major_id: int) -> list[int]:
    rows = await MajorAlert.select(MajorAlert.level).where(MajorAlert.major == major_id).order_by(MajorAlert.level)
    return [r["level"] for r in rows]


async def test_a_ladder_in_seconds_fires_with_a_real_worker(client, tenant, tmp_path):
    log = tmp_path / "worker.log"
    worker = start_worker(log, tenant)
    try:
        await wait_for(lambda: _logged(log, "worker_started"), what="the worker to start", log=log)
        major_id = await _mark_through_the_api(client, tenant)
        await wait_for(lambda: _has_levels(major_id, [0, 1, 2]), what="both levels to fire", log=log)
    finally:
        stop_worker(worker)
    hq = await notifications(major_id, user_id=tenant.users["hq_viewer"])
    assert [n["title_zh"].split(":")[0] for n in hq] == ["2秒未报备"]
    assert len(await notifications(major_id, user_id=tenant.users["legal"])) == 2  # immediate + level 2
    major = await MajorComplaint.select().where(MajorComplaint.id == major_id).first()
    assert major["report_overdue"] and major["level_reached"] == 2
    board = (await client.get("/api/v1/major", headers=await tenant.headers("hq_viewer"))).json()["items"]
    assert [(m["level_reached"], m["report_overdue"]) for m in board if m["id"] == major_id] == [(2, True)]


async def test_sigkill_mid_escalation_alerts_once_after_restart(client, tenant, tmp_path):
    log = tmp_path / "worker.log"
    marker = tmp_path / "escalating"
    env = {HANG_MARKER_ENV: str(marker)}
    worker = start_worker(log, tenant, "tests.support.major_hang", **env)
    try:
        await wait_for(lambda: _logged(log, "worker_started"), what="the worker to start", log=log)
        major_id = await _mark_through_the_api(client, tenant)
        await wait_for(lambda: _exists(marker), what="the escalation to start", log=log)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        stop_worker(worker)
    assert await _levels(major_id) == [0]  # the half-done escalation died with its transaction
    assert await notifications(major_id, user_id=tenant.users["hq_viewer"]) == []

    restarted = start_worker(log, tenant, "tests.support.major_hang", **env)
    try:
        await wait_for(lambda: _has_levels(major_id, [0, 1, 2]), what="the escalation after restart", log=log)
    finally:
        stop_worker(restarted)
    assert len(await notifications(major_id, user_id=tenant.users["hq_viewer"])) == 1
    [timer] = await Timer.select(Timer.attempts, Timer.state).where(
        Timer.subject_type == "major_complaint", Timer.subject_id == major_id, Timer.kind == "major.report_missing"
    )
    assert timer == {"attempts": 1, "state": "fired"}


async def _has_levels(major_id: int, levels: list[int]) -> bool:
    return await _levels(major_id) == levels


async def _logged(log: Path, text: str) -> bool:
    return text in log.read_text()


async def _exists(path: Path) -> bool:
    return path.exists()
