"""Demo data of the satisfaction area (a step of `deploy.demo_data.seed`), plausible and repeatable:

- the manufacturers' scores of every store: 12 months of the phone survey (电访) and 4 quarters of the
  face-to-face survey (面访), SSI and CSI on a 100-point scale with the regional and national averages,
  the national rank among 320 stores and the phone survey's 落实率;
- a mystery-shopper checkpoint list per brand and one audit per store and month for six months.

Each store keeps its profile (the same `index` rule as the dashboards' history): the good stores stand
above both averages and keep full pay, the struggling ones fall below and lose part of it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal

from crm.satisfaction.tables import ManufacturerScore, MysteryAudit, MysteryAuditResult, MysteryCheckpoint
from tenants.tables import Store

STORES_RANKED = 320
PHONE_MONTHS, VISIT_QUARTERS, AUDIT_MONTHS = 12, 4, 6
CHECKLIST = (
    ("接待", "顾客进店30秒内有人迎接"), ("接待", "销售顾问着装整洁、佩戴工牌"), ("接待", "主动递送名片并自我介绍"),
    ("需求分析", "询问购车用途与预算"), ("需求分析", "了解顾客现用车辆与家庭情况"),
    ("产品介绍", "按六方位绕车介绍"), ("产品介绍", "结合顾客需求说明配置"), ("产品介绍", "主动介绍竞品差异"),
    ("试乘试驾", "主动邀请试乘试驾"), ("试乘试驾", "试驾前确认驾照并说明路线"), ("试乘试驾", "试驾后询问感受"),
    ("报价成交", "报价单清晰列明价格与费用"), ("报价成交", "说明金融与置换方案"),
    ("送别", "送顾客至展厅门外"), ("送别", "24小时内致电感谢"), ("展厅", "展车清洁、资料齐全"),
)


async def seed_satisfaction(ctx) -> None:
    rng = ctx.rng("satisfaction")
    stores = {row["id"]: row for row in await Store.select(Store.id, Store.region, Store.brand_division).where(
        Store.group == ctx.group_id)}
    months = [_month_back(ctx.today, n) for n in range(PHONE_MONTHS, 0, -1)]  # the last complete months
    quarters = sorted({f"{m.year}-Q{(m.month - 1) // 3 + 1}" for m in months})[-VISIT_QUARTERS:]
    scores = []
    for survey, periods in (("phone", [f"{m:%Y-%m}" for m in months]), ("visit", quarters)):
        for step, period in enumerate(periods):
            averages = {(region, metric): (Decimal(base) + Decimal(rng.randint(-60, 60)) / 100,
                                           Decimal(base) - Decimal(rng.randint(0, 80)) / 100)
                        for region in {s["region"] for s in stores.values()}
                        for metric, base in (("ssi", "90.2"), ("csi", "88.6"))}
            for index, store in enumerate(ctx.stores):
                region = stores[store.id]["region"]
                quality = ((index * 3) % 11 - 5) * 0.45 + step * 0.04 * ((index % 3) - 1)  # profile and drift
                completion = Decimal(min(100.0, 84 + ((index * 5) % 11) * 1.4 + rng.uniform(-2, 2))).quantize(
                    Decimal("0.01"))
                for metric in ("ssi", "csi"):
                    regional, national = averages[(region, metric)]
                    score = (national + Decimal(quality + rng.uniform(-0.8, 0.8))).quantize(Decimal("0.01"))
                    rank = max(1, min(STORES_RANKED, round(150 - float(score - national) * 45 + rng.randint(-8, 8))))
                    scores.append(ManufacturerScore(
                        group=ctx.group_id, store=store.id, survey=survey, period=period, metric=metric, score=score,
                        regional_average=regional.quantize(Decimal("0.01")),
                        national_average=national.quantize(Decimal("0.01")), national_rank=rank,
                        stores_ranked=STORES_RANKED, completion_rate=completion if survey == "phone" else None,
                        imported_at=_at(ctx.today)))
    await ManufacturerScore.insert(*scores)
    audits = await _mystery(ctx, rng, stores)
    ctx.counts.update(manufacturer_scores=len(scores), mystery_audits=audits)


async def _mystery(ctx, rng, stores: dict[int, dict]) -> int:
    checkpoints: dict[int, list[MysteryCheckpoint]] = {}
    for division in sorted({s["brand_division"] for s in stores.values() if s["brand_division"]}):
        checkpoints[division] = [
            MysteryCheckpoint(group=ctx.group_id, brand_division=division, section=section, item=item,
                              position=n, active=True) for n, (section, item) in enumerate(CHECKLIST, start=1)]
        await MysteryCheckpoint.insert(*checkpoints[division])
    audits = 0
    for index, store in enumerate(ctx.stores):
        listed = checkpoints.get(stores[store.id]["brand_division"])
        if not listed:
            continue
        kept = 0.62 + 0.03 * ((index * 4) % 11)  # share of checkpoints the store's staff keep
        for n in range(AUDIT_MONTHS, 0, -1):
            month = _month_back(ctx.today, n)
            day = month.replace(day=rng.randint(8, 24))
            results = [(c, rng.random() < kept) for c in listed if rng.random() > 0.05]  # a few did not apply
            scored = sum(1 for _c, ok in results if ok)
            audit = MysteryAudit(group=ctx.group_id, store=store.id, audited_on=day, auditor="第三方检查员",
                                 scored=scored, lost=len(results) - scored, recorded_at=_at(day))
            await MysteryAudit.insert(audit)
            await MysteryAuditResult.insert(*(
                MysteryAuditResult(group=ctx.group_id, store=store.id, audit=audit.id, checkpoint=c.id,
                                   section=c.section, item=c.item, scored=ok, position=c.position,
                                   remark="" if ok else "未做到")
                for c, ok in results))
            audits += 1
    return audits


def _month_back(today: date, n: int) -> date:
    index = today.year * 12 + today.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(2), tzinfo=timezone.utc)
