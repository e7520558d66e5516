"""Full-width punctuation in Chinese text: ，：；！？（）“” instead of , : ; ! ? ( ) "

    python -m tools.punctuation fix     # rewrite templates, the Chinese catalogue and Python messages in place
    python -m tools.punctuation check   # list what `fix` would change (tests/web/test_punctuation.py fails on it)

Where: the web templates (api/**/templates), the PDF templates (pdf_templates/), every msgstr of the Chinese
catalogue (api/locale/zh_CN), and the string literals holding Chinese in api/, crm/, tenants/ and workers/
(messages, labels, notification texts; not docstrings, comments or raw strings).

A mark is Chinese when its nearest neighbour (spaces skipped) is a Chinese character or Chinese punctuation,
or, for brackets, when they enclose Chinese. In a Chinese catalogue text every mark is, except between digits
(09:00, 2,000), in URLs and in {placeholders}. Jinja code, numbers, times, URLs and code stay ASCII. Spaces
around a converted mark go (全角标点自带间距). Safe to run again and again.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from tools.sources import ROOT, texts

FULL_WIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
TEMPLATE_GLOBS = ("api/**/templates/**/*.html", "pdf_templates/**/*.html")
PYTHON_DIRS = ("api", "crm", "tenants", "workers")
ZH_CATALOGUE = "api/locale/zh_CN/LC_MESSAGES/messages.po"

# Stands for code (Jinja blocks, {placeholders}, URLs) while reading the text around it: never changed,
# neither Chinese nor space.
_CODE = "\x00"
_CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2026\u201c\u201d\u2014]")
_IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_JINJA_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'")
_PROTECTED = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*://[^\s，。；！？）]*"  # URLs
    r"|{[^{}\s]*}|%\(\w+\)[sd]|%[sd]|&#?\w+;"  # placeholders, HTML entities
    r"|[A-Za-z][A-Za-z0-9_-]*\([^()]*\)"  # a formula: HMAC-SHA256(密钥, "…")
)
# A colon or bracket joining Jinja output to text or other output (`{{ t("x") }}:<code>`, `>({{ level }})`):
# its language is the page's, so it comes from the catalogue (ui.colon ：/": ", ui.open （/" (", ui.close ）/")").
_JOINS = re.compile(r"(?<=}})[ \t]*([:()])(?=[ \t]*(?:<|{{|{%|[\u4e00-\u9fff]))"
                    r"|(?<=}}|%}|.>)[ \t]*([:()])(?=[ \t]*{{)")
_JOIN_KEYS = {":": "ui.colon", "(": "ui.open", ")": "ui.close"}
_QUOTED = re.compile(r'"([^"\n]*[\u4e00-\u9fff][^"\n]*)"')


@dataclass(frozen=True)
class Violation:
    where: str
    text: str
    fixed: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r} → {self.fixed!r}"


def fix_chinese(text: str, *, strict: bool = False) -> str:
    """`text` with the marks that belong to Chinese made full-width (strict: all of them, a zh catalogue value)."""
    return _until_stable(lambda text: _apply(text, _edits(_protect(text), strict=strict, quotes=strict)), text)


def fix_template(source: str) -> str:
    """Text and attribute values between the Jinja blocks, and the string literals inside them."""
    return _until_stable(_fix_template_once, source)


def _fix_template_once(source: str) -> str:
    source = _JOINS.sub(_join_text, source)
    edits = []
    view = _JINJA.sub(lambda m: _CODE * len(m.group()), source)
    view = _PROTECTED.sub(lambda m: _CODE * len(m.group()), view)
    edits += _edits(view)
    for block in _JINJA.finditer(source):
        if block.group().startswith("{#"):
            continue
        for literal in _JINJA_STRING.finditer(block.group()):
            group = 1 if literal.group(1) is not None else 2
            body = literal.group(group)
            if _mostly_chinese(body):
                start = block.start() + literal.start(group)
                edits += [(start + i, start + j, new) for i, j, new in _edits(_protect(body))]
    return _apply(source, edits)


def fix_python(source: str) -> str:
    """The string literals holding Chinese; docstrings, comments, raw strings and bytes stay as they are."""
    return _until_stable(_fix_python_once, source)


def _fix_python_once(source: str) -> str:
    docstrings = _docstring_lines(source)
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    edits = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.STRING or not _IDEOGRAPH.search(token.string) or token.start[0] in docstrings:
            continue
        prefix = re.match(r"[a-zA-Z]*", token.string).group().lower()
        if "r" in prefix or "b" in prefix:
            continue
        quote = token.string[len(prefix):][:3] if token.string[len(prefix):][:3] in ('"""', "'''") else token.string[len(prefix)]
        body = token.string[len(prefix) + len(quote):-len(quote)]
        if not _mostly_chinese(body):
            continue
        view = _protect(body)
        if "f" in prefix:
            view = re.sub(r"{[^{}]*}", lambda m: _CODE * len(m.group()), view)
        start = offsets[token.start[0] - 1] + token.start[1] + len(prefix) + len(quote)
        edits += [(start + i, start + j, new) for i, j, new in _edits(view)]
    return _apply(source, edits)


def fix_catalogue(path: Path) -> str:
    """The Chinese catalogue with every msgstr fixed strictly, written the way tools.catalogue writes it."""
    from tools.catalogue import write_po_text

    with path.open("rb") as fileobj:
        catalog = read_po(fileobj)
    for message in catalog:
        if message.id and message.string:
            message.string = fix_chinese(message.string, strict=True)
    return write_po_text(catalog)


