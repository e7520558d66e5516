"""Mystery-shopper checkpoint lists and audits (神秘客户检查), read and written through the caller's scope.

A group keeps one checkpoint list per brand (品牌事业部); an audit of a store on a date records,
for checkpoints of the store's brand list, scored or lost with a remark. Checkpoints that did not
apply on the visit are left out of the audit; the score rate and the pay multiplier come from
`crm.satisfaction.pay`. One audit per store and date: recording it again is refused (409), an
import replaces it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from crm import clock, lists
from crm.db import UNIQUE_VIOLATIONS, transaction
from crm.satisfaction.pay import pay_band, score_rate, shown_rate
from crm.satisfaction.tables import MysteryAudit, MysteryAuditResult, MysteryCheckpoint
from tenants.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from tenants.roles import GROUP_ROLES, Role
from tenants.scope import Scope
from tenants.tables import BrandDivision, Store

# Who keeps the checkpoint lists, who records audits, who reads them (store managers see their own store).
CHECKLIST_EDITORS = frozenset({Role.GROUP_ADMIN})
AUDIT_RECORDERS = frozenset({Role.GROUP_ADMIN, Role.GROUP_CUSTOMER_SERVICE, Role.BRAND_MANAGER})
MYSTERY_READERS = frozenset(GROUP_ROLES | {Role.STORE_GM, Role.STORE_CR_MANAGER, Role.DEPARTMENT_HEAD})

MAX_CHECKPOINTS = 500


@dataclass(frozen=True)
class CheckpointEntry:
    section: str
    item: str


@dataclass(frozen=True)
class ResultEntry:
    checkpoint_id: int
    scored: bool
    remark: str = ""


# ------------------------------------------------------------------------------- checkpoint lists


async def list_checkpoints(*, actor: Scope, brand_division_id: int) -> list[dict[str, Any]]:
    """The active checkpoints of a brand's list, in order."""
    require_reader(actor)
    await _visible_brand(actor, brand_division_id)
    return [_checkpoint_out(r) for r in await _active_checkpoints(actor, brand_division_id)]


async def set_checkpoints(
    *, actor: Scope, brand_division_id: int, entries: list[CheckpointEntry]
) -> list[dict[str, Any]]:
    """Replace a brand's list: checkpoints kept by (section, item) keep their id, missing ones go inactive."""
    if not actor.has_role(*CHECKLIST_EDITORS):
        raise Forbidden("只有集团管理员可以维护检查项", "Only a group admin may change checkpoint lists")
    await _visible_brand(actor, brand_division_id)
    _validate_entries(entries)
    async with transaction():
        existing = {
            (r["section"], r["item"]): r["id"]
            for r in await actor.filter_group(MysteryCheckpoint.select(), MysteryCheckpoint).where(
                MysteryCheckpoint.brand_division == brand_division_id
            )
        }
        await actor.filter_group(MysteryCheckpoint.update({MysteryCheckpoint.active: False}), MysteryCheckpoint).where(
            MysteryCheckpoint.brand_division == brand_division_id
        )
        for position, entry in enumerate(entries, start=1):
            key = (entry.section, entry.item)
            if key in existing:
                await actor.filter_group(
                    MysteryCheckpoint.update({MysteryCheckpoint.active: True, MysteryCheckpoint.position: position}),
                    MysteryCheckpoint,
                ).where(MysteryCheckpoint.id == existing[key])
            else:
                await MysteryCheckpoint.insert(
                    MysteryCheckpoint(
                        group=actor.group_id, brand_division=brand_division_id, section=entry.section,
                        item=entry.item, position=position, active=True,
                    )
                )
        rows = await _active_checkpoints(actor, brand_division_id)
    return [_checkpoint_out(r) for r in rows]


# ------------------------------------------------------------------------------- audits


