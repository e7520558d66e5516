"""Major complaints without a database: the policy (ladder) defaults and checks, reasons, the report form."""

from __future__ import annotations

from tests.support.major import complete_report

import msgspec
import pytest

from crm.major.policy import DAY, Level, Policy, decode_policy, encode_policy, validate_policy
from crm.major.rules import Condition, MajorReason
from crm.major.service import Person, ReasonInput, ReportForm, _check_complete, _check_reasons
from tenants.errors import InvalidInput
from tenants.roles import Role


def test_default_policy_follows_the_seed():
    policy = Policy()
    assert policy.repeat_window_days == 90
    assert policy.report_deadline_seconds == DAY
    assert set(policy.alert_roles) == {Role.STORE_GM, Role.DEPARTMENT_HEAD, Role.BRAND_MANAGER, Role.LEGAL}
    [level] = policy.levels
    assert (level.delay_seconds, level.condition, level.roles) == (DAY, Condition.REPORT_MISSING, [Role.HQ_VIEWER])


def test_policy_round_trips_and_levels_come_back_ordered():
    policy = Policy(
        levels=[
            Level(delay_seconds=2 * DAY, condition=Condition.UNRESOLVED, roles=[Role.HQ_VIEWER], channels=["sms"]),
            Level(delay_seconds=DAY, condition=Condition.REPORT_MISSING, roles=[Role.HQ_VIEWER, Role.LEGAL]),
        ]
    )
    checked = validate_policy(policy)
    assert [level.delay_seconds for level in checked.levels] == [DAY, 2 * DAY]
    assert decode_policy(encode_policy(checked)) == checked


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"alert_roles": ["platform_admin"]}, "alert_roles"),
        ({"alert_channels": ["fax"]}, "alert_channels"),
        ({"levels": [{"delay_seconds": 60, "condition": "report_missing", "roles": ["legal", "legal"]}]},
         "levels[0].roles"),
        ({"levels": [{"delay_seconds": 60, "condition": "unresolved", "roles": ["legal"]},
                     {"delay_seconds": 60, "condition": "unresolved", "roles": ["hq_viewer"]}]},
         "levels[1].delay_seconds"),
    ],
)
def test_policy_rules_msgspec_cannot_express(change, field):
    policy = msgspec.convert({**msgspec.to_builtins(Policy()), **change}, Policy)
    with pytest.raises(InvalidInput) as caught:
        validate_policy(policy)
    assert field in {p.field for p in caught.value.problems}


@pytest.mark.parametrize(
    "raw",
    [
        {"repeat_window_days": 0},
        {"renotify_seconds": 0},
        {"levels": [{"delay_seconds": 0, "condition": "unresolved", "roles": ["legal"]}]},
        {"levels": [{"delay_seconds": 10, "condition": "whenever", "roles": ["legal"]}]},
        {"levels": [{"delay_seconds": 10, "condition": "unresolved", "roles": []}]},
        {"surprise": 1},
    ],
)
def test_policy_shape_is_checked_by_msgspec(raw):
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(raw, Policy)


@pytest.mark.parametrize("reason", [r for r in MajorReason if r != MajorReason.OTHER])
def test_each_named_reason_is_enough(reason):
    assert _check_reasons([ReasonInput(reason)]) == [ReasonInput(reason)]
    assert reason.title_zh and reason.title_en


def test_other_needs_a_note_and_reasons_are_not_repeated():
    with pytest.raises(InvalidInput) as caught:
        _check_reasons([ReasonInput(MajorReason.OTHER, "  ")])
    assert caught.value.problems[0].field == "reasons[0].note"
    assert _check_reasons([ReasonInput(MajorReason.OTHER, "多名客户聚集")])
    with pytest.raises(InvalidInput):
        _check_reasons([ReasonInput(MajorReason.REPEAT), ReasonInput(MajorReason.REPEAT)])
    with pytest.raises(InvalidInput):
        _check_reasons([])


def test_filing_needs_every_part_of_the_report():
    with pytest.raises(InvalidInput) as caught:
        _check_complete(ReportForm(facts="客户堵门", responsible_people=[Person(name=" ")]))
    missing = {p.field for p in caught.value.problems}
    assert missing == {"cause", "customer_demands", "actions_taken", "risk_note", "proposed_settlement",
                       "responsible_people"}
    assert all(p.zh and p.en for p in caught.value.problems)
    _check_complete(complete_report())


