"""Complaints (投诉 / 抱怨): the complaint, its append-only timeline, appeals, compensation,
missed deadlines, and the group's policy and authority table (权限核决表).

Every store-owned row carries `group` and `store`. Appeals and compensations follow their
complaint when it is re-routed to another store; timeline rows are never changed (a trigger
refuses UPDATE) and keep the store each step happened at.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from crm.customers.tables import SEALED_LENGTH, Customer, CustomerIdentity, Vehicle
from tenants.tables import DealerGroup, Store, User


class Complaint(Table):
    """One customer complaint, from intake to close. `state` moves only through `crm.complaints.workflow`."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    channel = Varchar(length=20)
    # Taken by the group (call center, group customer service, a group integration account):
    # the store then feeds the result back to the group, and the group revisits.
    via_group = Boolean(default=False)
    intake_by = ForeignKey(User, null=True)
    external_ref = Varchar(length=64, default="", index=True)
    source_callback_id = Integer(null=True, default=None)
    # The store's revisit callback (回访) that carries this handling cycle's revisit deadline, if any.
    revisit_callback_id = Integer(null=True, default=None)

    customer = ForeignKey(Customer, null=False, index=True)
    customer_identity = ForeignKey(CustomerIdentity, null=True, index=True)
    vehicle = ForeignKey(Vehicle, null=True, index=True)
    complainant_name = Varchar(length=100)
    # Sealed (`crm.privacy.vault`): found by the keyed hashes (whole number, last 4 digits) beside it.
    complainant_phone = Varchar(length=SEALED_LENGTH, default="")
    complainant_phone_hash = Varchar(length=64, index=True, default="")
    complainant_phone_tail = Varchar(length=64, index=True, default="")
    plate = Varchar(length=10, default="")
    vin = Varchar(length=17, default="")
    vehicle_model = Varchar(length=100, default="")
    content = Text()
    expected_solution = Text(default="")
    # 紧急 / 一般 (seed 003 §4): urgent complaints sort first and get the group's shorter acceptance deadline.
    urgency = Varchar(length=10, default="normal", index=True)
    accused_user = ForeignKey(User, null=True, index=True)

    state = Varchar(length=20, index=True)
    reopen_count = Integer(default=0)
    handler_user = ForeignKey(User, null=True, index=True)
    handler_department = Varchar(length=20, default="")
    cause_category = Varchar(length=20, default="")
    cause_department = Varchar(length=20, default="")
    liability = Varchar(length=12, default="")
    cause_note = Text(default="")
    countermeasure = Text(default="")
    resolution = Text(default="")
    improvement_measures = Text(default="")
    feedback_note = Text(default="")
    revisit_satisfied = Boolean(null=True, default=None)
    revisit_note = Text(default="")

    received_at = Timestamptz()
    routed_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    # Where the handling deadline counts from: acceptance, reopening, or the GM rejecting an appeal.
    handle_from = Timestamptz(null=True, default=None)
    assigned_at = Timestamptz(null=True, default=None)
    judged_at = Timestamptz(null=True, default=None)
    handled_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    fed_back_at = Timestamptz(null=True, default=None)
    revisited_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    voided_at = Timestamptz(null=True, default=None)
    # The deadline now running (a copy of the pending timer, for sorting and countdowns).
    due_kind = Varchar(length=20, default="")
    due_at = Timestamptz(null=True, default=None, index=True)
    # The result report (处理结果报告, crm.complaints.result_report): its own clock beside the one above.
    report_state = Varchar(length=12, default="")  # "" | due | submitted | returned | accepted
    report_due_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class ComplaintEvent(Table, tablename="complaint_event"):
    """The timeline: one row per step, never updated or deleted (who, when, from → to, note)."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    complaint = ForeignKey(Complaint, null=False, index=True)
    at = Timestamptz()
    actor_user = ForeignKey(User, null=True)
    actor_name = Varchar(length=100, default="")
    action = Varchar(length=30)
    from_state = Varchar(length=20, default="")
    to_state = Varchar(length=20, default="")
    note = Text(default="")
    data = JSON(default={})


class ComplaintAppeal(Table, tablename="complaint_appeal"):
    """申诉单: the accused staff member contests the complaint; the department head forwards, the GM rules."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    complaint = ForeignKey(Complaint, null=False, index=True)
    filed_by = ForeignKey(User, null=False)
    filed_at = Timestamptz()
    reason = Text()
    previous_state = Varchar(length=20)
    status = Varchar(length=12, default="filed")  # filed | forwarded | declined (by the head) | upheld | rejected
    forwarded_by = ForeignKey(User, null=True)
    forwarded_at = Timestamptz(null=True, default=None)
    head_opinion = Text(default="")
    ruled_by = ForeignKey(User, null=True)
    ruled_at = Timestamptz(null=True, default=None)
    ruling_note = Text(default="")


