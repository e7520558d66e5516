"""Old import names for the dashboard tests' rows: the builders live in tests/support/builders.py
(`*_row`: raw rows at exact instants), `settle` in tests/support/dashboards.py.

Delete this module once no test imports it (branches started before the builders moved still do).
"""

from __future__ import annotations

from tests.support.builders import SHANGHAI, at, customer_with_car
from tests.support.builders import callback_row as callback
from tests.support.builders import complaint_row as complaint
from tests.support.builders import major_row as major
from tests.support.builders import score_rows as scores
from tests.support.builders import visit_row as visit
from tests.support.dashboards import settle

car_of = customer_with_car

__all__ = ["SHANGHAI", "at", "callback", "car_of", "complaint", "major", "scores", "settle", "visit"]
