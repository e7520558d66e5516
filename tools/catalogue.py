"""The UI text catalogues: gettext .po files under api/locale, one per language, keyed by message key.

    python -m tools.catalogue extract      # write api/locale/messages.pot from the templates and Python (Babel)
    python -m tools.catalogue update       # extract, then add every new key to both .po files, untranslated
    python -m tools.catalogue absorb [F…]  # move `extend({key: (中文, English)})` texts from Python into the .po files
    python -m tools.catalogue adopt        # turn a template's literal `tr("中文", "English")` into `t("key")`
    python -m tools.catalogue check        # what tests/web/test_catalogue.py checks, as a report

A key's Chinese text is its msgstr in zh_CN/LC_MESSAGES/messages.po, its English text in en/LC_MESSAGES/messages.po.
`update` never drops an entry: keys built at run time (`t("complaints.done." ~ done)`) are not extractable.
`absorb` takes a file outside the repository read-only (e.g. another branch's api/i18n.py from `git show`), so
text added the old way on a branch ends up in the catalogues after a merge.
"""

from __future__ import annotations

import ast
import io
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from tools.sources import ROOT, texts

LOCALE_DIR = ROOT / "api" / "locale"
POT = LOCALE_DIR / "messages.pot"
MAPPING = ROOT / "babel.cfg"
# The helpers that take a message key first: `t("key")` in templates, `translate("key", lang)` in Python,
# and Jinja's own `_()` / `gettext()`.
KEYWORDS = {"t": None, "translate": None, "_": None, "gettext": None}
# Session language → gettext locale.
LOCALES = {"zh": "zh_CN", "en": "en"}
# Chinese texts that are rightly the same Latin letters in both languages.
SAME_IN_BOTH = {"VIN", "PDF", "CSV", "Excel", "XLSX", "DMS", "ID", "API", "URL", "SMTP", "KPI", "CSI", "SSI", "NPS", "4S"}

_PLACEHOLDER = re.compile(r"{(\w+)}")
# Chinese an English text rightly quotes: the values a user types, in brackets or quotes.
_QUOTED = re.compile(r"\([^)]*\)|“[^”]*”|\"[^\"]*\"")


def po_path(lang: str) -> Path:
    return LOCALE_DIR / LOCALES[lang] / "LC_MESSAGES" / "messages.po"


def read_catalogue(lang: str) -> Catalog:
    with po_path(lang).open("rb") as fileobj:
        return read_po(fileobj, locale=LOCALES[lang])


def write_catalogue(lang: str, catalog: Catalog) -> None:
    po_path(lang).parent.mkdir(parents=True, exist_ok=True)
    po_path(lang).write_text(write_po_text(catalog), encoding="utf-8")


def write_po_text(catalog: Catalog) -> str:
    """Sorted by key and without source locations, so branches adding keys rarely conflict."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, no_location=True, sort_output=True, ignore_obsolete=True)
    return buffer.getvalue().decode("utf-8")


def new_catalogue(lang: str) -> Catalog:
    return Catalog(locale=LOCALES[lang], domain="messages", project="dealerdesk", version="0.1.0",
                   copyright_holder="dealerdesk", fuzzy=False)


@dataclass(frozen=True)
class Use:
    """A message key found by extraction, with where it was found."""

    key: str
    path: str
    line: int


def extracted() -> list[Use]:
    """Every literal key passed to t/translate/_/gettext in api/ (templates and Python), by Babel's extractors."""
    with MAPPING.open() as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(MAPPING))
    uses = []
    for path, line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS,
    ):
        key = message[0] if isinstance(message, tuple) else message
        if key:
            uses.append(Use(key, path, line))
    return uses


def extract() -> Catalog:
    """Write messages.pot (with source locations, for translators and tools)."""
    pot = Catalog(project="dealerdesk", version="0.1.0", copyright_holder="dealerdesk", fuzzy=False)
    for use in extracted():
        pot.add(use.key, locations=[(use.path, use.line)])
    if POT.exists():
        with POT.open("rb") as fileobj:
            pot.creation_date = read_po(fileobj).creation_date
    buffer = io.BytesIO()
    write_po(buffer, pot, width=100, sort_output=True)
    POT.parent.mkdir(parents=True, exist_ok=True)
    POT.write_bytes(buffer.getvalue())
    return pot


