"""The translation catalog: every msgid the code and templates use is there, translated, not fuzzy.

Msgids are English, so an English page needs no catalog of its own: what a page says in English is
the msgid itself. The Chinese catalog must therefore hold every msgid, each with a real msgstr.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "web" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
CJK = re.compile(r"[\u3400-\u9fff]")


def _catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh")


def test_no_empty_or_fuzzy_translation():
    bad = [
        m.id
        for m in _catalog()
        if m.id and (m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert not bad, bad


def test_every_msgid_is_english_and_translated_to_chinese():
    catalog = _catalog()
    # The import sheet's own cell values (是/否) are Chinese in either language.
    not_english = [m.id for m in catalog if m.id and CJK.search(str(m.id)) and m.id != "write 是 or 否"]
    assert not not_english, not_english
    untranslated = [m.id for m in catalog if m.id and isinstance(m.string, str) and not CJK.search(m.string)]
    # A few msgids are the same in both languages (units, abbreviations, formats).
    assert all(len(re.sub(r"%\(\w+\)s|[^A-Za-z]", "", m)) <= 4 for m in untranslated), untranslated


def test_every_msgid_in_the_code_is_in_the_catalog():
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    method_map = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
    used = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords=keywords, options_map={}
        )
        if isinstance(message, str) and message
    }
    known = {m.id for m in _catalog()}
    assert len(used) > 300
    missing = sorted(used - known)
    assert not missing, missing


def _domain_error_names() -> set[str]:
    import importlib
    import pkgutil

    import web
    from web.errors import DomainError

    for module in pkgutil.walk_packages(web.__path__, "web."):
        importlib.import_module(module.name)
    names, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


def test_every_refusal_a_service_words_is_a_msgid_of_the_catalog():
    """A domain error's message (and each field's) is a catalog msgid or a lazy string with named values,
    so that it reads in the language of the request: never an f-string, which no catalog can hold."""
    names, known = _domain_error_names(), {m.id for m in _catalog()}
    wrong = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in names:
                messages = node.args[1:2] if func.attr == "on" else []
            elif isinstance(func, ast.Name) and func.id in names:
                messages = node.args[:1]
                for fields in [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "fields")]:
                    if isinstance(fields, ast.Dict):
                        for value in fields.values:
                            messages += value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
            else:
                continue
            for message in messages:
                where = f"{path.relative_to(ROOT)}:{message.lineno}"
                if isinstance(message, ast.JoinedStr):
                    wrong.append(f"{where} f-string")
                elif isinstance(message, ast.Constant) and message.value not in known:
                    wrong.append(f"{where} not in the catalog: {message.value!r}")
    assert len(names) > 10
    assert not wrong, wrong
