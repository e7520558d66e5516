"""The group's satisfaction table (集团满意度总表): every visible store side by side for one survey period —
manufacturer SSI, CSI and CS with their standing, and the store's latest mystery-shopper multiplier.
Sortable by any column (`COLUMNS`); the same rows make the page and the XLSX export."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from crm.satisfaction.mystery import list_audits
from crm.satisfaction.standing import POSITIONS, store_standing
from tenants.scope import Scope
from tenants.tables import Store

# column key → (中文, English); the order of the page and the export
COLUMNS: dict[str, tuple[str, str]] = {
    "store_name": ("门店", "Store"),
    "ssi": ("SSI", "SSI"),
    "ssi_position": ("SSI对比平均", "SSI vs averages"),
    "ssi_rank": ("SSI全国排名", "SSI national rank"),
    "ssi_change": ("SSI环比", "SSI change"),
    "csi": ("CSI", "CSI"),
    "csi_position": ("CSI对比平均", "CSI vs averages"),
    "csi_rank": ("CSI全国排名", "CSI national rank"),
    "csi_change": ("CSI环比", "CSI change"),
    "cs": ("CS(SSI+CSI)", "CS (SSI+CSI)"),
    "cs_position": ("CS对比平均", "CS vs averages"),
    "completion_rate": ("电访落实率%", "Phone-survey completion %"),
    "mystery_rate": ("神秘客户得分率%", "Mystery-shopper rate %"),
    "mystery_multiplier": ("绩效系数", "Pay multiplier"),
}


async def group_table(
    *, actor: Scope, survey: str = "phone", period: str | None = None, sort: str = "store_name", descending: bool = False
) -> dict[str, Any]:
    stores = await Store.select(Store.id, Store.name).where(
        Store.group == (actor.group_id or -1), Store.id.is_in(sorted(actor.store_ids) or [-1])
    ).order_by(Store.id)
    audits = {}
    for audit in reversed(await list_audits(actor=actor)):  # oldest first: the latest of each store wins
        audits[audit["store_id"]] = audit
    rows = []
    for store in stores:
        standing = await store_standing(actor=actor, store_id=store["id"], survey=survey, period=period)
        audit = audits.get(store["id"])
        rows.append({
            "store_id": store["id"], "store_name": store["name"], "period": standing["period"],
            **{f"{m}": standing[m]["score"] for m in ("ssi", "csi", "cs")},
            **{f"{m}_position": standing[m]["position"] for m in ("ssi", "csi", "cs")},
            **{f"{m}_rank": standing[m]["national_rank"] for m in ("ssi", "csi")},
            **{f"{m}_change": standing[m]["change"] for m in ("ssi", "csi")},
            "completion_rate": standing["completion_rate"],
            "mystery_rate": Decimal(audit["score_rate"]) if audit else None,
            "mystery_multiplier": Decimal(audit["multiplier"]) if audit else None,
        })
    sort = sort if sort in COLUMNS else "store_name"
    present = [r for r in rows if r[sort] is not None]
    present.sort(key=lambda r: r[sort], reverse=descending)
    return {"survey": survey, "period": period, "sort": sort, "descending": descending,
            "rows": present + [r for r in rows if r[sort] is None]}


def to_xlsx(table: dict[str, Any], lang: str = "zh") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "满意度" if lang != "en" else "Satisfaction"
    sheet.append([zh if lang != "en" else en for zh, en in COLUMNS.values()])
    for row in table["rows"]:
        sheet.append([_cell(key, row[key], lang) for key in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(key: str, value: Any, lang: str) -> Any:
    if value is None:
        return None
    if key.endswith("_position"):
        zh, en = POSITIONS[value]
        return en if lang == "en" else zh
    return float(value) if isinstance(value, Decimal) else value
