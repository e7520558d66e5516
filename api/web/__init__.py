"""The server-rendered web UI (Simplified Chinese first, English switchable)."""

from api.web.pages import login_form, login_submit, logout, home

ROUTES = [login_form, login_submit, logout, home]
