"""Timers: every time rule of the product is a row here, fired exactly once by the worker."""
