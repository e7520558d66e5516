"""The migration that lets an import job belong to the group keeps the jobs already there, on SQLite too, where
the table is rebuilt (the suite's PostgreSQL runs it on every start)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "2026-11-30T20:07:24:413029"  # the import_job table as it was: a store always

MIGRATE = f"""
import asyncio, sqlite3, sys
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.conf.apps import Finder

async def forwards(app, until="all"):
    response = await run_forwards(app_name=app, migration_id=until, fake=False)
    assert response.success, response.message

async def main(path):
    for config in Finder().get_app_configs():
        if config.app_name != "imports":
            await forwards(config.app_name)
    await forwards("imports", "{BEFORE}")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO dealer_group DEFAULT VALUES")
        db.execute('INSERT INTO store ("group") VALUES (1)')
        db.execute('INSERT INTO import_job ("group", store, kind, file_key, status) VALUES (1, 1, ?, ?, ?)',
                   ("customers", "k", "done"))
    await forwards("imports")

asyncio.run(main(sys.argv[1]))
"""


def test_existing_jobs_are_kept_and_a_job_may_have_no_store_on_sqlite(tmp_path):
    path = tmp_path / "migrated.sqlite"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=f"sqlite:///{path}", DEALERDESK_VAR=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", MIGRATE, str(path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with closing(sqlite3.connect(path)) as db:
        assert db.execute('SELECT "group", store, kind, file_key, status FROM import_job').fetchall() == [
            (1, 1, "customers", "k", "done")]
        db.execute('INSERT INTO import_job ("group", store, kind) VALUES (1, NULL, ?)', ("people",))
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'import_job' "
                                                "AND type = 'index'")}
        assert {"import_job_group", "import_job_store", "import_job_status"} <= indexes
