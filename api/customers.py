"""Customer records API (客户档案) — filled in by the customer-records work."""

ROUTES: list = []
