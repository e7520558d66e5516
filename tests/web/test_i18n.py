"""The UI text at run time: every key a template or page uses exists in both catalogues, both languages."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment

import api.app  # noqa: F401  (loads every area's pages and templates)
from api import i18n
from api.web.templating import _gettext

API = Path(__file__).resolve().parents[2] / "api"
_USES = re.compile(r"""\b(?:t|translate)\(\s*["']([\w.]+)["'](?!\s*~)""")


def test_every_key_used_in_templates_and_pages_exists():
    files = [*API.glob("**/templates/**/*.html"), *API.glob("**/*.py")]
    used = {key for path in files for key in _USES.findall(path.read_text(encoding="utf-8"))}
    assert used, "no UI text keys found: the pattern is out of date"
    for lang in i18n.LANGUAGES:
        assert sorted(used - set(i18n.catalogue(lang))) == [], lang


def test_translate_picks_language_and_fills_placeholders():
    assert i18n.translate("customers.title") == "客户档案"
    assert i18n.translate("customers.title", "en") == "Customer records"
    assert i18n.translate("customers.search.count", "zh", n=3) == "找到 3 位客户"
    assert i18n.translate("no.such.key", "en") == "no.such.key"


def test_jinja_i18n_extension_reads_the_same_catalogues():
    class Request:
        def __init__(self, lang):
            self.scope = {"session": {i18n.SESSION_KEY: lang}}

    environment = Environment(extensions=["jinja2.ext.i18n"])
    environment.install_gettext_callables(gettext=_gettext, ngettext=None)
    template = environment.from_string('{{ _("customers.title") }}')
    assert template.render(request=Request("zh")) == "客户档案"
    assert template.render(request=Request("en")) == "Customer records"


def test_every_notification_channel_has_a_label_in_both_languages():
    from crm.notify.tables import CHANNELS

    for lang in i18n.LANGUAGES:
        labels = [i18n.catalogue(lang).get(f"notify.channel.{channel}") for channel in CHANNELS]
        assert all(labels), lang
        assert labels != list(CHANNELS), lang
