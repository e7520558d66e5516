"""Imports as background jobs (issue 15): the upload is kept as a file, a worker imports it. No import reads a
file inside a web request.

The request only checks who asks, for which store, and that the file can be read at all (so that a wrong
file is still an immediate 400 on `file`); it keeps the file under DEALERDESK_VAR/imports (0600), records an
`ImportJob` and queues `run_import` after the commit. The worker reads the kept file as a stream with the
kind's importer (`KINDS`, the one table from a job's kind to its importer), moving the job's counts and
heartbeat on every few hundred rows, and records the report.

A customer import belongs to the store it fills. The other kinds belong to the group (no store) when a group
role starts them, else to the starter's own store (a store manager importing people): the tenant scope then
decides who sees a job as for any store row, and a group job is seen only by the group's roles that may
import its kind (404 for anyone else, as for another group's).

All-or-nothing stays all-or-nothing: the importer reads the file twice, first only checking every row, then
writing the valid rows in one transaction (see `crm.customers.importer.import_file`). A worker that dies
mid-import therefore leaves nothing written, and running the job again is safe (re-importing a file creates
no duplicates anyway): `sweep_stale` queues a running job whose heartbeat stopped again, and fails it after
`MAX_TRIES`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import structlog

from crm import clock
from crm.customers import importer as customer_importer
from crm.customers import service as customer_service
from crm.db import engine, is_postgres, transaction
from crm.imports.tables import ImportJob
from crm.organisation import people_import
from crm.organisation.access import PEOPLE_ADMINS
from crm.queue import enqueue_after_commit
from crm.satisfaction import manufacturer, mystery_import
from crm.satisfaction.mystery import AUDIT_RECORDERS
from crm.settings import get_settings
from tenants.errors import DomainError, InvalidInput, NotFound
from tenants.scope import Scope, scope_for_user
from tenants.tables import DealerGroup

log = structlog.get_logger()

RUN_JOB = "run_import"
MAX_TRIES = 3
# The heartbeat of a job moves when it is queued and every few hundred rows while it runs; one this old is a
# dead worker's (or a lost queue entry).
STALE_AFTER = timedelta(minutes=5)
STATUS_TITLES = {"queued": ("排队中", "Queued"), "running": ("导入中", "Running"),
                 "done": ("已完成", "Done"), "failed": ("失败", "Failed")}


@dataclass(frozen=True)
class Kind:
    """What a kind of import needs from its area: who may import, the importer itself, and where its job belongs.

    `check(filename=, content=, sheet=)` raises InvalidInput on `file`; `run(actor=, filename=, content=,
    accept_valid_rows=, sheet=, progress=, [store_id=])` gives a report with `imported`, `errors` and
    `counts()` (rows read, accepted, rejected)."""

    title: tuple[str, str]
    roles: frozenset
    check: Callable[..., None]
    run: Callable[..., Awaitable[Any]]
    per_store: bool = False  # the job imports into one store (`store_id`), else into the group
    shown_once: Callable[[dict], dict] | None = None  # the report once its starter has read it (secrets taken out)
    opened_once: Callable[[dict], dict] | None = None  # the report for that one reading (secrets unsealed)


KINDS = {
    "customers": Kind(("客户资料导入", "Customer import"), customer_importer.IMPORTERS, customer_importer.check_file,
                      customer_importer.import_file, per_store=True),
    "mystery_audits": Kind(("神秘客户检查结果导入", "Mystery-shopper audit import"), AUDIT_RECORDERS,
                           mystery_import.check_file, mystery_import.import_audits),
    "manufacturer_scores": Kind(("厂家满意度成绩导入", "Manufacturer score import"), manufacturer.SCORE_IMPORTERS,
                                manufacturer.check_file, manufacturer.import_scores),
    "people": Kind(("人员批量导入", "People import"), PEOPLE_ADMINS, people_import.check_file,
                   people_import.import_people, shown_once=people_import.shown_once,
                   opened_once=people_import.opened_once),
}
KIND_TITLES = {kind: spec.title for kind, spec in KINDS.items()}


class ImportJobInfo(msgspec.Struct, kw_only=True):
    """An import job as its owner sees it: progress while it runs, the report at the end."""

    id: int
    kind: str
    store_id: int | None  # none: a job of the group
    filename: str
    accept_valid_rows: bool
    status: str
    finished: bool
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    imported: bool
    report: dict | None
    errors: list[dict]
    problem: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    url: str


def imports_dir() -> Path:
    path = get_settings().var_dir / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


async def start_import(
    *, actor: Scope, kind: str, filename: str, upload: BinaryIO, store_id: int | None = None,
    accept_valid_rows: bool = False, sheet: str | None = None,
) -> ImportJobInfo:
    """Check the request and the file's header, keep the file, record the job and queue it (after commit)."""
    spec = KINDS[kind]
    actor.require_role(*spec.roles)
    group_id, job_store = _owner(actor, spec, store_id)
    if not filename:
        raise InvalidInput.one("file", "请选择文件", "Choose a file")
    key = secrets.token_hex(16)
    path = imports_dir() / key
    try:
        # In a thread: copying and checking a 20 MB file must not hold the server's event loop.
        await asyncio.to_thread(_keep, upload, path, spec, filename, sheet)
        async with transaction():
            job = ImportJob(
                group=group_id, store=job_store, kind=kind, file_key=key, filename=filename[:255],
                options={"accept_valid_rows": accept_valid_rows, "sheet": sheet}, status="queued",
                created_by=actor.user_id or None, created_at=clock.now(), heartbeat_at=clock.now(),
            )
            await job.save()
            await _enqueue(job.id, group_id, job_store, attempt=0)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return await get_import(actor=actor, job_id=job.id)


