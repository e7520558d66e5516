"""Chinese text uses full-width punctuation: ，：；！？（）“” (tools/punctuation.py fixes what this finds)."""

from __future__ import annotations

from pathlib import Path

from tools import punctuation
from tools.punctuation import fix_chinese, fix_python, fix_template

PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'


def test_templates_messages_and_catalogue_use_full_width_punctuation():
    found = punctuation.violations()
    assert not found, "ASCII punctuation in Chinese text (run `python -m tools.punctuation fix`):\n" + "\n".join(
        map(str, found)
    )


def test_checker_names_file_line_key_and_text_of_planted_violations(tmp_path: Path):
    (tmp_path / "api/x/templates/x").mkdir(parents=True)
    (tmp_path / "api/x/templates/x/page.html").write_text(
        '<p>{{ t("ok") }}</p>\n<p>注意:该客户有投诉,可能是重复投诉!</p>\n', encoding="utf-8"
    )
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm/messages.py").write_text(
        '"""说明(文档字符串不算)."""\nOK = ("已保存。", "Saved.")\nBAD = ("请检查(必填)", "Check (required)")\n', encoding="utf-8"
    )
    po = tmp_path / punctuation.ZH_CATALOGUE
    po.parent.mkdir(parents=True)
    po.write_text(PO_HEADER + 'msgid "a.b"\nmsgstr "{name}:{note}"\n\nmsgid "c"\nmsgstr "09:00 开始"\n', encoding="utf-8")

    found = [str(v) for v in punctuation.violations(tmp_path)]

    assert found == [
        "api/x/templates/x/page.html:2: '<p>注意:该客户有投诉,可能是重复投诉!</p>' → '<p>注意：该客户有投诉，可能是重复投诉！</p>'",
        "crm/messages.py:3: 'BAD = (\"请检查(必填)\", \"Check (required)\")' → 'BAD = (\"请检查（必填）\", \"Check (required)\")'",
        "api/locale/zh_CN/LC_MESSAGES/messages.po msgid 'a.b': '{name}:{note}' → '{name}：{note}'",
    ]
    punctuation.fix(tmp_path)
    assert punctuation.violations(tmp_path) == []


def test_marks_next_to_chinese_become_full_width():
    assert fix_chinese("已保存, 请刷新!") == "已保存，请刷新！"
    assert fix_chinese("里程(km)") == "里程（km）"
    assert fix_chinese("投诉已重开(第{n}次):{who}") == "投诉已重开（第{n}次）：{who}"


def test_english_numbers_times_urls_and_code_stay_ascii():
    assert fix_chinese("Saved, reload (F5)!") == "Saved, reload (F5)!"
    assert fix_chinese("09:00 至 18:00,共 2,000 条", strict=True) == "09:00 至 18:00，共 2,000 条"
    assert fix_chinese("如 smtp://user:pw@host:587?tls=1", strict=True) == "如 smtp://user:pw@host:587?tls=1"
    assert fix_chinese('签名为 HMAC-SHA256(密钥, "时间戳")', strict=True) == '签名为 HMAC-SHA256(密钥, "时间戳")'
    assert fix_chinese('请在"设置"中录入', strict=True) == "请在“设置”中录入"


def test_template_code_and_english_literals_are_left_alone():
    source = '{% if a and (b or c) %}{{ tr("趋势(按月)", "Trend (by month)") }}{% endif %}<a href="/x?q=1">查看</a>'
    assert fix_template(source) == source.replace("趋势(按月)", "趋势（按月）")


def test_python_docstrings_raw_strings_and_english_messages_are_left_alone():
    source = 'def f():\n    """检查(说明)."""\n    return re.compile(r"(省|市)"), "Liable (有责)", f"第{n}行:{p}"\n'
    assert fix_python(source) == source.replace('f"第{n}行:{p}"', 'f"第{n}行：{p}"')


def test_a_colon_or_bracket_joining_jinja_output_comes_from_the_catalogue():
    """Its language is the page's: ：（） in Chinese, ": (" in English."""
    assert fix_template('{{ t("a") }}:<code>{{ x }}</code>') == '{{ t("a") }}{{ t("ui.colon") }}<code>{{ x }}</code>'
    assert fix_template('<span class="muted">({{ label(l, x) }})</span>') == (
        '<span class="muted">{{ t("ui.open") }}{{ label(l, x) }}{{ t("ui.close") }}</span>'
    )
    for untouched in ('<a href="tel:{{ n }}">', '<a href="/x?a=1&amp;{{ q }}">', "{{ a }} · {{ b }}"):
        assert fix_template(untouched) == untouched