def update() -> list[str]:
    """Extract, then add the keys missing from each .po file as untranslated entries; nothing is dropped."""
    pot = extract()
    added = []
    for lang in LOCALES:
        catalog = read_catalogue(lang)
        for message in pot:
            if message.id and message.id not in catalog:
                catalog.add(message.id, "")
                added.append(f"{lang}: {message.id}")
        write_catalogue(lang, catalog)
    return added


def absorb(paths: Iterable[Path]) -> list[str]:
    """Move `extend({...})` calls and a `CATALOGUE = {...}` literal into the .po files.

    A file inside api/ loses its `extend` calls (and the import); any other file (api/i18n.py, or a copy of
    another branch's files) is only read. A key already in the catalogues takes the absorbed text.
    """
    catalogs = {lang: read_catalogue(lang) if po_path(lang).exists() else new_catalogue(lang) for lang in LOCALES}
    report = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        texts, spans = _texts_in(source)
        for key, (zh, en) in texts.items():
            for lang, text in (("zh", zh), ("en", en)):
                old = catalogs[lang].get(key)
                if old is not None and old.string and old.string != text:
                    report.append(f"{path}: {key} [{lang}] {old.string!r} → {text!r}")
                catalogs[lang].add(key, text)
        report.append(f"{path}: {len(texts)} texts")
        if spans and _owned(path) and path.resolve() != (ROOT / "api" / "i18n.py"):
            path.write_text(_without(source, spans), encoding="utf-8")
    for lang, catalog in catalogs.items():
        write_catalogue(lang, catalog)
    return report


TEMPLATES = "api/**/templates/**/*.html"
# `tr("中文", "English")` with two literal texts: text that belongs in the catalogues.
LITERAL_TR = re.compile(r"""\btr\(\s*(["'])((?:(?!\1).)*)\1\s*,\s*(["'])((?:(?!\3).)*)\3\s*\)""")


def adopt() -> list[str]:
    """Replace every literal `tr("中文", "English")` in the templates by `t("key")`, the texts going to the catalogues.

    The key is `<area>.<template>.<english words>`; a pair already in the catalogues under the area's or a
    shared `field.` key keeps that key.
    """
    catalogs = {lang: read_catalogue(lang) for lang in LOCALES}
    by_pair: dict[tuple[str, str], list[str]] = {}
    for message in catalogs["zh"]:
        if message.id and message.id in catalogs["en"]:
            by_pair.setdefault((message.string, catalogs["en"][message.id].string), []).append(message.id)
    report = []
    for path, source in texts(ROOT, TEMPLATES):
        area = path.parent.name

        def to_key(match: re.Match, path: Path = path, area: str = area) -> str:
            pair = (match.group(2), match.group(4))
            keys = [k for k in by_pair.get(pair, []) if k.startswith(("field.", area.rstrip("s")))]
            key = keys[0] if keys else None
            if key is None:
                key = _new_key(path, pair[1], catalogs)
                for lang, text in zip(LOCALES, pair, strict=True):
                    catalogs[lang].add(key, text)
                by_pair.setdefault(pair, []).append(key)
            report.append(f"{path.relative_to(ROOT)}: {key}")
            return f't("{key}")'

        adopted = LITERAL_TR.sub(to_key, source)
        if adopted != source:
            path.write_text(adopted, encoding="utf-8")
    for lang, catalog in catalogs.items():
        write_catalogue(lang, catalog)
    return report


def _new_key(path: Path, english: str, catalogs: dict[str, Catalog]) -> str:
    area, stem = path.parent.name, path.stem.lstrip("_")
    words = re.findall(r"[a-z0-9]+", english.lower())[:4] or ["text"]
    base = f"{area}.{stem}.{'_'.join(words)}" if stem != area else f"{area}.{'_'.join(words)}"
    key, n = base, 2
    while key in catalogs["zh"]:
        key, n = f"{base}_{n}", n + 1
    return key


