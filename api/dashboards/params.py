"""Query parameters shared by the dashboard's JSON routes and pages: the period and the filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from litestar.params import Parameter

from api.params import MAX_ID, text_param
from crm.analytics.dashboard import today_for
from crm.analytics.periods import Period, parse_period
from tenants.errors import InvalidInput
from tenants.scope import Scope

Short = text_param(20)
PeriodKind = Annotated[str, Parameter(query="period", max_length=10)]
FromQuery = Annotated[str, Parameter(query="from", max_length=10)]
ToQuery = Annotated[str, Parameter(query="to", max_length=10)]
OptionalId = Annotated[int | None, Parameter(required=False, ge=1, le=MAX_ID)]


@dataclass(frozen=True)
class PeriodQuery:
    period: str = "month"
    week: str = ""
    month: str = ""
    quarter: str = ""
    year: str = ""
    start: str = ""
    end: str = ""

    async def resolve(self, actor: Scope) -> Period:
        return parse_period(self.period or "month", today=await today_for(actor), week=self.week, month=self.month,
                            quarter=self.quarter, year=self.year, start=day_or_none("from", self.start),
                            end=day_or_none("to", self.end))

    def query(self) -> dict[str, str]:
        """The same period as query parameters (for links)."""
        pairs = {"period": self.period, "week": self.week, "month": self.month, "quarter": self.quarter,
                 "year": self.year, "from": self.start, "to": self.end}
        return {k: v for k, v in pairs.items() if v}


def day_or_none(field: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.one(field, "日期格式须为 YYYY-MM-DD", "dates are YYYY-MM-DD") from None
