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


def test_templates_take_their_text_from_the_catalogues():
    """A literal `tr("中文", "English")` is a second catalogue; `python -m tools.catalogue adopt` moves it."""
    found = [
        f"{path.relative_to(catalogue.ROOT)}: {match.group()}"
        for path in sorted(catalogue.ROOT.glob(catalogue.TEMPLATES))
        for match in catalogue.LITERAL_TR.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(found)


def test_adopt_moves_literal_pairs_into_the_catalogues(tmp_path: Path, monkeypatch):
    page = tmp_path / "api/reports/templates/reports/page.html"
    page.parent.mkdir(parents=True)
    page.write_text('<th>{{ tr("门店", "Store") }}</th><th>{{ tr(\'状态\', \'Status\') }}</th>{{ tr(p.zh, p.en) }}',
                    encoding="utf-8")
    for lang in catalogue.LOCALES:
        (tmp_path / f"{lang}.po").write_text(PO_HEADER + 'msgid "field.store"\nmsgstr "%s"\n'
                                             % ("门店" if lang == "zh" else "Store"), encoding="utf-8")
    monkeypatch.setattr(catalogue, "po_path", lambda lang: tmp_path / f"{lang}.po")
    monkeypatch.setattr(catalogue, "ROOT", tmp_path)

    catalogue.adopt()

    assert page.read_text(encoding="utf-8") == (
        '<th>{{ t("field.store") }}</th><th>{{ t("reports.page.status") }}</th>{{ tr(p.zh, p.en) }}'
    )
    assert catalogue.read_catalogue("zh")["reports.page.status"].string == "状态"
    assert catalogue.read_catalogue("en")["reports.page.status"].string == "Status"
