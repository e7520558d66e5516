"""The timer table: one row per deadline (subject, kind, due_at, state)."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, BigSerial, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from tenants.tables import DealerGroup, Store


class Timer(Table, tablename="timer"):
    """A deadline: pending until fired (once) or cancelled.

    `enqueued_at`/`version` say whether and under which arq job id
    (`timer:<id>:<version>`) the timer is held in Redis; only timers due within
    the promotion horizon are. The sweeper and promoter find their rows through
    partial indexes on `due_at WHERE state = 'pending'` (see the migration).
    """

    id = BigSerial(primary_key=True)
    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=True, default=None)
    kind = Varchar(length=80)
    subject_type = Varchar(length=40)
    subject_id = BigInt()
    payload = JSON(default="{}")
    due_at = Timestamptz()
    state = Varchar(length=12, default="pending")  # pending | fired | cancelled | failed
    attempts = Integer(default=0)
    last_error = Text(default="")
    retry_at = Timestamptz(null=True, default=None)
    fired_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    enqueued_at = Timestamptz(null=True, default=None)
    version = Integer(default=0)
    created_at = Timestamptz()
