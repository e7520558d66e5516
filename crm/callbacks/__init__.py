"""Callbacks (回访) and care (关怀): rules, scheduling, the agents' work queue, outcomes and statistics.

Importing the package connects its handlers to the customer records' signals (deliveries and visits → callbacks)
and to the notifications' `delivery_settled` (an SMS callback delivered or failed).
"""

from crm.callbacks import messages, signal_handlers  # noqa: F401
