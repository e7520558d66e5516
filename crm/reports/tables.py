"""Report requests and the files they produced.

One row per report kind, store (NULL for the group comparison) and month: `period_key` is unique, so the
monthly cron run by two workers at once, or a user asking twice, produces the report once. Asking again
for a ready report re-renders it; `data_hash` lets an unchanged period reuse its file.
"""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from tenants.tables import DealerGroup, Store


class ReportRequest(Table, tablename="report_request"):
    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=True, default=None, index=True)  # NULL: the group's report
    kind = Varchar(length=30)
    month = Varchar(length=7)  # 2026-11, in the group's timezone
    period_key = Varchar(length=80, unique=True)  # kind:group:store-or-"group":month
    status = Varchar(length=12, default="queued", index=True)  # queued | rendering | ready | failed
    reason = Text(default="")  # why it failed (the last attempt's error)
    attempts = Integer(default=0)
    requested_by = Integer(null=True, default=None)  # user id; NULL for the monthly cron
    requested_at = Timestamptz()
    rendered_at = Timestamptz(null=True, default=None)
    data_hash = Varchar(length=64, default="")  # sha256 of the figures the files were made from
    pdf_hash = Varchar(length=64, default="")  # sha256 of the PDF; its file name under DEALERDESK_VAR/reports
    xlsx_hash = Varchar(length=64, default="")
    pages = Integer(default=0)


class ReportSubscription(Table, tablename="report_subscription"):
    """A user who gets a report kind of one store (or the group's, store NULL) by e-mail when it is ready."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=True, default=None)
    user = Integer(index=True)
    kind = Varchar(length=30)
    subscription_key = Varchar(length=80, unique=True)  # user:kind:store-or-"group"
    created_at = Timestamptz()
