"""Callbacks (回访) and care (关怀): the rules, the calls and messages they plan, and what the customer answered.

A `Callback` is one planned contact with a customer: a phone call an agent (回访员)
works from the queue, or an SMS sent on its own. It is `scheduled` until its timer
fires, then `due` (in the queue, or sent at once for SMS), and ends `done`,
`unreachable`, `skipped` (do-not-call) or `cancelled` (its delivery or visit was
cancelled). `dedupe_key` makes planning idempotent: the same delivery, visit or
birthday never plans the same contact twice.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from crm.customers.tables import Customer, Vehicle
from tenants.tables import DealerGroup, Store, User


class CallbackRule(Table, tablename="callback_rule"):
    """A group's or a store's override of one default rule (the defaults live in `crm/callbacks/rules.py`).

    `store` is null for the group's own rule, which every store of the group inherits
    unless it has a rule of its own. `rule_key` ("<group>:<store or *>:<kind>") keeps one row per level.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=True, default=None)
    rule_key = Varchar(length=80, unique=True)
    kind = Varchar(length=40)
    enabled = Boolean(default=True)
    channel = Varchar(length=10)  # phone | sms
    survey = Varchar(length=10, default="")  # "" | ssi | csi
    offset_minutes = Integer()
    window_minutes = Integer()
    max_attempts = SmallInt(default=3)
    retry_minutes = Integer(default=120)
    script = Text(default="")
    updated_by = ForeignKey(User, null=True, default=None)
    updated_at = Timestamptz()


class Callback(Table):
    """One planned contact (回访 / 关怀) with a customer.

    Besides the columns' own indexes, the migration adds (store, deadline_at) and (store, due_at) for the
    queue and the statistics; scope filters (group AND store) use those.
    """

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    customer = ForeignKey(Customer, null=False, index=True)
    vehicle = ForeignKey(Vehicle, null=True, default=None)
    kind = Varchar(length=40)
    channel = Varchar(length=10)  # phone | sms
    survey = Varchar(length=10, default="")  # "" | ssi | csi
    # What it follows up: sale | service_visit | complaint | customer | vehicle (greetings and reminders).
    source_type = Varchar(length=20)
    source_id = Integer()
    dedupe_key = Varchar(length=120, unique=True)
    anchor_at = Timestamptz()  # the delivery, the customer leaving, the birthday…
    due_at = Timestamptz()  # when it enters the queue (inside the store's contact window)
    deadline_at = Timestamptz()  # done by then counts as on time (及时)
    state = Varchar(length=12, default="scheduled")
    max_attempts = SmallInt(default=3)
    retry_minutes = Integer(default=120)
    attempts = SmallInt(default=0)
    first_attempt_at = Timestamptz(null=True, default=None)
    claimed_by = ForeignKey(User, null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=16, default="")  # reached | no_answer | refused | wrong_number | sent
    # The overall satisfaction on five levels (crm.callbacks.surveys.LEVELS); NULL when not asked or not reached.
    satisfaction = Varchar(length=20, null=True, default=None)
    # Reached, but the customer would not score the survey (客户拒绝评分): recorded instead of the scores.
    survey_declined = Boolean(default=False)
    comment = Text(default="")
    corrections = JSON(default="{}")
    complaint_id = Integer(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    completed_by = ForeignKey(User, null=True, default=None)
    created_at = Timestamptz()


class CallbackAttempt(Table, tablename="callback_attempt"):
    """Each call made (or message sent) for a callback, in order."""

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    callback = ForeignKey(Callback, null=False, index=True)
    attempt_no = SmallInt()
    outcome = Varchar(length=16)
    agent = ForeignKey(User, null=True, default=None)
    comment = Text(default="")
    at = Timestamptz()


class CallbackScore(Table, tablename="callback_score"):
    """One factor's answer from a callback survey: a score 1–10, or NULL for "not applicable" (DOMAIN.md)."""

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False, index=True)
    callback = ForeignKey(Callback, null=False, index=True)
    survey = Varchar(length=10)  # ssi | csi
    factor = Varchar(length=40)
    score = SmallInt(null=True, default=None)  # NULL: the factor was answered "not applicable"
    recorded_at = Timestamptz(index=True)


class DmsWebhookKey(Table, tablename="dms_webhook_key"):
    """A store's DMS integration key: the DMS signs each webhook payload with `secret` (HMAC-SHA256)."""

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False, index=True)
    key_id = Varchar(length=40, unique=True)
    secret = Varchar(length=80, secret=True)
    active = Boolean(default=True)
    created_at = Timestamptz()


class DmsEvent(Table, tablename="dms_event"):
    """DMS webhook events already applied (a redelivered event changes nothing)."""

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    event_key = Varchar(length=140, unique=True)  # "<key_id>:<event_id>"
    received_at = Timestamptz()


class CallbackTarget(Table, tablename="callback_target"):
    """Targets the statistics are held against (002 §2.1: 回访率100%, 满意率不低于XX%), per group or store."""

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=True, default=None)
    target_key = Varchar(length=40, unique=True)  # "<group>:<store or *>"
    callback_rate_pct = SmallInt(default=100)
    satisfaction_rate_pct = SmallInt(default=90)
    updated_at = Timestamptz()
