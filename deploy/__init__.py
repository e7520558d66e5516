"""Launching dealerdesk: the embedded launcher and the local services it and the tests start."""