def violations(root: Path = ROOT) -> list[Violation]:
    """Every place `fix` would change, with the offending text and what it becomes."""
    found = []
    for path, source, fixed in _files(root):
        if source == fixed:
            continue
        where = str(path.relative_to(root))
        if path.suffix == ".po":
            found += _catalogue_violations(where, path)
        else:
            found += _line_violations(where, source, fixed)
    return found


def fix(root: Path = ROOT) -> list[Path]:
    changed = []
    for path, source, fixed in _files(root):
        if source != fixed:
            path.write_text(fixed, encoding="utf-8")
            changed.append(path)
    return changed


def _files(root: Path) -> Iterator[tuple[Path, str, str]]:
    for path, source in texts(root, *TEMPLATE_GLOBS):
        yield path, source, fix_template(source)
    for path, source in texts(root, *(f"{directory}/**/*.py" for directory in PYTHON_DIRS)):
        if "piccolo_migrations" in path.parts or not _IDEOGRAPH.search(source):
            continue
        yield path, source, fix_python(source)
    catalogue = root / ZH_CATALOGUE
    if catalogue.exists():
        yield catalogue, catalogue.read_text(encoding="utf-8"), fix_catalogue(catalogue)


def _catalogue_violations(where: str, path: Path) -> list[Violation]:
    with path.open("rb") as fileobj:
        catalog = read_po(fileobj)
    found = []
    for message in catalog:
        if message.id and message.string:
            fixed = fix_chinese(message.string, strict=True)
            if fixed != message.string:
                found.append(Violation(f"{where} msgid {message.id!r}", message.string, fixed))
    return found


def _line_violations(where: str, source: str, fixed: str) -> list[Violation]:
    old_lines, new_lines = source.splitlines(), fixed.splitlines()
    return [
        Violation(f"{where}:{number}", old.strip(), new.strip())
        for number, (old, new) in enumerate(zip(old_lines, new_lines), start=1)
        if old != new
    ]


def _join_text(match: re.Match) -> str:
    return '{{ t("%s") }}' % _JOIN_KEYS[match.group(1) or match.group(2)]


def _protect(text: str) -> str:
    return _PROTECTED.sub(lambda m: _CODE * len(m.group()), text)


def _edits(view: str, *, strict: bool = False, quotes: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, replacement) edits on `view` (same length as the text it stands for)."""
    convert = set()
    for i, char in enumerate(view):
        if char in ",:;!?":
            left, right = _neighbour(view, i, -1), _neighbour(view, i, +1)
            if 0 < i < len(view) - 1 and view[i - 1].isdigit() and view[i + 1].isdigit():
                continue
            if strict or _is_chinese(left) or _is_chinese(right):
                convert.add(i)
    for opening, closing in _bracket_pairs(view):
        before, after = _neighbour(view, opening, -1), _neighbour(view, closing, +1)
        enclosing_chinese = _IDEOGRAPH.search(view[opening + 1:closing]) and not _latin(before) and not _latin(after)
        if strict or _is_chinese(before) or _is_chinese(after) or enclosing_chinese:
            convert |= {opening, closing}
    edits = []
    for i in sorted(convert):
        start, end = i, i + 1
        while start > 0 and view[start - 1] == " " and (start - 1) not in convert:
            start -= 1
        while end < len(view) and view[end] == " " and end not in convert:
            end += 1
        if view[i] in ",:;!?" and end < len(view) and view[end] in "\n":
            end = i + 1
        edits.append((start, end, FULL_WIDTH[view[i]]))
    if quotes:
        for match in _QUOTED.finditer(view):
            edits += [(match.start(), match.start() + 1, "“"), (match.end() - 1, match.end(), "”")]
    return _merge(edits)


def _merge(edits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Drop edits overlapping an earlier one (two marks sharing the spaces between them)."""
    merged: list[tuple[int, int, str]] = []
    for start, end, new in sorted(edits):
        if merged and start < merged[-1][1]:
            start = merged[-1][1]
            if start >= end:
                continue
        merged.append((start, end, new))
    return merged


def _until_stable(fix_once, text: str) -> str:
    """A converted mark can make its neighbour Chinese too: `(第2次):` → `（第2次）：`."""
    for _ in range(10):
        fixed = fix_once(text)
        if fixed == text:
            return text
        text = fixed
    return text


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _neighbour(view: str, i: int, step: int) -> str:
    """The nearest character that is neither a space nor code (a line break ends the search)."""
    i += step
    while 0 <= i < len(view) and view[i] in " \t" + _CODE:
        i += step
    if not 0 <= i < len(view) or view[i] == "\n":
        return ""
    return view[i]


def _mostly_chinese(literal: str) -> bool:
    """A string literal is Chinese text when its Chinese characters outweigh its Latin letters (3 letters ≈ 1
    character); an English message quoting a Chinese word ("Liable (有责)") keeps its ASCII marks."""
    view = _protect(literal)
    return 3 * len(_IDEOGRAPH.findall(view)) > len(re.findall(r"[A-Za-z]", view))


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _is_chinese(char: str) -> bool:
    return bool(char) and bool(_CHINESE.match(char))


def _bracket_pairs(view: str) -> Iterator[tuple[int, int]]:
    """Matching ( ) on one line."""
    stack: list[int] = []
    for i, char in enumerate(view):
        if char == "(":
            stack.append(i)
        elif char == ")" and stack:
            yield stack.pop(), i
        elif char == "\n":
            stack.clear()


def _docstring_lines(source: str) -> set[int]:
    lines = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            lines.add(body[0].lineno)
    return lines


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "fix":
        for path in fix():
            print("fixed", path.relative_to(ROOT))
    elif command == "check":
        found = violations()
        for violation in found:
            print(violation)
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
