"""The queue never unpickles: a crafted pickle written into Redis as an arq job is refused, not run.

The real worker runs against the suite's Redis; the payload would create a marker file if unpickled.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from arq.constants import default_queue_name, job_key_prefix

from crm.queue import get_queue, job_deserializer, job_serializer
from tests.support.workers import start_worker, stop_worker, wait_for


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_jobs_round_trip_as_msgpack_not_pickle():
    job = {"t": 1, "f": "fire_timer", "a": [12, "timer:12:1"], "k": {}, "et": 1_700_000_000_000}
    data = job_serializer(job)
    assert not data.startswith(b"\x80"), "not a pickle"
    assert job_deserializer(data) == job
    # A failed job's exception is kept as text, not as an object to unpickle later.
    assert job_deserializer(job_serializer({"r": ValueError("boom")}))["r"] == "ValueError('boom')"


async def test_a_crafted_pickle_job_in_redis_is_not_executed(tenant, tmp_path):
    marker = tmp_path / "pwned"
    log = tmp_path / "worker.log"
    payload = pickle.dumps({"t": 1, "f": "ping", "a": [_Exploit(marker)], "k": {}, "et": 1})
    queue = await get_queue()
    job_id = "crafted-pickle"
    await queue.set(job_key_prefix + job_id, payload)
    await queue.zadd(default_queue_name, {job_id: 1})
    worker = start_worker(log, groups=[tenant.group_id])  # sweeps only this test's (empty) group
    try:
        async def taken() -> bool:
            return await queue.zscore(default_queue_name, job_id) is None

        await wait_for(taken, what="the worker to take the crafted job", log=log)
    finally:
        stop_worker(worker)
    assert not marker.exists(), "the pickle ran code in the worker"
    assert f"deserializing job {job_id} failed" in log.read_text()
