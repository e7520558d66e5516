"""Who sees which personal data in clear: decided here once, read by every service that returns records.

Two kinds of personal identifier leave the server: mobile numbers (a customer's mobile and other phone,
a complainant's phone) and ID numbers (身份证号, or a company's credit code). For each kind a role
either sees it in clear (its work is calling the customer), may reveal it one record at a time with a
reason that is logged, or only ever sees it masked (138****5678, 310115********5616).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import msgspec

from tenants.errors import InvalidInput
from tenants.roles import Role
from tenants.scope import Scope

MOBILE = "mobile"
ID_NUMBER = "id_number"
KIND_TITLES = {MOBILE: ("手机号", "Mobile"), ID_NUMBER: ("证件号", "ID number")}

# The fields of records leaving the server that hold personal identifiers, and their kind.
FIELDS: dict[str, str] = {
    "mobile": MOBILE,
    "phone2": MOBILE,
    "complainant_phone": MOBILE,
    "id_number": ID_NUMBER,
}

# Roles whose daily work is phoning customers see mobiles in clear; nobody needs ID numbers in clear.
CLEAR: dict[str, frozenset[Role]] = {
    MOBILE: frozenset({Role.CALL_CENTER_AGENT, Role.GROUP_CUSTOMER_SERVICE, Role.STORE_CR_MANAGER,
                       Role.CALLBACK_AGENT}),
    ID_NUMBER: frozenset(),
}
# Roles that may reveal one value at a time, with a reason, written to the access log.
REVEAL: dict[str, frozenset[Role]] = {
    MOBILE: frozenset({Role.GROUP_ADMIN, Role.LEGAL, Role.STORE_GM, Role.DEPARTMENT_HEAD}),
    ID_NUMBER: frozenset({Role.GROUP_ADMIN, Role.LEGAL, Role.GROUP_CUSTOMER_SERVICE, Role.STORE_GM,
                          Role.STORE_CR_MANAGER}),
}
# Who reads the access log.
ACCESS_LOG_READERS = frozenset({Role.GROUP_ADMIN})


def sees_clear(actor: Scope, field: str) -> bool:
    """Whether this actor gets `field` (a record field, e.g. "phone2") unmasked."""
    kind = FIELDS.get(field)
    return kind is None or actor.has_role(*CLEAR[kind])


def may_reveal(actor: Scope, field: str) -> bool:
    """Whether this actor may ask for `field` in clear on one record (logged)."""
    kind = FIELDS.get(field)
    return kind is not None and actor.has_role(*(CLEAR[kind] | REVEAL[kind]))


def revealable(actor: Scope) -> frozenset[str]:
    """The record fields this actor sees masked but may reveal: the pages show a "show" button for these."""
    return frozenset(f for f in FIELDS if may_reveal(actor, f) and not sees_clear(actor, f))


def mask(field: str, value: str) -> str:
    """The masked form of a personal identifier: 138****5678, 310115********5616."""
    if not value:
        return value
    if FIELDS.get(field) == ID_NUMBER:
        if len(value) <= 10:
            return value[:2] + "*" * (len(value) - 2)
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def edited(field: str, shown: str, submitted: str) -> str | None:
    """What a form's personal field asks for, when the form showed it masked (`shown`): None keeps the stored
    value (sent back as shown), "" clears it, a full new value replaces it. A masked value edited in part
    (still with *) cannot mean anything: InvalidInput on the field, so that no stars are ever stored."""
    if submitted == shown:
        return None
    if "*" in submitted:
        raise InvalidInput.one(
            field, "号码已隐藏：请保留原样、清空，或输入完整的新号码。",
            "The number is hidden: leave it as shown, clear it, or type the whole new number.",
        )
    return submitted


def in_message(field: str, value: str) -> str:
    """A field's value as a notification may carry it: messages leave over e-mail, SMS and chat robots to
    whoever holds a role, so personal identifiers in them are always masked."""
    return mask(field, value) if field in FIELDS else value


def shield(actor: Scope, data: Any) -> Any:
    """`data` (records, lists, dicts, nested) with every personal field the actor may not see in clear masked.

    The one masking step for everything that leaves the server: the JSON API, the pages, exports, PDFs and
    messages all render what the services return, and the services pass their records through here.
    """
    hidden = frozenset(f for f in FIELDS if not sees_clear(actor, f))
    return _masked(data, hidden) if hidden else data


def _masked(data: Any, hidden: frozenset[str]) -> Any:
    if isinstance(data, msgspec.Struct):
        items = {name: getattr(data, name) for name in data.__struct_fields__}
        changed = _changed(items, _masked_items(items, hidden))
        return msgspec.structs.replace(data, **changed) if changed else data
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        items = {f.name: getattr(data, f.name) for f in dataclasses.fields(data) if f.init}
        changed = _changed(items, _masked_items(items, hidden))
        return dataclasses.replace(data, **changed) if changed else data
    if isinstance(data, dict):
        return _masked_items(data, hidden)
    if isinstance(data, list):
        return [_masked(item, hidden) for item in data]
    return data


# Keys holding the values of a change, correction or proposal of the field named in the row's "field".
_VALUE_KEYS = frozenset({"old_value", "new_value", "proposed_value"})


def _masked_items(items: dict, hidden: frozenset[str]) -> dict:
    changed = items.get("field") if items.get("field") in hidden else None
    return {
        key: mask(changed, value) if changed and key in _VALUE_KEYS and isinstance(value, str)
        else _field(key, value, hidden)
        for key, value in items.items()
    }


def _changed(items: dict, masked: dict) -> dict:
    """Only the fields masking changed: a record is rebuilt with those alone (most of a record is not personal)."""
    return {key: value for key, value in masked.items() if value is not items[key]}


_PLAIN = (str, int, float, bool, date, type(None))  # values with nothing inside to mask


def _field(name: str, value: Any, hidden: frozenset[str]) -> Any:
    if name not in hidden and isinstance(value, _PLAIN):
        return value
    if name in hidden:
        if isinstance(value, str):
            return mask(name, value)
        if isinstance(value, list):  # a correction noted during a call: [old, new]
            return [mask(name, v) if isinstance(v, str) else v for v in value]
    if isinstance(value, (msgspec.Struct, dict, list)) or dataclasses.is_dataclass(value):
        return _masked(value, hidden)
    return value
