"""The UI text catalogue: every key a template or page uses exists, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import api.app  # noqa: F401  (loads every area's pages, which add their UI text with `i18n.extend`)
from api import i18n

API = Path(__file__).resolve().parents[2] / "api"
_USES = re.compile(r"""\b(?:t|translate)\(\s*["']([\w.]+)["']""")


def test_every_key_used_in_templates_and_pages_exists():
    files = [*API.glob("**/templates/**/*.html"), *API.glob("**/*.py")]
    used = {key for path in files for key in _USES.findall(path.read_text(encoding="utf-8"))}
    assert used, "no UI text keys found: the pattern is out of date"
    assert sorted(used - set(i18n.CATALOGUE)) == []


def test_every_text_has_chinese_and_english():
    for key, (zh, en) in i18n.CATALOGUE.items():
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_translate_picks_language_and_fills_placeholders():
    assert i18n.translate("customers.title") == "客户档案"
    assert i18n.translate("customers.title", "en") == "Customer records"
    assert i18n.translate("customers.search.count", "zh", n=3) == "找到 3 位客户"
    assert i18n.translate("no.such.key", "en") == "no.such.key"


def test_areas_cannot_redefine_each_others_text():
    with pytest.raises(ValueError, match="customers.title"):
        i18n.extend({"customers.title": ("客户", "Clients")})
    with pytest.raises(ValueError, match="English"):
        i18n.extend({"test.half": ("只有中文", "")})
    assert "test.half" not in i18n.CATALOGUE
