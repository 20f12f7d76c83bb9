"""Text no database stores (NUL, lone surrogates) is found at any depth and named, never echoed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from form_engine import (
    FieldValueError,
    RecordInvalid,
    code_point,
    compile_entity,
    escape_unstorable,
    unstorable_in,
)
from tests.form_engine.factories import label, make_entity, make_field


def _problems(call: Callable[[], object]) -> dict[str | None, tuple[str, str]]:
    with pytest.raises(RecordInvalid) as info:
        call()
    return {p.field: (p.code, p.message("zh")) for p in info.value.problems}


def test_every_bad_string_is_found_with_its_path_keys_included() -> None:
    value = {"a": ["ok", "b\x00"], "k\ud800": 1, "z": {"q": "\udfff", "fine": "中文 ✓ 😀"}}
    assert list(unstorable_in(value)) == [
        (("a", 1), "\x00"),
        (("k\ud800",), "\ud800"),
        (("z", "q"), "\udfff"),
    ]


def test_paired_surrogates_and_ordinary_text_are_fine() -> None:
    assert list(unstorable_in(["😀", "\u200b", "\t\n", "（）", 1, None, True])) == []


def test_deep_nesting_does_not_exhaust_recursion() -> None:
    value: object = "\x00"
    for _ in range(5000):
        value = [value]
    assert len(list(unstorable_in(value))) == 1


def test_bad_characters_are_named_and_escaped_for_echoing() -> None:
    assert code_point("\x00") == "U+0000" and code_point("\ud800") == "U+D800"
    assert escape_unstorable("a\x00b\ud800") == "a\\u0000b\\ud800"


@pytest.mark.parametrize("type_", ["text", "long_text", "rich_text", "email", "phone", "url", "json", "tags"])
def test_every_text_like_type_refuses_it_through_coerce(type_: str) -> None:
    field = make_field(type_)
    for value in ("a\x00", ["a\ud800"]):
        with pytest.raises(FieldValueError) as info:
            field.field_type.coerce(value, field)
        assert info.value.problem_code == "unstorable_text"


@pytest.mark.parametrize(("text", "char"), [("a\x00b", "U+0000"), ("a\ud800", "U+D800")])
def test_unstorable_text_is_refused_in_any_field_at_any_depth(text: str, char: str) -> None:
    runtime = compile_entity(
        make_entity(
            [
                {"name": "name", "type": "text", "label": label("Name", "名称")},
                {"name": "mail", "type": "email", "label": label("Mail")},
                {"name": "extra", "type": "json", "label": label("Extra")},
                {"name": "place", "type": "address", "label": label("Place")},
            ]
        )
    )
    data = {"name": text, "mail": f"{text}@example.com", "extra": {"k": [text]}, "place": {text: "x"}}
    found = _problems(lambda: runtime.validate(data))
    assert {name: code for name, (code, _) in found.items()} == dict.fromkeys(data, "unstorable_text")
    assert found["name"][1].startswith("名称含有无法保存的字符 " + char)
