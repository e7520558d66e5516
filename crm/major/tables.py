"""Major complaints (重大投诉): the marking, its reasons, the report, the policy and the alerts.

A `MajorComplaint` row exists once a complaint is major; `marked_at` starts the
24-hour clock of the early-warning report 《重大投诉事件处理报告》 and of every
escalation level. Alerts are rows too, one per level reached, with one recipient
row per person, each to be acknowledged.

Uniqueness Piccolo cannot declare for every engine — one reason per major complaint, one alert per
level, one recipient row per person — is made by unique indexes in the migrations (`*_once`).
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from crm.complaints.tables import Complaint
from tenants.tables import DealerGroup, Store, User


class MajorPolicyRow(Table, tablename="major_policy"):
    """A group's policy (`crm.major.policy.Policy` as JSON); absent means the defaults."""

    group = ForeignKey(DealerGroup, null=False, unique=True)
    config = JSON(default="{}")
    updated_at = Timestamptz()
    updated_by = ForeignKey(User, null=True, default=None)


class MajorComplaint(Table, tablename="major_complaint"):
    """A complaint that is major. `policy` is the group's policy when it was marked."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    complaint = ForeignKey(Complaint, null=False, unique=True)
    marked_at = Timestamptz()
    marked_by = ForeignKey(User, null=True, default=None)  # None: marked by the system (manufacturer channel)
    report_due_at = Timestamptz()
    report_status = Varchar(length=12, default="missing")  # missing | filed | forwarded
    report_filed_at = Timestamptz(null=True, default=None)
    report_overdue = Boolean(default=False)  # a report_missing level fired: shown on every HQ view
    level_reached = Integer(default=0)
    resolved_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)  # closed or voided: off the board, timers cancelled
    policy = JSON(default="{}")


class MajorReasonRow(Table, tablename="major_reason"):
    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    major = ForeignKey(MajorComplaint, null=False, index=True)
    reason = Varchar(length=20)  # crm.major.rules.MajorReason
    note = Text(default="")
    automatic = Boolean(default=False)
    added_at = Timestamptz()
    added_by = ForeignKey(User, null=True, default=None)


class MajorReport(Table, tablename="major_report"):
    """《重大投诉事件处理报告》: saved as a draft, then filed once (the 24-hour rule), then forwarded."""

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    major = ForeignKey(MajorComplaint, null=False, unique=True)
    facts = Text(default="")
    cause = Text(default="")
    customer_demands = Text(default="")
    actions_taken = Text(default="")
    media_risk = Varchar(length=8, default="none")  # crm.major.rules.RiskLevel
    legal_risk = Varchar(length=8, default="none")
    risk_note = Text(default="")
    proposed_settlement = Text(default="")
    responsible_people = JSON(default="[]")  # [{"name", "position", "phone"}]
    status = Varchar(length=12, default="draft")  # draft | filed | forwarded
    saved_at = Timestamptz()
    saved_by = ForeignKey(User, null=True, default=None)
    filed_at = Timestamptz(null=True, default=None)
    filed_by = ForeignKey(User, null=True, default=None)
    forwarded_at = Timestamptz(null=True, default=None)
    forwarded_by = ForeignKey(User, null=True, default=None)


class MajorAlert(Table, tablename="major_alert"):
    """One alert per level reached (level 0: the immediate alert on marking)."""

    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    major = ForeignKey(MajorComplaint, null=False, index=True)
    level = Integer()
    condition = Varchar(length=20, default="")  # "" for the immediate alert
    raised_at = Timestamptz()
    rounds = Integer(default=1)  # how often it was sent (1 + re-notifications)
    last_sent_at = Timestamptz()
    settled_at = Timestamptz(null=True, default=None)  # everyone acknowledged, or the complaint closed


class MajorAlertRecipient(Table, tablename="major_alert_recipient"):
    group = ForeignKey(DealerGroup, null=False)
    store = ForeignKey(Store, null=False)
    alert = ForeignKey(MajorAlert, null=False, index=True)
    user = ForeignKey(User, null=False, index=True)
    acknowledged_at = Timestamptz(null=True, default=None)


class RepeatCheck(Table, tablename="repeat_check"):
    """疑似重复投诉: a complaint whose customer or vehicle complained earlier within the group's window.

    `earlier` links those complaints (ids, newest first). The flag stands until someone decides:
    the same problem (the complaint becomes major, reason 重复投诉) or a different one (with a reason).
    Undecided at intake, group customer service decides by `decision_due_at`.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    complaint = ForeignKey(Complaint, null=False, unique=True)
    earlier = JSON(default="[]")
    flagged_at = Timestamptz()
    decision_due_at = Timestamptz()
    decision = Varchar(length=12, default="")  # "" (pending) | same | different
    reason = Text(default="")
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(User, null=True, default=None)
    overdue = Boolean(default=False)  # the decision deadline passed undecided (escalated once)


class CrisisMeeting(Table, tablename="crisis_meeting"):
    """危机处理小组会议 (seed 004 §2.6): the store GM convenes the crisis team on a major complaint."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    major = ForeignKey(MajorComplaint, null=False, index=True)
    held_at = Timestamptz()
    members = JSON(default="[]")  # [{"name", "position"}]
    decisions = Text(default="")
    recorded_at = Timestamptz()
    recorded_by = ForeignKey(User, null=True, default=None)
