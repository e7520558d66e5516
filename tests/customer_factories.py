"""Old import names for customer test data: the builders live in tests/support/builders.py, the
cross-store customer world in tests/support/customers.py.

Delete this module once no test imports it (branches started before the builders moved still do).
"""

from __future__ import annotations

from datetime import datetime

from tests.support.builders import ago, make_id_number, make_mobile, make_vin
from tests.support.customers import Profile, World, make_profile, make_world

__all__ = ["Profile", "World", "hours_ago", "make_id_number", "make_mobile", "make_profile", "make_vin", "make_world"]


def hours_ago(hours: float) -> datetime:
    return ago(hours=hours)
