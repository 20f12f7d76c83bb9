"""The kernel's message catalogue: both languages everywhere, and every key a raise site names exists."""

from __future__ import annotations

import ast
import copy
import enum
import importlib
import pickle
import pkgutil
import re
import string
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import engine
from engine import messages
from engine.errors import InvalidInput, NotFound, TangramError
from engine.messages import MESSAGES, PHRASES, PROBLEMS, problem, render
from form_engine import Label, Problem

ROOT = Path(engine.__file__).parent
SOURCES = sorted(ROOT.rglob("*.py"))
HAN = re.compile(r"[\u4e00-\u9fff]")
#: Still raising with final (en, zh) text, until the rewrite under way there converts them.
CATALOGUES = {"MESSAGES": MESSAGES, "PROBLEMS": PROBLEMS, "PHRASES": PHRASES}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _error_classes() -> set[str]:
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        importlib.import_module(info.name)
    found, todo = set(), [TangramError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def _calls() -> list[tuple[str, ast.Call]]:
    """Every call in engine/, with the file it is in (relative to engine/)."""
    out = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out += [(path.relative_to(ROOT).as_posix(), n) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    return out


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _const(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keywords(call: ast.Call) -> set[str] | None:
    """The keyword names a call passes; None when it spreads ``**params`` (unknown statically)."""
    if any(k.arg is None for k in call.keywords):
        return None
    return {k.arg for k in call.keywords if k.arg is not None}


@pytest.mark.parametrize("catalogue", CATALOGUES)
def test_every_entry_has_zh_and_en_with_the_same_placeholders(catalogue: str) -> None:
    for key, pair in CATALOGUES[catalogue].items():
        assert set(pair) == {"zh", "en"}, key
        assert _placeholders(pair["zh"]) == _placeholders(pair["en"]), key
        assert not HAN.search(pair["en"]), key
        literal = string.Formatter().parse(pair["zh"])
        assert HAN.search(pair["zh"]) or not "".join(text for text, *_ in literal).strip(), key


def test_placeholders_never_take_the_names_the_constructors_reserve() -> None:
    for key, pair in MESSAGES.items():
        assert not _placeholders(pair["en"]) & {"problems", "details"}, key
    for key, pair in PROBLEMS.items():
        assert not _placeholders(pair["en"]) & {"field", "pointer", "reason", "label"}, key


def test_every_error_raised_in_engine_names_a_key_with_exactly_its_params() -> None:
    classes = _error_classes()
    checked = 0
    for where, call in _calls():
        if _name(call) not in classes or not call.args:
            continue
        assert len(call.args) == 1, f"{where}:{call.lineno} writes text; name a key"
        key = _const(call.args[0])
        assert key is not None and key in MESSAGES, f"{where}:{call.lineno}: no message {key!r}"
        passed = _keywords(call)
        if passed is not None:
            params = passed - {"problems", "details"}
            assert params == _placeholders(MESSAGES[key]["en"]), f"{where}:{call.lineno}: {key}"
        checked += 1
    assert checked > 40  # the walk found the raise sites


def test_every_problem_phrase_and_rendered_key_exists() -> None:
    checked = 0
    for where, call in _calls():
        name, args = _name(call), call.args
        key = _const(args[0]) if args else None
        if name == "problem" and key is not None:
            assert key in PROBLEMS, f"{where}:{call.lineno}: no problem {key!r}"
            passed = _keywords(call)
            if passed is not None:
                assert _placeholders(PROBLEMS[key]["en"]) <= passed, f"{where}:{call.lineno}: {key}"
        elif name == "unknown_name" and key is not None:
            assert key in PROBLEMS and {"name", "hint"} <= _placeholders(PROBLEMS[key]["en"])
        elif name == "phrase" and key is not None:
            assert key in PHRASES, f"{where}:{call.lineno}: no phrase {key!r}"
        elif name == "render" and key is not None and where != "messages.py":
            assert key in MESSAGES, f"{where}:{call.lineno}: no message {key!r}"
        else:
            continue
        checked += 1
    assert checked > 20
    # keys built at run time
    assert {"access.hidden", "access.readonly"} <= set(PHRASES)
    assert {"http.not_found", "http.method_not_allowed", "http.error"} <= set(MESSAGES)


def test_converted_code_keeps_no_chinese_outside_the_catalogue() -> None:
    allowed = {
        "messages.py",
        "http/factory.py",  # the OpenAPI description, one bilingual title
    }
    found = []
    for path in SOURCES:
        where = path.relative_to(ROOT).as_posix()
        if where in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        found += [
            f"{where}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and _const(node)
            and HAN.search(_const(node) or "")
            and id(node) not in docstrings
        ]
    assert not found, found


def test_an_error_renders_its_key_in_either_language() -> None:
    exc: TangramError = NotFound("user_not_found", user_id=7)
    assert (exc.code, exc.status, exc.key, exc.params) == ("not_found", 404, "user_not_found", {"user_id": 7})
    assert str(exc) == exc.message("en") == "no user with id 7"
    assert exc.message("zh-CN") == "没有编号为 7 的用户"
    label = Label(zh="商机", en="Deal")
    exc = InvalidInput("filter_invalid", detail=label, problems=[problem("owner_rule")], details={"a": 1})
    assert (exc.message("zh"), exc.message("en")) == ("筛选条件无效：商机", "the filter is not valid: Deal")
    assert [p.code for p in exc.problems] == ["owner_rule"] and exc.details == {"a": 1}


def test_an_unknown_key_or_a_missing_param_fails_at_the_raise_site() -> None:
    with pytest.raises(KeyError, match="no_such_message"):
        NotFound("no_such_message")
    with pytest.raises(KeyError, match="user_id"):
        NotFound("user_not_found")


def test_an_error_survives_copy_and_pickle() -> None:
    exc = NotFound("user_not_found", user_id=7, details={"id": 7})
    for clone in (copy.copy(exc), pickle.loads(pickle.dumps(exc))):
        assert type(clone) is NotFound and clone.key == "user_not_found" and clone.details == {"id": 7}
        assert clone.message("zh") == "没有编号为 7 的用户" and str(clone) == "no user with id 7"


def test_a_subclass_may_bring_its_own_catalogue() -> None:
    class FlowError(InvalidInput):
        catalogue = MappingProxyType({"stuck": {"zh": "流程 {name} 卡住了", "en": "flow {name} is stuck"}})

    exc = FlowError("stuck", name="approval")
    assert (exc.code, exc.message("zh"), str(exc)) == (
        "invalid_input",
        "流程 approval 卡住了",
        "flow approval is stuck",
    )


def test_a_problem_keeps_its_code_and_wording_when_copied() -> None:
    found = problem("field_hidden.query", field="budget", pointer="/filter", name="budget")
    assert (found.code, found.field, found.pointer) == ("field_hidden", "budget", "/filter")
    assert found.message("en") == "field 'budget' is hidden or masked for you"
    assert (
        problem("field_hidden", field="budget", name="budget").message("en")
        == "field 'budget' is hidden from you"
    )
    # what the record service does to nested problems: a new Problem from code and params
    copy = Problem(found.code, field=found.field, pointer="/items/0/budget", params=found.params)
    assert copy.message("zh") == "字段 budget 对您不可见"
    with pytest.raises(KeyError):
        problem("no_such_problem")


def test_a_problem_param_that_is_a_label_is_stored_in_both_languages() -> None:
    found = problem("missing_permission", permission=Label(zh="甲", en="A"))
    assert found.params["permission"] == {"zh": "甲", "en": "A"}
    assert (found.message("zh"), found.message("en")) == ("缺少权限 甲", "missing permission A")


def test_hints_and_name_lists() -> None:
    assert messages.did_you_mean("amount") == {
        "zh": "（是否想写 amount？）",
        "en": "; did you mean 'amount'?",
    }
    assert messages.did_you_mean(None) == {"zh": "", "en": ""}
    assert messages.name_list(["b", "a"]) == {"zh": "a、b", "en": "a, b"}
    assert messages.name_list([]) == {"zh": "无", "en": "none"}


class _Choice(enum.Enum):
    A = "a"
    B = "b"


class _Everything(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: int
    b: int
    c: float
    d: bool
    e: str
    f: str = Field(min_length=2)
    g: str = Field(max_length=1)
    h: dict[str, Any]
    i: list[Any]
    j: list[Any] = Field(min_length=1)
    k: list[Any] = Field(max_length=1)
    ge: int = Field(ge=1)
    le: int = Field(le=1)
    n: _Choice
    o: Literal["x", "y"]
    p: int


def test_request_problems_render_from_what_pydantic_reports() -> None:
    bad = dict(a="x", b=[], c="x", d="maybe", e=1, f="a", g="ab", h=1, i=1, j=[], k=[1, 2], ge=0, le=5)
    with pytest.raises(ValidationError) as caught:
        _Everything.model_validate({**bad, "n": "z", "o": "z", "p": 1.5, "extra": 1})
    errors = [*caught.value.errors(), *_missing()]
    seen = set()
    for err in errors:
        key = f"request.{err['type']}"
        if key in MESSAGES:
            for lang in ("zh", "en"):
                render(key, lang, err.get("ctx") or {})
            seen.add(key)
    assert render("request.json_invalid", "zh", {"error": "Expecting value"}).startswith(
        "请求体不是合法的 JSON"
    )
    assert "U+0000" in render("request.unstorable_text", "zh", {"char": "U+0000"})  # our own check
    expected = {key for key in MESSAGES if key.startswith("request.")} - {
        "request.json_invalid",
        "request.model_attributes_type",
        "request.unstorable_text",
        "request.not_nullable",  # our own validator's (engine/http/admin_routes.py UserChange)
    }
    assert expected <= seen, expected - seen


def _missing() -> list[Any]:
    try:
        _Everything.model_validate({})
    except ValidationError as exc:
        return exc.errors()[:1]
    raise AssertionError("validation passed")
