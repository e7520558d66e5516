"""Maintenance scripts run by hand: the UI text catalogues (catalogue.py) and Chinese punctuation."""
