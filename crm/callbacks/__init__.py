"""Callbacks (回访) and care (关怀): rules, scheduling, the agents' work queue, outcomes and statistics."""