async def record_audit(
    *, actor: Scope, store_id: int, audited_on: dt.date, results: list[ResultEntry], auditor: str = "",
    replace: bool = False,
) -> dict[str, Any]:
    """Record a store's audit on a date, all or nothing. An existing audit of that date is a 409 unless `replace`."""
    require_recorder(actor)
    if not actor.can_see_store(store_id):
        raise InvalidInput.one("store_id", "门店不存在或无权访问", "Unknown store")
    checkpoints = {r["id"]: r for r in await _active_checkpoints(actor, await _store_brand(store_id))}
    _validate_results(results, checkpoints, audited_on)
    scored = sum(1 for r in results if r.scored)
    async with transaction():
        old = await actor.filter(MysteryAudit.select(MysteryAudit.id), MysteryAudit).where(
            MysteryAudit.store == store_id, MysteryAudit.audited_on == audited_on
        ).first()
        if old is not None:
            if not replace:
                raise Conflict(
                    f"该门店{audited_on.isoformat()}已有神秘客户检查记录",
                    f"The store already has an audit on {audited_on.isoformat()}",
                    {"audit_id": old["id"]},
                )
            await actor.filter(MysteryAuditResult.delete(), MysteryAuditResult).where(
                MysteryAuditResult.audit == old["id"]
            )
            await actor.filter(MysteryAudit.delete(), MysteryAudit).where(MysteryAudit.id == old["id"])
        try:
            [audit] = await MysteryAudit.insert(
                MysteryAudit(
                    group=actor.group_id, store=store_id, audited_on=audited_on, auditor=auditor,
                    scored=scored, lost=len(results) - scored, recorded_by=actor.user_id, recorded_at=clock.now(),
                )
            ).returning(MysteryAudit.id)
        except UNIQUE_VIOLATIONS:
            raise Conflict("该门店该日期的检查记录刚被他人录入", "Someone just recorded this store's audit of that date")
        await MysteryAuditResult.insert(
            *(
                MysteryAuditResult(
                    group=actor.group_id, store=store_id, audit=audit["id"], checkpoint=r.checkpoint_id,
                    section=checkpoints[r.checkpoint_id]["section"], item=checkpoints[r.checkpoint_id]["item"],
                    scored=r.scored, remark=r.remark, position=checkpoints[r.checkpoint_id]["position"],
                )
                for r in results
            )
        )
    return await get_audit(actor=actor, audit_id=audit["id"])


AUDIT_LIST = lists.ListSpec(
    name="mystery_audits",
    sorts={"audited": (MysteryAudit.audited_on, lists.Reverse(MysteryAudit.store)),
           "store": (MysteryAudit.store.name,), "auditor": (MysteryAudit.auditor,),
           "recorded": (MysteryAudit.recorded_at,)},
    default_sort="-audited",
    tiebreak=MysteryAudit.id,
)


async def list_audits(
    *, actor: Scope, store_id: int | None = None, since: dt.date | None = None, until: dt.date | None = None
) -> list[dict[str, Any]]:
    """Audits the caller may see, all of them, newest first (the store's page, the group table)."""
    return (await audit_page(actor=actor, store_id=store_id, since=since, until=until, want=None)).items


async def audit_page(
    *, actor: Scope, store_id: int | None = None, since: dt.date | None = None, until: dt.date | None = None,
    want: lists.ListQuery | None,
) -> lists.Page[dict[str, Any]]:
    """Audits the caller may see, each with its rate and multiplier: a page with the total (`want`), or all of
    them newest first (None)."""
    require_reader(actor)
    where = []
    if store_id is not None:
        where.append(MysteryAudit.store == store_id)
    if since is not None:
        where.append(MysteryAudit.audited_on >= since)
    if until is not None:
        where.append(MysteryAudit.audited_on <= until)
    rows = actor.select(MysteryAudit, *MysteryAudit.all_columns(), MysteryAudit.store.name.as_alias("store_name")
                        ).where(*where)
    return await lists.fetch_page(AUDIT_LIST, want, rows=rows, count=actor.count(MysteryAudit).where(*where),
                                  item=_audit_out)


async def get_audit(*, actor: Scope, audit_id: int) -> dict[str, Any]:
    """One audit with its checkpoints; another tenant's (or store's) audit is NotFound."""
    require_reader(actor, found=False)
    audit = await actor.filter(
        MysteryAudit.select(*MysteryAudit.all_columns(), MysteryAudit.store.name.as_alias("store_name")), MysteryAudit
    ).where(MysteryAudit.id == audit_id).first()
    if audit is None:
        raise NotFound("mystery audit")
    results = await actor.filter(MysteryAuditResult.select(), MysteryAuditResult).where(
        MysteryAuditResult.audit == audit_id
    ).order_by(MysteryAuditResult.position).order_by(MysteryAuditResult.id)
    return {
        **_audit_out(audit),
        "results": [
            {"checkpoint_id": r["checkpoint"], "section": r["section"], "item": r["item"], "scored": r["scored"],
             "remark": r["remark"]}
            for r in results
        ],
    }


async def checkpoints_of_store(*, actor: Scope, store_id: int) -> list[dict[str, Any]]:
    """The active checklist an audit of this store is recorded against."""
    require_reader(actor)
    if not actor.can_see_store(store_id):
        raise NotFound("store")
    return [_checkpoint_out(r) for r in await _active_checkpoints(actor, await _store_brand(store_id))]


