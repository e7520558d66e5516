"""Notifications: one row per recipient and channel, delivered at least once and recorded once."""
