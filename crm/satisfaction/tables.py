"""Mystery-shopper checkpoint lists and audits (神秘客户检查), and manufacturers' SSI/CSI scores of the stores."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tenants.tables import BrandDivision, DealerGroup, Store, User


class MysteryCheckpoint(Table, tablename="mystery_checkpoint"):
    """One checkpoint (检查项) of a brand's list, grouped in sections (环节: 接待, 需求分析, 试乘试驾 …).

    A checkpoint taken off the list is kept inactive: past audits still name it.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    brand_division = ForeignKey(BrandDivision, null=False)
    section = Varchar(length=60)
    item = Varchar(length=200)
    position = Integer(default=0)
    active = Boolean(default=True)


class MysteryAudit(Table, tablename="mystery_audit"):
    """A mystery shopper's visit of a store on a date; one per store and date (unique index in the migration).

    `scored` and `lost` count the checkpoints of its results, kept with them in one transaction.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    audited_on = Date()
    auditor = Varchar(length=60, default="")
    scored = Integer(default=0)
    lost = Integer(default=0)
    recorded_by = ForeignKey(User, null=True, default=None)
    recorded_at = Timestamptz()


class MysteryAuditResult(Table, tablename="mystery_audit_result"):
    """One checkpoint of an audit: scored (得分) or lost (失分), with the shopper's remark.

    Section and item are copied from the checkpoint, so editing the list never rewrites a past audit.
    """

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    audit = ForeignKey(MysteryAudit, null=False, index=True)
    checkpoint = ForeignKey(MysteryCheckpoint, null=True, default=None)
    section = Varchar(length=60)
    item = Varchar(length=200)
    scored = Boolean()
    remark = Varchar(length=500, default="")
    position = Integer(default=0)


class ManufacturerScore(Table, tablename="manufacturer_score"):
    """A store's SSI or CSI in a manufacturer's survey for one period, as the manufacturer published it.

    `survey` is "phone" (电访, monthly: period "2026-11") or "visit" (面访, quarterly: period "2026-Q4").
    One row per store, survey, period and metric (unique index in the migration): re-importing replaces it.
    `completion_rate` is the phone survey's 电访落实率 (percent), when the report gives it.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    survey = Varchar(length=8)
    period = Varchar(length=8)
    metric = Varchar(length=4)  # ssi | csi
    score = Numeric(digits=(8, 2))
    regional_average = Numeric(digits=(8, 2), null=True, default=None)
    national_average = Numeric(digits=(8, 2), null=True, default=None)
    national_rank = Integer(null=True, default=None)
    stores_ranked = Integer(null=True, default=None)
    completion_rate = Numeric(digits=(5, 2), null=True, default=None)
    imported_at = Timestamptz()


class SatisfactionThresholds(Table, tablename="satisfaction_thresholds"):
    """A group's thresholds for strength and weakness items (优势/劣势项目, seed 002 §1.4), in percent.

    No row: the defaults of `crm.satisfaction.items.Thresholds`. Only the group admin edits them.
    """

    group = ForeignKey(DealerGroup, null=False, unique=True)
    strength_very_satisfied_min = Integer()
    weakness_very_satisfied_max = Integer()
    weakness_unhappy_min = Integer()
    weakness_drop_min = Integer()
    updated_at = Timestamptz()