# ------------------------------------------------------------------------------- helpers


def require_reader(actor: Scope, found: bool = True) -> None:
    if not actor.has_role(*MYSTERY_READERS):
        if not found:
            raise NotFound("mystery audit")  # an audit id says nothing to whom may not read audits at all
        raise Forbidden()


def require_recorder(actor: Scope) -> None:
    if not actor.has_role(*AUDIT_RECORDERS):
        raise Forbidden("无权录入神秘客户检查", "Your role may not record mystery-shopper audits")


async def _visible_brand(actor: Scope, brand_division_id: int) -> None:
    """A brand of the caller's group (a brand manager sees only their own); else a 400 on the field."""
    brand = await BrandDivision.select(BrandDivision.id).where(
        BrandDivision.id == brand_division_id, BrandDivision.group == (actor.group_id or -1)
    ).first()
    if brand is None or (actor.brand_division_id is not None and actor.brand_division_id != brand_division_id):
        raise InvalidInput.one("brand_division_id", "品牌不存在或无权访问", "Unknown brand")


async def _store_brand(store_id: int) -> int | None:
    store = await Store.select(Store.brand_division).where(Store.id == store_id).first()
    return store["brand_division"] if store else None


async def _active_checkpoints(actor: Scope, brand_division_id: int | None) -> list[dict[str, Any]]:
    if brand_division_id is None:
        return []
    return await actor.filter_group(MysteryCheckpoint.select(), MysteryCheckpoint).where(
        MysteryCheckpoint.brand_division == brand_division_id, MysteryCheckpoint.active.eq(True)
    ).order_by(MysteryCheckpoint.position).order_by(MysteryCheckpoint.id)


def _validate_entries(entries: list[CheckpointEntry]) -> None:
    problems: list[FieldProblem] = []
    seen: set[tuple[str, str]] = set()
    if len(entries) > MAX_CHECKPOINTS:
        problems.append(FieldProblem("checkpoints", f"检查项不能超过{MAX_CHECKPOINTS}条", f"At most {MAX_CHECKPOINTS} checkpoints"))
    for i, e in enumerate(entries):
        if not e.section.strip():
            problems.append(FieldProblem(f"checkpoints[{i}].section", "请填写环节", "The section is required"))
        if not e.item.strip():
            problems.append(FieldProblem(f"checkpoints[{i}].item", "请填写检查项", "The checkpoint is required"))
        if (e.section, e.item) in seen:
            problems.append(FieldProblem(f"checkpoints[{i}].item", "检查项重复", "Duplicate checkpoint"))
        seen.add((e.section, e.item))
    if problems:
        raise InvalidInput(problems)


def _validate_results(results: list[ResultEntry], checkpoints: dict[int, dict], audited_on: dt.date) -> None:
    problems: list[FieldProblem] = []
    if not results:
        problems.append(FieldProblem(
            "results", "至少需要一个检查项的结果（0个检查项无法计算得分率）",
            "At least one checkpoint result is needed (no score rate without checkpoints)",
        ))
    if audited_on > clock.now().date() + dt.timedelta(days=1):
        problems.append(FieldProblem("audited_on", "检查日期不能晚于今天", "The audit date cannot be in the future"))
    seen: set[int] = set()
    for i, r in enumerate(results):
        if r.checkpoint_id not in checkpoints:
            problems.append(FieldProblem(
                f"results[{i}].checkpoint_id", "检查项不在该门店品牌的检查清单中",
                "The checkpoint is not on the list of the store's brand",
            ))
        elif r.checkpoint_id in seen:
            problems.append(FieldProblem(f"results[{i}].checkpoint_id", "检查项重复", "Duplicate checkpoint"))
        seen.add(r.checkpoint_id)
    if problems:
        raise InvalidInput(problems)


def _checkpoint_out(row: dict) -> dict[str, Any]:
    return {"id": row["id"], "brand_division_id": row["brand_division"], "section": row["section"],
            "item": row["item"], "position": row["position"]}


def _audit_out(row: dict) -> dict[str, Any]:
    rate = score_rate(row["scored"], row["lost"])
    band = pay_band(rate)
    return {
        "id": row["id"], "store_id": row["store"], "store_name": row.get("store_name", ""),
        "audited_on": row["audited_on"], "auditor": row["auditor"],
        "scored": row["scored"], "lost": row["lost"],
        "score_rate": str(shown_rate(rate)), "multiplier": str(band.multiplier),
        "band_zh": band.label_zh, "band_en": band.label_en,
    }
