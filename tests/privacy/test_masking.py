"""The masking rule (crm.privacy.policy): formats, and `shield` over every shape a service returns."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from crm.privacy.policy import CLEAR, REVEAL, mask, may_reveal, revealable, sees_clear, shield
from tenants.roles import Role
from tenants.scope import Scope


def actor(*roles: Role) -> Scope:
    return Scope(user_id=1, group_id=1, roles=frozenset(roles), store_ids=frozenset({1}))


def test_masked_forms():
    assert mask("mobile", "13812345678") == "138****5678"
    assert mask("phone2", "020-88886666") == "020*****6666"
    assert mask("id_number", "310115199001015616") == "310115********5616"
    assert mask("id_number", "91110000600037341L") == "911100********341L"
    assert mask("mobile", "12345") == "*****"
    assert mask("mobile", "") == ""


class Line(msgspec.Struct):
    name: str
    mobile: str
    id_number: str


@dataclass
class Queue:
    items: list[Line]
    customer: dict


def test_shield_masks_nested_records_for_a_low_role():
    data = Queue(items=[Line(name="张三", mobile="13812345678", id_number="310115199001015616")],
                 customer={"mobile": "13912345678", "phone2": "", "corrections": {"mobile": ["13912345678", "13700001111"]},
                           "changes": [{"field": "mobile", "old_value": "13912345678", "new_value": "13700001111"},
                                       {"field": "address", "old_value": "上海", "new_value": "北京"}]})
    out = shield(actor(Role.STAFF), data)
    assert out.items[0] == Line(name="张三", mobile="138****5678", id_number="310115********5616")
    assert out.customer["mobile"] == "139****5678" and out.customer["phone2"] == ""
    assert out.customer["corrections"]["mobile"] == ["139****5678", "137****1111"]
    assert out.customer["changes"][0]["old_value"] == "139****5678"
    assert out.customer["changes"][1] == {"field": "address", "old_value": "上海", "new_value": "北京"}
    assert data.items[0].mobile == "13812345678"  # the service's own value is untouched


def test_a_role_that_phones_customers_sees_mobiles_but_not_id_numbers():
    agent = actor(Role.CALLBACK_AGENT)
    line = shield(agent, Line(name="张三", mobile="13812345678", id_number="310115199001015616"))
    assert line.mobile == "13812345678" and line.id_number == "310115********5616"
    assert sees_clear(agent, "complainant_phone") and not may_reveal(agent, "id_number")


def test_who_may_reveal_what():
    assert revealable(actor(Role.STORE_GM)) == {"mobile", "phone2", "complainant_phone", "id_number"}
    assert revealable(actor(Role.STORE_CR_MANAGER)) == {"id_number"}
    assert revealable(actor(Role.STAFF)) == frozenset()
    assert revealable(actor(Role.HQ_VIEWER)) == frozenset()
    assert not may_reveal(actor(Role.STAFF), "mobile")
    assert Role.HQ_VIEWER not in CLEAR["mobile"] | REVEAL["mobile"] | REVEAL["id_number"]
