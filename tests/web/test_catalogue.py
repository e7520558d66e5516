"""The gettext catalogues, checked with Babel's extraction (`python -m tools.catalogue check` says the same)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import catalogue

PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'


def test_catalogues_are_complete_and_translated():
    problems = catalogue.problems()
    assert not problems, "\n".join(map(str, problems))


def test_extraction_finds_template_and_python_keys():
    keys = {use.key for use in catalogue.extracted()}
    assert {"customers.title", "error.home", "login.submit"} <= keys


@pytest.fixture
def planted(tmp_path: Path, monkeypatch):
    """Two small catalogues with one of each problem, and one key used in a template but defined nowhere."""
    files = {
        "zh": 'msgid "ok"\nmsgstr "好"\n\nmsgid "empty"\nmsgstr ""\n\n#, fuzzy\nmsgid "vague"\nmsgstr "大概"\n\n'
              'msgid "channels"\nmsgstr "email wecom"\n\nmsgid "count"\nmsgstr "共 {n} 条"\n\nmsgid "vin"\nmsgstr "VIN"\n',
        "en": 'msgid "ok"\nmsgstr "Good"\n\nmsgid "empty"\nmsgstr "Empty"\n\nmsgid "vague"\nmsgstr "Roughly"\n\n'
              'msgid "channels"\nmsgstr "email wecom"\n\nmsgid "count"\nmsgstr "{count} rows"\n\nmsgid "vin"\nmsgstr "VIN"\n\n'
              'msgid "only.en"\nmsgstr "Only English"\n',
    }
    for lang, body in files.items():
        (tmp_path / f"{lang}.po").write_text(PO_HEADER + body, encoding="utf-8")
    monkeypatch.setattr(catalogue, "po_path", lambda lang: tmp_path / f"{lang}.po")
    monkeypatch.setattr(catalogue, "ROOT", tmp_path)
    monkeypatch.setattr(catalogue, "extracted", lambda: [catalogue.Use("page.title", "api/x/templates/x/page.html", 3)])
    return [str(problem) for problem in catalogue.problems()]


def test_check_catches_untranslated_fuzzy_missing_and_latin_chinese(planted):
    assert "zh.po empty: untranslated" in planted
    assert "zh.po vague: fuzzy: check the text and remove the fuzzy flag" in planted
    assert "en.po only.en: missing from the zh catalogue" in planted
    assert "api/x/templates/x/page.html:3: key 'page.title' is not in the zh catalogue" in planted
    assert "zh channels: Chinese text is Latin words only: 'email wecom'" in planted
    assert "count: placeholders differ: '共 {n} 条' / '{count} rows'" in planted
    assert not [p for p in planted if p.startswith(("zh.po ok", "zh vin", "vin"))]
