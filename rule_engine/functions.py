"""The function registry: names, arity, type rules and the one-line zh/en text the docs list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from rule_engine.messages import kind_phrase, phrase, type_phrase
from rule_engine.nodes import Field, Literal, Node
from rule_engine.types import NULL, NUMERIC, ORDERED, unify


class ArgTypeError(Exception):
    """Raised by a type rule; the checker turns it into a positioned RuleError.

    ``expected`` is a phrase of :mod:`rule_engine.messages`, so the error reads well in zh and en.
    """

    def __init__(self, index: int, expected: str) -> None:
        super().__init__(expected)
        self.index = index
        self.expected = expected


TypeRule = Callable[[list[str], tuple[Node, ...]], str]


@dataclass(frozen=True)
class FunctionSpec:
    """One DSL function; ``python_only`` functions are refused by ``to_sql``."""

    name: str
    signature: str
    min_args: int
    max_args: int | None
    en: str
    zh: str
    rule: TypeRule
    python_only: bool = False


def _want(types: list[str], i: int, allowed: frozenset[str] | set[str], expected: str) -> str:
    if types[i] not in allowed:
        raise ArgTypeError(i, expected)
    return types[i]


def _text_fn(result: str) -> TypeRule:
    def rule(types: list[str], _args: tuple[Node, ...]) -> str:
        for i in range(len(types)):
            _want(types, i, {"text"}, kind_phrase("text"))
        return result

    return rule


def _len(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, {"text", "list"}, phrase("text_or_list"))
    return "integer"


def _contains(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, {"text", "list"}, phrase("text_or_list"))
    _want(types, 1, {"text"}, kind_phrase("text"))
    return "boolean"


def _matches(types: list[str], args: tuple[Node, ...]) -> str:
    _want(types, 0, {"text"}, kind_phrase("text"))
    if not (isinstance(args[1], Literal) and args[1].kind == "text"):
        raise ArgTypeError(1, phrase("regex_literal"))
    return "boolean"


def _const(result: str) -> TypeRule:
    return lambda _types, _args: result


def _to_date(result: str) -> TypeRule:
    def rule(types: list[str], args: tuple[Node, ...]) -> str:
        if types[0] in ("date", "datetime"):
            return result
        if isinstance(args[0], Literal) and args[0].kind == "text":
            return result
        raise ArgTypeError(0, phrase("date_literal"))

    return rule


def _date_part(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, {"date", "datetime"}, phrase("date_or_datetime"))
    return "integer"


def _days_between(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, {"date", "datetime"}, phrase("date_or_datetime"))
    _want(types, 1, {"date", "datetime"}, phrase("date_or_datetime"))
    return "integer"


def _add_days(types: list[str], _args: tuple[Node, ...]) -> str:
    kind = _want(types, 0, {"date", "datetime"}, phrase("date_or_datetime"))
    _want(types, 1, {"integer"}, kind_phrase("integer"))
    return kind


def _same_numeric(types: list[str], _args: tuple[Node, ...]) -> str:
    return _want(types, 0, NUMERIC, kind_phrase("number"))


def _to_integer(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, NUMERIC, kind_phrase("number"))
    return "integer"


def _round(types: list[str], args: tuple[Node, ...]) -> str:
    kind = _want(types, 0, NUMERIC, kind_phrase("number"))
    if len(args) > 1:
        digits = args[1]
        value = digits.value if isinstance(digits, Literal) and digits.kind == "integer" else None
        if not (isinstance(value, int) and 0 <= value <= 10):
            raise ArgTypeError(1, phrase("round_digits"))
    return kind


def _min_max(types: list[str], _args: tuple[Node, ...]) -> str:
    result = _want(types, 0, ORDERED, phrase("ordered"))
    for i in range(1, len(types)):
        joined = unify(result, types[i])
        if joined is None or types[i] == NULL:
            raise ArgTypeError(i, phrase("same_as_first", kind=type_phrase(result)))
        result = joined
    return result


def _coalesce(types: list[str], _args: tuple[Node, ...]) -> str:
    result = types[0]
    for i in range(1, len(types)):
        joined = unify(result, types[i])
        if joined is None:
            raise ArgTypeError(i, phrase("same_as_others", kind=type_phrase(result)))
        result = joined
    if result in ("list", "lookup"):
        raise ArgTypeError(0, phrase("not_list_or_lookup"))
    return result


def _add_workdays(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, {"date"}, kind_phrase("date"))
    _want(types, 1, {"integer"}, kind_phrase("integer"))
    return "date"


def _workdays_between(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, {"date"}, kind_phrase("date"))
    _want(types, 1, {"date"}, kind_phrase("date"))
    return "integer"


def _words(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, NUMERIC, kind_phrase("number"))
    return "text"


def _is_blank(_types: list[str], _args: tuple[Node, ...]) -> str:
    return "boolean"


def _if(types: list[str], _args: tuple[Node, ...]) -> str:
    _want(types, 0, {"boolean"}, phrase("condition"))
    joined = unify(types[1], types[2])
    if joined is None:
        raise ArgTypeError(2, phrase("same_as_branch", kind=type_phrase(types[1])))
    if joined in ("list", "lookup"):
        raise ArgTypeError(1, phrase("not_list_or_lookup"))
    return joined


def _field_only(result: str | None) -> TypeRule:
    def rule(types: list[str], args: tuple[Node, ...]) -> str:
        if not (isinstance(args[0], Field) and len(args[0].path) == 1):
            raise ArgTypeError(0, phrase("field_name"))
        if types[0] == "lookup":
            raise ArgTypeError(0, phrase("not_lookup_field"))
        return result or types[0]

    return rule


_SPECS = [
    FunctionSpec(
        "len",
        "len(text | list) -> integer",
        1,
        1,
        "Number of characters in a text, or of items in a list.",
        "文本的字符数，或列表的元素个数。",
        _len,
    ),
    FunctionSpec(
        "lower", "lower(text) -> text", 1, 1, "The text in lower case.", "转换为小写。", _text_fn("text")
    ),
    FunctionSpec(
        "upper", "upper(text) -> text", 1, 1, "The text in upper case.", "转换为大写。", _text_fn("text")
    ),
    FunctionSpec(
        "trim",
        "trim(text) -> text",
        1,
        1,
        "The text without leading and trailing spaces, tabs and line breaks.",
        "去掉首尾的空格、制表符和换行。",
        _text_fn("text"),
    ),
    FunctionSpec(
        "contains",
        "contains(text | list, text) -> boolean",
        2,
        2,
        "Whether the text contains the given text, or the list holds the item.",
        "文本是否包含给定文本，或列表是否包含该元素。",
        _contains,
    ),
    FunctionSpec(
        "starts_with",
        "starts_with(text, text) -> boolean",
        2,
        2,
        "Whether the text begins with the given text.",
        "文本是否以给定文本开头。",
        _text_fn("boolean"),
    ),
    FunctionSpec(
        "ends_with",
        "ends_with(text, text) -> boolean",
        2,
        2,
        "Whether the text ends with the given text.",
        "文本是否以给定文本结尾。",
        _text_fn("boolean"),
    ),
    FunctionSpec(
        "matches",
        "matches(text, 'regex') -> boolean",
        2,
        2,
        "Whether a regular expression (a safe subset, as a literal) matches the text.",
        "正则表达式（安全子集，须为字面量）是否匹配该文本。",
        _matches,
    ),
    FunctionSpec(
        "today",
        "today() -> date",
        0,
        0,
        "Today's date (in the time zone of the evaluation time, UTC by default).",
        "今天的日期（按求值时间的时区，默认 UTC）。",
        _const("date"),
    ),
    FunctionSpec(
        "now", "now() -> datetime", 0, 0, "The current date and time.", "当前日期和时间。", _const("datetime")
    ),
    FunctionSpec(
        "date",
        "date(date | datetime | 'YYYY-MM-DD') -> date",
        1,
        1,
        "The date part of a datetime (UTC), or a date written as a literal.",
        "取日期时间的日期部分（UTC），或把字面量转为日期。",
        _to_date("date"),
    ),
    FunctionSpec(
        "datetime",
        "datetime(date | datetime | 'YYYY-MM-DDTHH:MM:SS') -> datetime",
        1,
        1,
        "Midnight UTC of a date, or a datetime written as a literal.",
        "日期当天零点（UTC），或把字面量转为日期时间。",
        _to_date("datetime"),
    ),
    FunctionSpec(
        "year", "year(date | datetime) -> integer", 1, 1, "The year of a date.", "日期的年份。", _date_part
    ),
    FunctionSpec(
        "month",
        "month(date | datetime) -> integer",
        1,
        1,
        "The month of a date (1-12).",
        "日期的月份（1-12）。",
        _date_part,
    ),
    FunctionSpec(
        "day",
        "day(date | datetime) -> integer",
        1,
        1,
        "The day of the month (1-31).",
        "日期是当月的第几天（1-31）。",
        _date_part,
    ),
    FunctionSpec(
        "days_between",
        "days_between(date | datetime, date | datetime) -> integer",
        2,
        2,
        "Calendar days from the first date to the second (negative if earlier).",
        "从第一个日期到第二个日期相差的天数（更早则为负）。",
        _days_between,
    ),
    FunctionSpec(
        "add_days",
        "add_days(date | datetime, integer) -> date | datetime",
        2,
        2,
        "The date moved by a number of days.",
        "日期加上若干天。",
        _add_days,
    ),
    FunctionSpec(
        "add_workdays",
        "add_workdays(date, integer) -> date",
        2,
        2,
        "The n-th working day after the date (before it when n is negative; the date itself for 0), "
        "by the mainland calendar with its holidays and make-up days; null outside 2015-2040.",
        "日期之后第 n 个工作日（n 为负则往前数，0 为当天），按内地节假日和调休安排；2015-2040 年以外为空。",
        _add_workdays,
    ),
    FunctionSpec(
        "workdays_between",
        "workdays_between(date, date) -> integer",
        2,
        2,
        "Working days after the first date up to and including the second (negative if earlier); "
        "null outside 2015-2040.",
        "第一个日期之后、到第二个日期为止（含）的工作日数（更早则为负）；2015-2040 年以外为空。",
        _workdays_between,
    ),
    FunctionSpec("abs", "abs(number) -> number", 1, 1, "The absolute value.", "绝对值。", _same_numeric),
    FunctionSpec(
        "round",
        "round(number, digits=0) -> number",
        1,
        2,
        "Rounded half away from zero to 0-10 decimal places.",
        "四舍五入（远离零）到 0-10 位小数。",
        _round,
    ),
    FunctionSpec(
        "floor",
        "floor(number) -> integer",
        1,
        1,
        "The largest integer not above the number.",
        "不大于该数的最大整数。",
        _to_integer,
    ),
    FunctionSpec(
        "ceil",
        "ceil(number) -> integer",
        1,
        1,
        "The smallest integer not below the number.",
        "不小于该数的最小整数。",
        _to_integer,
    ),
    FunctionSpec(
        "amount_in_words",
        "amount_in_words(number) -> text",
        1,
        1,
        "An amount in Chinese capital numerals as accountants write it (壹万贰仟叁佰肆拾伍元陆角柒分), "
        "rounded half up to the fen; null from 10^16 on; Python side only.",
        "金额的中文大写（壹万贰仟叁佰肆拾伍元陆角柒分），按会计基础工作规范写零和整，四舍五入到分；"
        "不能用于列表筛选和报表。",
        _words,
        python_only=True,
    ),
    FunctionSpec(
        "min",
        "min(value, value, ...) -> value",
        2,
        None,
        "The smallest of the values, ignoring nulls (null if all are null).",
        "各值中的最小值，忽略空值（全为空则为空）。",
        _min_max,
    ),
    FunctionSpec(
        "max",
        "max(value, value, ...) -> value",
        2,
        None,
        "The largest of the values, ignoring nulls (null if all are null).",
        "各值中的最大值，忽略空值（全为空则为空）。",
        _min_max,
    ),
    FunctionSpec(
        "coalesce",
        "coalesce(value, value, ...) -> value",
        1,
        None,
        "The first value that is not null.",
        "第一个非空的值。",
        _coalesce,
    ),
    FunctionSpec(
        "is_blank",
        "is_blank(value) -> boolean",
        1,
        1,
        "True when the value is null, blank text or an empty list.",
        "值为空、空白文本或空列表时为真。",
        _is_blank,
    ),
    FunctionSpec(
        "if",
        "if(condition, then, else) -> value",
        3,
        3,
        "`then` when the condition is true, otherwise `else` (also when unknown).",
        "条件为真时取第二个参数，否则（包括未知）取第三个。",
        _if,
    ),
    FunctionSpec(
        "changed",
        "changed(field) -> boolean",
        1,
        1,
        "Whether an update changed the field (false on create); Python side only.",
        "更新是否改变了该字段（新建时为假）；仅限触发规则。",
        _field_only("boolean"),
        python_only=True,
    ),
    FunctionSpec(
        "old",
        "old(field) -> value",
        1,
        1,
        "The field's value before the update (null on create); Python side only.",
        "更新前该字段的值（新建时为空）；仅限触发规则。",
        _field_only(None),
        python_only=True,
    ),
]

FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
"""Every DSL function by name; the docs and the builder list them from here."""
