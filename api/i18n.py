"""UI text in Simplified Chinese (default) and English, from gettext catalogues.

Every string the web UI shows comes from the catalogues by key: `t("customers.title")` in a
template, `translate("customers.title", lang)` in Python. A key's texts live in
api/locale/zh_CN/LC_MESSAGES/messages.po and api/locale/en/LC_MESSAGES/messages.po, read once at
start-up (no compile step; `python -m tools.catalogue` extracts and checks them, see the README).
The language is the session's choice (`/lang/zh`, `/lang/en`), Chinese when none was made.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import structlog
from babel.messages.pofile import read_po

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
SESSION_KEY = "lang"
LOCALE_DIR = Path(__file__).parent / "locale"
# Session language → gettext locale directory.
LOCALES = {"zh": "zh_CN", "en": "en"}

log = structlog.get_logger()


@cache
def catalogue(lang: str) -> dict[str, str]:
    """A language's texts by key (a fuzzy or empty entry counts as missing)."""
    with (LOCALE_DIR / LOCALES[lang] / "LC_MESSAGES" / "messages.po").open("rb") as fileobj:
        return {m.id: m.string for m in read_po(fileobj) if m.id and m.string and not m.fuzzy}


def has(key: str) -> bool:
    return key in catalogue(DEFAULT_LANGUAGE)


def translate(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """The text for `key` in `lang`, with `{name}` placeholders filled from `params`."""
    text = catalogue("en" if lang == "en" else DEFAULT_LANGUAGE).get(key)
    if text is None:
        log.warning("ui_text_missing", key=key, lang=lang)
        return key
    return text.format(**params) if params else text


def pick(zh: str, en: str, lang: str) -> str:
    """Choose between a Chinese and an English value held elsewhere (role titles, nav labels)."""
    return en if lang == "en" and en else zh


def language_of(connection: Any) -> str:
    """The caller's language: the session's choice, else Chinese.

    Works for requests that never reached the session middleware (e.g. an unknown URL), which get Chinese.
    """
    session = connection.scope.get("session")
    lang = session.get(SESSION_KEY) if isinstance(session, dict) else None
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE
