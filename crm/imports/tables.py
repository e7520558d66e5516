"""Import jobs: one row per uploaded file, its progress and its outcome.

The file itself is kept under DEALERDESK_VAR/imports/<key> (0600) until the job ends; `file_key` names it.
`heartbeat_at` is moved on while a worker reads the file: a running job whose heartbeat stopped belongs to a
worker that died, and the sweeper queues it again (or fails it after the last try).
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from tenants.tables import DealerGroup, Store


class ImportJob(Table, tablename="import_job"):
    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=True, index=True)  # none: a job of the group (satisfaction, people by HQ)
    kind = Varchar(length=20)  # customers
    file_key = Varchar(length=64)  # the kept file's name under DEALERDESK_VAR/imports
    filename = Varchar(length=255)  # the user's file name, shown back only
    options = JSON(default={})  # {"accept_valid_rows": bool, "sheet": str | None}
    status = Varchar(length=12, default="queued", index=True)  # queued | running | done | failed
    attempts = Integer(default=0)
    rows_read = Integer(default=0)
    rows_accepted = Integer(default=0)
    rows_rejected = Integer(default=0)
    imported = Boolean(default=False)
    report = JSON(default={})  # the kind's report at the end, its row errors capped
    problem = Text(default="")  # why it failed: "zh / en"
    created_by = Integer(null=True, default=None)  # user id
    created_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    heartbeat_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