def _owner(actor: Scope, spec: Kind, store_id: int | None) -> tuple[int, int | None]:
    """The group and store a new job belongs to: the store imported into, else the group (a group role) or the
    starter's own store."""
    if spec.per_store:
        store = customer_service.writable_store(actor, store_id)
        return store.group_id, store.id
    if actor.group_id is None:
        raise NotFound("group")
    return actor.group_id, None if actor.is_group_level else actor.home_store_id


def _keep(upload: BinaryIO, path: Path, spec: Kind, filename: str, sheet: str | None) -> None:
    """Copy the upload (spooled to disk by the multipart parser) to the kept file chunk by chunk, then check it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as kept:
        upload.seek(0)
        shutil.copyfileobj(upload, kept, 64 * 1024)
    with path.open("rb") as content:
        spec.check(filename=filename, content=content, sheet=sheet)


async def get_import(*, actor: Scope, job_id: int) -> ImportJobInfo:
    """A job of the caller's stores or, for the roles that may import its kind, of their group (404 for any
    other), with its progress and report."""
    row = await actor.select(ImportJob, group_rows=True).where(ImportJob.id == job_id).first()
    if row is None:
        raise NotFound("import")
    spec = KINDS[row["kind"]]
    if row["store"] is None and not (actor.is_group_level and actor.has_role(*spec.roles)):
        raise NotFound("import")
    actor.require_role(*spec.roles)
    report = _decoded(row["report"]) or None
    if report and spec.shown_once is not None:
        report = await _read_once(actor, row, report, spec)
    return ImportJobInfo(
        id=row["id"], kind=row["kind"], store_id=row["store"], filename=row["filename"],
        accept_valid_rows=bool(_options(row).get("accept_valid_rows")), status=row["status"],
        finished=row["status"] in ("done", "failed"), rows_read=row["rows_read"],
        rows_accepted=row["rows_accepted"], rows_rejected=row["rows_rejected"], imported=row["imported"],
        report=report, errors=(report or {}).get("errors", []), problem=row["problem"],
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        url=f"/api/v1/imports/{row['id']}",
    )


async def _read_once(actor: Scope, row: dict, report: dict, spec: Kind) -> dict:
    """The whole report for its starter's first reading, which takes its secrets out of the job for good; the
    report without them for anyone else and afterwards. While the job keeps them they are sealed."""
    kept = spec.shown_once(report)
    if kept == report or row["created_by"] != actor.user_id:
        return kept
    taken = await actor.update(ImportJob, {ImportJob.report: kept}, group_rows=True).where(
        ImportJob.id == row["id"], ImportJob.status == "done").returning(ImportJob.id)
    return spec.opened_once(report) if taken else kept


# ---------------------------------------------------------------- the worker's side


async def run_import(job_id: int, group_id: int, store_id: int | None) -> dict:
    """Import a queued job's file (the worker's job). A job that is no longer queued is left alone: another
    try has it, or it has ended."""
    jobs = Scope.system(group_id, store_id)
    now = clock.now()
    claimed = await jobs.update(ImportJob, {
        ImportJob.status: "running", ImportJob.attempts: ImportJob.attempts + 1, ImportJob.started_at: now,
        ImportJob.heartbeat_at: now, ImportJob.rows_read: 0, ImportJob.rows_accepted: 0,
        ImportJob.rows_rejected: 0,
    }).where(ImportJob.id == job_id, ImportJob.status == "queued").returning(ImportJob.id)
    if not claimed:
        return {"skipped": 1}
    row = await jobs.select(ImportJob).where(ImportJob.id == job_id).first()
    path = imports_dir() / row["file_key"]
    options = _options(row)

    async def progress(read: int, accepted: int, rejected: int) -> None:
        async with _outside_transaction() as allowed:
            if allowed:
                await jobs.update(ImportJob, {
                    ImportJob.rows_read: read, ImportJob.rows_accepted: accepted, ImportJob.rows_rejected: rejected,
                    ImportJob.heartbeat_at: clock.now(),
                }).where(ImportJob.id == job_id)

    try:
        actor = await scope_for_user(row["created_by"]) if row["created_by"] else None
        if actor is None:
            raise InvalidInput.one("created_by", "导入人已停用", "The user who uploaded the file is disabled")
        spec = KINDS[row["kind"]]
        place = {"store_id": store_id} if spec.per_store else {}
        with path.open("rb") as content:
            report = await spec.run(
                actor=actor, filename=row["filename"], content=content,
                accept_valid_rows=bool(options.get("accept_valid_rows")), sheet=options.get("sheet"),
                progress=progress, **place,
            )
    except Exception as error:  # a refused file, a vanished user or store, or a bug: the job says so and ends
        if not isinstance(error, (DomainError, FileNotFoundError)):
            log.exception("import_failed", job=job_id)
        await _end(jobs, job_id, path, status="failed", problem=_problem_text(error))
        return {"failed": 1}
    read, accepted, rejected = report.counts()
    await _end(jobs, job_id, path, status="done", imported=report.imported, report=msgspec.to_builtins(report),
               rows_read=read, rows_accepted=accepted if report.imported else 0, rows_rejected=rejected)
    return {"rows": read, "imported": int(report.imported)}


async def sweep_stale(*, groups: Collection[int] = ()) -> dict:
    """Jobs whose worker died: a running job with a stale heartbeat is queued again for another try (nothing
    of it was committed), or failed after the last; a queued job whose queue entry was lost is queued again.
    `groups` limits the sweep to those tenants (as the timer sweep's `TIMER_GROUPS`); empty: all."""
    stale_before = clock.now() - STALE_AFTER
    requeued = failed = 0
    query = DealerGroup.select(DealerGroup.id)
    for group in await (query.where(DealerGroup.id.is_in(list(groups))) if groups else query):
        jobs = Scope.system(group["id"])
        stale = await jobs.select(ImportJob, ImportJob.id, ImportJob.store, ImportJob.status, ImportJob.attempts,
                                  ImportJob.file_key).where(
            ImportJob.status.is_in(["queued", "running"]), ImportJob.heartbeat_at < stale_before)
        for job in stale:
            if job["status"] == "running" and job["attempts"] >= MAX_TRIES:
                await _end(jobs, job["id"], imports_dir() / job["file_key"], status="failed",
                           problem="导入进程多次中断 / The import was interrupted too many times",
                           expected="running")
                failed += 1
                continue
            async with transaction():
                await jobs.update(ImportJob, {ImportJob.status: "queued", ImportJob.heartbeat_at: clock.now()}).where(
                    ImportJob.id == job["id"], ImportJob.status == job["status"])
                await _enqueue(job["id"], group["id"], job["store"], attempt=job["attempts"])
            requeued += 1
    if requeued or failed:
        log.warning("import_jobs_swept", requeued=requeued, failed=failed)
    return {"requeued": requeued, "failed": failed}


async def _end(jobs: Scope, job_id: int, path: Path, *, status: str, expected: str = "running",
               **values: Any) -> None:
    columns = {getattr(ImportJob, k): v for k, v in values.items()}
    await jobs.update(ImportJob, {**columns, ImportJob.status: status, ImportJob.finished_at: clock.now(),
                                  ImportJob.heartbeat_at: clock.now()}).where(
        ImportJob.id == job_id, ImportJob.status == expected)
    path.unlink(missing_ok=True)  # the file is kept only until its job ends


async def _enqueue(job_id: int, group_id: int, store_id: int | None, *, attempt: int) -> None:
    await enqueue_after_commit(RUN_JOB, job_id, group_id, store_id, job_id=f"import:{job_id}:{attempt}")


@asynccontextmanager
async def _outside_transaction() -> AsyncIterator[bool]:
    """Progress is written beside the import's transaction, on a connection of its own, so that it is seen
    while the import runs. SQLite has one writer at a time: there progress is written only between passes."""
    current = engine().current_transaction
    if current.get() is None:
        yield True
        return
    if not is_postgres():
        yield False
        return
    token = current.set(None)
    try:
        yield True
    finally:
        current.reset(token)


def _options(row: dict) -> dict:
    return _decoded(row["options"]) or {}


def _decoded(value: Any) -> Any:
    """A JSON column as read: decoded already on PostgreSQL, text on SQLite."""
    return msgspec.json.decode(value) if isinstance(value, str) else value


def _problem_text(error: Exception) -> str:
    if isinstance(error, InvalidInput):
        return "；".join(f"{p.zh} / {p.en}" for p in error.problems)
    if isinstance(error, FileNotFoundError):
        return "导入文件已丢失 / The uploaded file is gone"
    zh, en = getattr(error, "zh", ""), getattr(error, "en", "")
    return f"{zh} / {en}" if zh or en else type(error).__name__