@dataclass(frozen=True)
class Problem:
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def problems() -> list[Problem]:
    """Keys used but missing, untranslated or fuzzy entries, placeholder mismatches, Chinese left in English."""
    found = []
    catalogs = {lang: read_catalogue(lang) for lang in LOCALES}
    for lang, catalog in catalogs.items():
        where = str(po_path(lang).relative_to(ROOT))
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                found.append(Problem(f"{where} {message.id}", "fuzzy: check the text and remove the fuzzy flag"))
            if not message.string or not message.string.strip():
                found.append(Problem(f"{where} {message.id}", "untranslated"))
        other = catalogs["en" if lang == "zh" else "zh"]
        for message in catalog:
            if message.id and message.id not in other:
                found.append(Problem(f"{where} {message.id}", f"missing from the {'en' if lang == 'zh' else 'zh'} catalogue"))
    for use in extracted():
        for lang, catalog in catalogs.items():
            if use.key not in catalog:
                found.append(Problem(f"{use.path}:{use.line}", f"key {use.key!r} is not in the {lang} catalogue"))
    zh, en = catalogs["zh"], catalogs["en"]
    for message in zh:
        if not message.id or not message.string or message.id not in en or not en[message.id].string:
            continue
        zh_text, en_text = message.string, en[message.id].string
        if set(_PLACEHOLDER.findall(zh_text)) != set(_PLACEHOLDER.findall(en_text)):
            found.append(Problem(f"{message.id}", f"placeholders differ: {zh_text!r} / {en_text!r}"))
        if _untranslated_chinese(zh_text):
            found.append(Problem(f"zh {message.id}", f"Chinese text is Latin words only: {zh_text!r}"))
        if re.search(r"[\u4e00-\u9fff]", _QUOTED.sub("", en_text)):
            found.append(Problem(f"en {message.id}", f"English text holds Chinese: {en_text!r}"))
    return found


def _untranslated_chinese(text: str) -> bool:
    """A Chinese text made only of Latin words (and no known acronym): someone forgot to translate it."""
    words = re.findall(r"[A-Za-z][A-Za-z-]*", _PLACEHOLDER.sub("", text))
    if re.search(r"[\u4e00-\u9fff]", text) or not words:
        return False
    return not all(word in SAME_IN_BOTH for word in words)


def _texts_in(source: str) -> tuple[dict[str, tuple[str, str]], list[tuple[int, int]]]:
    """The (中文, English) texts of a module's `extend({...})` calls and `CATALOGUE` literal, and the calls' lines."""
    texts: dict[str, tuple[str, str]] = {}
    spans = []
    for node in ast.parse(source).body:
        literal = None
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if isinstance(call.func, ast.Name) and call.func.id == "extend" and call.args:
                literal = call.args[0]
                spans.append((node.lineno, node.end_lineno))
        elif isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "CATALOGUE" for t in targets):
                literal = node.value
        if isinstance(literal, ast.Dict):
            for key, pair in ast.literal_eval(literal).items():
                texts[key] = tuple(pair)
    return texts, spans


def _owned(path: Path) -> bool:
    try:
        path.resolve().relative_to(ROOT / "api")
    except ValueError:
        return False
    return True


def _without(source: str, spans: list[tuple[int, int]]) -> str:
    """The module without the given statements and without `extend` in its `api.i18n` import."""
    lines = source.splitlines(keepends=True)
    for start, end in sorted(spans, reverse=True):
        del lines[start - 1:end]
        if start - 1 < len(lines) and not lines[start - 1].strip() and start > 1 and not lines[start - 2].strip():
            del lines[start - 1]
    text = "".join(lines)
    text = re.sub(r"^from api\.i18n import extend\n", "", text, flags=re.MULTILINE)
    text = re.sub(r"^(from api\.i18n import .*?)\bextend, |^(from api\.i18n import .*?), extend\b",
                  lambda m: m.group(1) or m.group(2), text, flags=re.MULTILINE)
    return re.sub(r"\n{4,}", "\n\n\n", text)


def _default_sources() -> Iterator[Path]:
    for path, source in texts(ROOT, "api/**/*.py"):
        if re.search(r"^extend\(", source, flags=re.MULTILINE):
            yield path


def main(argv: list[str]) -> int:
    command, *args = argv or ["check"]
    if command == "extract":
        print(f"{len(extract())} keys → {POT.relative_to(ROOT)}")
    elif command == "update":
        for line in update():
            print("added, untranslated:", line)
    elif command == "absorb":
        for line in absorb([Path(a) for a in args] or _default_sources()):
            print(line)
    elif command == "adopt":
        for line in adopt():
            print("adopted", line)
    elif command == "check":
        found = problems()
        for problem in found:
            print(problem)
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

