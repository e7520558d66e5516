"""Callbacks (回访) and care (关怀): rules, scheduling, the agents' work queue, outcomes and statistics.

Its reactions to other areas' signals are listed in `crm.wiring`.
"""
