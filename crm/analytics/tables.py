"""Rollups: per store and per day (in the group's timezone), counts that every dashboard metric sums.

A `StoreDay` row holds, for one store and one local day, the counts of the complaints *received* that
day, the callbacks *due* that day, the service visits whose customer *left* that day and the survey
scores of those callbacks (the same anchors as the callback statistics of attachments 3 and 4). Every
metric of `crm.analytics.metrics` is a function of sums of these columns over a period, so any period
(week, month, quarter, year, custom) is one `SUM ... GROUP BY store`. A day without activity has no row.

Resolution times are not summable as a mean for a median, so `StoreDayResolution` keeps a histogram:
per store-day, how many complaints took exactly `minutes` working minutes. Summing the counts per minute
over a period gives the exact distribution, hence the exact median and p90 (nearest rank).

`RollupDirty` is the queue of touched store-days: database triggers (see the migration) add the store
and the anchor instant of every inserted, changed or deleted complaint, deadline miss, major complaint,
callback, survey score and service visit, in the writer's own transaction, whatever code path wrote it.
The worker recomputes those store-days from raw rows (`crm.analytics.rollups.refresh`).
"""

from __future__ import annotations

from piccolo.columns import (
    BigSerial,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tenants.tables import DealerGroup, Store, User


class StoreDay(Table, tablename="analytics_store_day"):
    """One store's counts for one local day; (store, day) is unique (index in the migration)."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False)
    day = Date(index=True)
    # Complaints received that day (not voided), by channel (crm.complaints.service.CHANNELS).
    complaints = Integer(default=0)
    complaints_hotline_400 = Integer(default=0)
    complaints_walk_in = Integer(default=0)
    complaints_callback = Integer(default=0)
    complaints_manufacturer = Integer(default=0)
    complaints_online = Integer(default=0)
    complaints_email = Integer(default=0)
    complaints_media = Integer(default=0)
    complaints_store_phone = Integer(default=0)
    major_complaints = Integer(default=0)
    # Deadlines of those complaints: "due" = the step was done or its deadline was missed.
    accept_due = Integer(default=0)
    accept_on_time = Integer(default=0)
    handle_due = Integer(default=0)
    handle_on_time = Integer(default=0)
    report_due = Integer(default=0)
    report_on_time = Integer(default=0)
    feedback_due = Integer(default=0)
    feedback_on_time = Integer(default=0)
    major_report_due = Integer(default=0)
    major_report_on_time = Integer(default=0)
    resolved = Integer(default=0)
    resolved_once = Integer(default=0)
    reopened = Integer(default=0)
    liable = Integer(default=0)
    # Phone callbacks due that day (回访).
    callbacks_due = Integer(default=0)
    callbacks_done = Integer(default=0)
    callbacks_on_time = Integer(default=0)
    callbacks_unreachable = Integer(default=0)
    callbacks_answered = Integer(default=0)
    callbacks_satisfied = Integer(default=0)
    # Internal survey scores (1–10) of those callbacks.
    ssi_score_sum = Integer(default=0)
    ssi_scores = Integer(default=0)
    csi_score_sum = Integer(default=0)
    csi_scores = Integer(default=0)
    service_visits = Integer(default=0)
    computed_at = Timestamptz()


class StoreDayResolution(Table, tablename="analytics_store_day_resolution"):
    """Histogram of resolution times: `complaints` resolved in exactly `minutes` working minutes."""

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    day = Date(index=True)
    minutes = Integer()
    complaints = Integer()


class RollupDirty(Table, tablename="analytics_dirty"):
    """A touched store and instant, written by triggers; the worker turns it into a store-day and deletes it."""

    id = BigSerial(primary_key=True)
    store_id = Integer()
    at = Timestamptz(null=True, default=None)
    source = Varchar(length=30, default="")


class DashboardSetting(Table, tablename="analytics_group_setting"):
    """A group's dashboard settings, set by its group admin; absent means the defaults
    (`crm.analytics.access`)."""

    group = ForeignKey(DealerGroup, null=False, unique=True)
    # Store GMs and customer-relations managers see every store of the group by name (default: their own only).
    store_names_shown = Boolean(default=False)
    updated_at = Timestamptz()
    updated_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)


class RollupVersion(Table, tablename="analytics_version"):
    """A group's rollups of one month changed: a new `version` each time a store-day of that month is recomputed
    (`crm.analytics.rollups`). The dashboard reuses figures computed from unchanged months
    (`crm.analytics.dashboard`). (group, month) is unique (index in the migration)."""

    group = ForeignKey(DealerGroup, null=False)
    month = Date()  # the first day of the month
    version = Varchar(length=32)
