"""Old import names for tenants in tests: the builders live in tests/support/builders.py.

Delete this module once no test imports it (branches started before the builders moved still do).
"""

from tests.support.builders import PASSWORD, Tenant, end_timers, make_tenant

__all__ = ["PASSWORD", "Tenant", "end_timers", "make_tenant"]
