"""What every template can use: UI text, the signed-in user, the navigation, display filters.

Registered on the Jinja environment once (`configure`), so a page handler only
returns `Template("area/page.html", context={...})` and the layout fills itself
from the request: `t("customers.title")`, `lang()`, `tr(zh, en)`, `me()`, `nav()`,
`label(codes, code)`, `role_titles()`, `workplace()`, `countdown(due_at)`, `revealable()`; filters `date`, `datetime`,
`money`. Personal fields arrive masked from the services (`crm.privacy.policy.shield`); `revealable()` names the
ones the user may ask to see (the "show" button).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup, escape

from api.i18n import has, language_of, pick, translate
from api.web.nav import NavItem, nav_for
from crm import clock
from crm.privacy import policy
from crm.settings import get_settings
from tenants.roles import Role
from tenants.scope import Scope

# Session key of the caller's group/store names and timezone, written at sign-in.
WORKPLACE_KEY = "workplace"


def configure(engine: JinjaTemplateEngine) -> None:
    for name, fn in {
        "t": t,
        "lang": lang,
        "tr": tr,
        "label": label,
        "me": me,
        "nav": nav,
        "role_titles": role_titles,
        "workplace": workplace,
        "server_now": server_now,
        "countdown": countdown,
        "revealable": revealable,
        "notice": notice,
    }.items():
        engine.register_template_callable(key=name, template_callable=fn)
    engine.engine.filters.update(
        {"date": _date, "datetime": _datetime, "money": _money, "tel": _tel}
    )
    # Jinja's i18n extension: `_(...)` and `{% trans %}` read the same catalogues as `t(...)`.
    engine.engine.add_extension("jinja2.ext.i18n")
    engine.engine.install_gettext_callables(gettext=_gettext, ngettext=_ngettext)


def t(context: Mapping[str, Any], key: str, /, **params: Any) -> str:
    return translate(key, lang(context), **params)


@pass_context
def _gettext(context: Mapping[str, Any], key: str) -> str:
    return translate(key, lang(context))


@pass_context
def _ngettext(context: Mapping[str, Any], singular: str, plural: str, n: int) -> str:
    return translate(singular if n == 1 else plural, lang(context))


def lang(context: Mapping[str, Any]) -> str:
    return language_of(context["request"])


def tr(context: Mapping[str, Any], zh: str, en: str) -> str:
    return pick(zh, en, lang(context))


def label(context: Mapping[str, Any], codes: Mapping[str, tuple[str, str]], code: str | None) -> str:
    """The display label of a stored code from a (中文, English) table; an unknown code shows as itself."""
    if not code:
        return ""
    zh, en = codes.get(code, (code, code))
    return pick(zh, en, lang(context))


def me(context: Mapping[str, Any]) -> Scope | None:
    """The signed-in user, or None on pages outside the login (login, unknown URLs)."""
    user = context["request"].scope.get("user")
    return user if isinstance(user, Scope) else None


def revealable(context: Mapping[str, Any]) -> frozenset[str]:
    """The personal fields the signed-in user sees masked but may reveal (logged)."""
    actor = me(context)
    return policy.revealable(actor) if actor is not None else frozenset()


def nav(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    actor = me(context)
    if actor is None:
        return []
    path = context["request"].url.path
    language = lang(context)
    return [_nav_entry(item, path, language) for item in nav_for(actor)]


def role_titles(context: Mapping[str, Any]) -> str:
    actor = me(context)
    if actor is None:
        return ""
    language = lang(context)
    ordered = [role for role in Role if role in actor.roles]
    return "、".join(pick(role.title_zh, role.title_en, language) for role in ordered)


def server_now(context: Mapping[str, Any]) -> str:
    """The product's clock when the page was made: countdowns run on it, not on the viewer's PC clock."""
    return clock.now().isoformat()


def countdown(context: Mapping[str, Any], due_at: datetime) -> Markup:
    """A deadline's countdown, the one component for every page; app.js keeps it running in the same words
    on the server's clock (`server-now`). `soon` under 4 hours, `overdue` once passed."""
    seconds = int((due_at - clock.now()).total_seconds())
    state = " overdue" if seconds < 0 else " soon" if seconds < 4 * 3600 else ""
    text = countdown_text(seconds, english=lang(context) == "en")
    return Markup('<span class="countdown{}" data-due="{}">{}</span>').format(state, due_at.isoformat(), text)


def countdown_text(seconds: int, *, english: bool) -> str:
    """"剩余 1天3小时" / "剩余 14小时22分" / "已超时 3分钟" (English "left: 14h 22m", "overdue by 3 min")."""
    left = abs(seconds)
    days, hours, minutes = left // 86400, left % 86400 // 3600, left % 3600 // 60
    if days:
        span = f"{days}d {hours}h" if english else f"{days}天{hours}小时"
    elif hours:
        span = f"{hours}h {minutes}m" if english else f"{hours}小时{minutes}分"
    else:
        span = f"{minutes} min" if english else f"{minutes}分钟"
    if seconds < 0:
        return ("overdue by " if english else "已超时 ") + span
    return ("left: " if english else "剩余 ") + span


def notice(context: Mapping[str, Any]) -> str:
    """The confirmation after a form: its handler redirects with `?ok=<what>`, the text is `done.<what>` (only
    those keys, so a link cannot make a page say anything else)."""
    what = context["request"].query_params.get("ok", "")
    key = f"done.{what}"
    return translate(key, lang(context)) if re.fullmatch(r"[a-z_]{1,40}", what) and has(key) else ""


def workplace(context: Mapping[str, Any]) -> dict[str, Any]:
    """Group name, home store name and timezone of the signed-in user (empty before sign-in)."""
    session = context["request"].scope.get("session")
    place = session.get(WORKPLACE_KEY) if isinstance(session, dict) else None
    return place if isinstance(place, dict) else {}


def _nav_entry(item: NavItem, path: str, language: str) -> dict[str, Any]:
    return {"path": item.path, "label": item.label(language), "current": item.is_current(path)}


def _zone(context: Mapping[str, Any]) -> ZoneInfo:
    name = workplace(context).get("timezone") or get_settings().default_timezone
    return ZoneInfo(name)


@pass_context
def _date(context: Mapping[str, Any], value: date | datetime | None) -> str:
    """YYYY-MM-DD; a timestamp is shown in the user's timezone."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(_zone(context)).date()
    return value.isoformat()


@pass_context
def _datetime(context: Mapping[str, Any], value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(_zone(context)).strftime("%Y-%m-%d %H:%M")


def _money(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    return f"¥{Decimal(value):,.2f}"


def _tel(value: object) -> Markup:
    """A phone number as a click-to-call link (a softphone or a mobile dials `tel:`); a masked number stays text."""
    text = str(value or "")
    digits = re.sub(r"[^\d+]", "", text)
    if "*" in text or len(digits) < 5:
        return escape(text or "—")
    return Markup('<a class="mono tel" href="tel:{}">{}</a>').format(digits, text)
