"""The engines know nothing of the templates: a CRM is one configuration, not code.

Every entity name of every bundled template is looked for as an identifier or a code-like string
literal in the engine packages. Words that are also ordinary programming words are left out, each
for the reason given, so a hit is a template leaking into an engine, not a false alarm.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from pathlib import Path

import templates_library

ROOT = Path(__file__).parents[2]
ENGINES = ("engine", "form_engine", "rule_engine", "flow_engine", "report_engine", "builder_ui")
#: Entity names that are programming words too: what they mean in engine code.
GENERIC = {
    "quote": "quoting identifiers in SQL and in the DSL's parser",
    "contact": "the field-type module of contact details (e-mail, phone, URL)",
}


def template_words() -> set[str]:
    names = {
        e["name"]
        for t in templates_library.available()
        for e in templates_library.load(t["name"])["entities"]
    }
    return {n for n in names if not keyword.iskeyword(n) and not keyword.issoftkeyword(n)} - set(GENERIC)


def hits_in(source: str, words: set[str]) -> list[tuple[int, str]]:
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in words:
            found.append((token.start[0], token.string))
        elif token.type == tokenize.STRING:
            inner = re.sub(r"^[rbfuRBFU]*(\"\"\"|'''|\"|')|(\"\"\"|'''|\"|')$", "", token.string)
            if inner in words:
                found.append((token.start[0], token.string))
    return found


def test_hits_are_found_in_code_but_not_in_prose() -> None:
    code = "def f(lead):\n    '''A lead is prose here.'''\n    return {'opportunity': lead}\n"
    assert hits_in(code, {"lead", "opportunity"}) == [(1, "lead"), (3, "'opportunity'"), (3, "lead")]


def test_no_engine_names_a_template_entity() -> None:
    words = template_words()
    assert {"lead", "opportunity", "equipment", "work_order"} <= words
    engines = [ROOT / name for name in ENGINES if (ROOT / name).is_dir()]
    assert len(engines) >= 3
    leaks = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for engine in engines
        for path in sorted(engine.rglob("*.py"))
        for line, text in hits_in(path.read_text("utf-8"), words)
    ]
    assert leaks == []
