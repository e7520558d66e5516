"""The personal-data access log (个人信息访问记录)."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from tenants.tables import DealerGroup, Store, User


class PersonalDataAccess(Table, tablename="personal_data_access"):
    """Who read which personal data of whom, when and why: one row per reveal or bulk read.

    Append-only: `crm.privacy.service` only ever inserts; nothing updates or deletes a row.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=True, default=None)
    user = ForeignKey(User, null=True, default=None, index=True)
    user_name = Varchar(length=100, default="")
    action = Varchar(length=20)  # reveal | bulk_read
    subject = Varchar(length=20, default="")  # customer | complaint | "" for a bulk read
    subject_id = Integer(null=True, default=None)
    field = Varchar(length=40, default="")
    records = Integer(default=1)
    reason = Text(default="")
    at = Timestamptz(index=True)