class ComplaintResultReport(Table, tablename="complaint_result_report"):
    """处理结果报告: the department's result and improvement measures (改善措施) for one handling cycle,
    checked (检核) by the customer-relations department: accepted, or returned to be redone."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    complaint = ForeignKey(Complaint, null=False, index=True)
    cycle = Integer(default=0)  # the complaint's reopen count when it was submitted
    submitted_by = ForeignKey(User, null=False)
    submitted_at = Timestamptz()
    result = Text()
    improvement_measures = Text()
    status = Varchar(length=12, default="submitted")  # submitted | accepted | returned
    checked_by = ForeignKey(User, null=True)
    checked_at = Timestamptz(null=True, default=None)
    check_note = Text(default="")


class ComplaintCompensation(Table, tablename="complaint_compensation"):
    """A compensation (赔偿/补偿) request; its approver role comes from the authority table."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    complaint = ForeignKey(Complaint, null=False, index=True)
    amount = Numeric(digits=(12, 2))
    kind = Varchar(length=20)  # cash | voucher | parts | service | other
    description = Text(default="")
    requested_by = ForeignKey(User, null=False)
    requested_at = Timestamptz()
    required_role = Varchar(length=40)
    status = Varchar(length=12, default="pending")  # pending | approved | rejected
    decided_by = ForeignKey(User, null=True)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")


class ComplaintDeadlineMiss(Table, tablename="complaint_deadline_miss"):
    """A deadline that passed: counted against the store, and against the handler when one was responsible."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    complaint = ForeignKey(Complaint, null=False, index=True)
    kind = Varchar(length=20)
    due_at = Timestamptz()
    missed_at = Timestamptz()
    responsible_role = Varchar(length=40)
    handler_user = ForeignKey(User, null=True, index=True)
    # complaint:kind:cycle — one record per deadline per handling cycle (reopen count), however often it fires.
    dedupe_key = Varchar(length=80, unique=True)


class ComplaintPolicy(Table, tablename="complaint_policy"):
    """A group's complaint deadlines (defaults follow the seeds)."""

    group = ForeignKey(DealerGroup, null=False, unique=True)
    accept_working_hours = Integer(default=2)
    urgent_accept_working_hours = Integer(default=1)
    # From acceptance (or reopening, or a rejected appeal) until the countermeasure is recorded.
    handle_working_days = Integer(default=1)
    report_days = Integer(default=1)
    feedback_hours = Integer(default=24)
    revisit_days = Integer(default=3)
    # An appeal (申诉): the department head forwards (or declines) it, then the GM rules, each within N working days.
    appeal_forward_working_days = Integer(default=1)
    appeal_ruling_working_days = Integer(default=1)
    updated_at = Timestamptz()


class AuthorityRule(Table, tablename="complaint_authority_rule"):
    """权限核决表: compensation up to `max_amount` (None = no limit) is approved by `approver_role`."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    max_amount = Numeric(digits=(12, 2), null=True, default=None)
    approver_role = Varchar(length=40)


class ProcessViolation(Table, tablename="complaint_process_violation"):
    """业务流程违规 (seed 001 §5.2): a store manager records that a staff member did not work by the rules,
    or changed customer data privately or wrongly. Only these climb the 1st / 2nd / 3rd (dismissal) ladder,
    per department and month (`crm.complaints.accountability`)."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    staff = ForeignKey(User, null=False, index=True)
    department = Varchar(length=20)  # sales | service | accessories | other
    kind = Varchar(length=20, default="process")  # process | customer_data
    occurred_on = Date(index=True)
    description = Text()
    complaint = ForeignKey(Complaint, null=True, default=None, index=True)
    recorded_by = ForeignKey(User, null=False)
    recorded_at = Timestamptz()


class AccountabilityAmount(Table, tablename="complaint_accountability_amount"):
    """A group's suggested amounts (RMB) for one department; NULL: not set (the seeds leave most blank)."""

    group = ForeignKey(DealerGroup, null=False, index=True)
    department = Varchar(length=20)
    liable = Numeric(digits=(10, 2), null=True, default=None)
    not_in_time = Numeric(digits=(10, 2), null=True, default=None)
    first_violation = Numeric(digits=(10, 2), null=True, default=None)
    second_violation = Numeric(digits=(10, 2), null=True, default=None)
    updated_at = Timestamptz()


class ComplaintAttachment(Table, tablename="complaint_attachment"):
    """附件: a photo, document or call recording kept with the complaint (`crm.complaints.attachments`).

    The file itself is in the file store under `file_key` (random, never the user's file name); `filename` is
    only what the uploader called it, shown and offered back on download.
    """

    group = ForeignKey(DealerGroup, null=False, index=True)
    store = ForeignKey(Store, null=False, index=True)
    complaint = ForeignKey(Complaint, null=False, index=True)
    file_key = Varchar(length=64, unique=True)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    kind = Varchar(length=12)  # image | document | recording
    size = Integer()
    sha256 = Varchar(length=64)
    uploaded_by = ForeignKey(User, null=True)
    uploaded_by_name = Varchar(length=100, default="")
    uploaded_at = Timestamptz()
