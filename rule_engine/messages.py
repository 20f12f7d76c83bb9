"""Every :class:`~rule_engine.errors.RuleError` in Chinese and English, filled from its ``params``.

``MESSAGES[key]`` holds one ``{"zh": ..., "en": ...}`` pair of :meth:`str.format` templates. The key
is the error's ``code``, or ``"<code>.<reason>"`` when a code has several wordings and the raise
site names the one it means in ``params["reason"]``. The English template is the one ``str(exc)``
has always shown; nothing else produces English text for an error.

A param that is itself a sentence fragment (``found``/``expected`` of a type error, the detail of a
regular-expression error) is a :class:`Phrase`: a ``str`` holding the English words, so it compares,
prints and serialises exactly as before, which also knows its key in ``PHRASES`` and can say itself
in Chinese. Plain params (names, counts, the rule text the user wrote) are shown as they are.

>>> render("too_long", {"found": 12000, "expected": 10000}, "zh")
'规则长 12000 个字符，最多允许 10000 个字符'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

LANGUAGES: tuple[str, ...] = ("zh", "en")


def language(locale: str | None) -> str:
    """``"zh"`` for any Chinese locale (``zh``, ``zh-CN``, ``zh_Hant``...), otherwise ``"en"``."""
    return "zh" if (locale or "").strip().lower().startswith("zh") else "en"


def _m(zh: str, en: str) -> Mapping[str, str]:
    return MappingProxyType({"zh": zh, "en": en})


_MESSAGES: dict[str, Mapping[str, str]] = {
    # parser
    "syntax": _m("遇到{found}，此处应为{expected}", "found {found}, expected {expected}"),
    "syntax.not_text": _m(
        "规则应为文本，实际是 {found} 类型的值", "found a {found}, expected the rule as text"
    ),
    "syntax.empty": _m("规则为空，请填写一个表达式", "found an empty rule, expected an expression"),
    "bad_literal.digits": _m(
        "数字超过 {max} 位，超出可保存的范围",
        "found a number of more than {max} digits, expected one a field can hold",
    ),
    "bad_literal.integer": _m(
        "整数超过 {max}，超出可保存的范围", "found an integer above {max}, expected one a field can hold"
    ),
    "bad_escape": _m(
        "字符串中的转义 `{found}` 无效，应为 \\u 加四位十六进制数字",
        "found the escape `{found}` in a string, expected \\u and four hex digits",
    ),
    "bad_escape.nul": _m(
        "字符串中的转义 `{found}` 是空字符，无法保存，也不会有值等于它；请删除",
        "found the escape `{found}` (the NUL character) in a string, expected text a database can store",
    ),
    "too_long": _m(
        "规则长 {found} 个字符，最多允许 {expected} 个字符",
        "found a rule of {found} characters, expected at most {expected}",
    ),
    "too_deep": _m(
        "表达式嵌套超过 {expected} 层，请简化规则",
        "found an expression nested deeper than {expected} levels, expected a simpler rule",
    ),
    "too_deep.compile": _m(
        "表达式过于复杂，无法编译，请简化规则",
        "found an expression too complex to compile, expected a simpler rule",
    ),
    # names
    "unknown_field": _m(
        "未知字段 `{found}`，可用的字段：{candidates}",
        "found the unknown field `{found}`, expected one of {candidates}",
    ),
    "unknown_field.in_lookup": _m(
        "关联 `{lookup}` 中没有字段 `{found}`，可用的字段：{candidates}",
        "found the unknown field `{found}` in `{lookup}`, expected one of {candidates}",
    ),
    "unknown_function": _m(
        "未知函数 `{found}`，可用的函数：{candidates}",
        "found the unknown function `{found}`, expected one of {candidates}",
    ),
    "unknown_option": _m(
        "`{field}` 没有选项 `{found}`，可选的值：{candidates}",
        "found `{found}`, which is not an option of `{field}`, expected one of {candidates}",
    ),
    "unknown_name": _m(
        "`{field}` 中没有 `{found}`，应为其中的分组名、名称或代码",
        "found `{found}`, which names no group, place or code of `{field}`",
    ),
    "unknown_name.ambiguous": _m(
        "`{found}` 在 `{field}` 中不止一处：{candidates}，请连同上一级名称一起写",
        "found `{found}`, which names more than one place of `{field}`: {candidates}; "
        "write the name above it too",
    ),
    "not_a_lookup": _m(
        "`{path}` 无效：`{found}` 是{kind}字段，只有关联字段后面才能接点号",
        "found `{path}`, but `{found}` is a {kind} field, expected a lookup before a dot",
    ),
    "unknown_relation": _m(
        "未知的相关实体 `{found}`，可用的实体：{candidates}",
        "found the unknown related entity `{found}`, expected one of {candidates}",
    ),
    "unknown_relation.nested": _m(
        "`{found}` 写在另一个 `{outer}(...)` 之内；量词不能嵌套，请拆成多个条件",
        "found `{found}` inside another `{outer}(...)`, expected quantifiers side by side, not nested",
    ),
    "unknown_function.quantifier": _m(
        "未知量词 `{found}`，`实体 via 关联字段` 前应为 {candidates} 之一",
        "found the unknown quantifier `{found}`, expected one of {candidates} before `entity via lookup`",
    ),
    "not_a_link": _m(
        "`{relation}` 的字段 `{found}` 不是指向本记录的关联，可用的关联：{candidates}",
        "found `{found}`, which is not a lookup of `{relation}` pointing at this record, "
        "expected one of {candidates}",
    ),
    "quantifier_body": _m(
        "`{found}()` 不能写在 `{outer}(...)` 之内：其中的条件只读取相关记录已存储的值",
        "found `{found}()` inside `{outer}(...)`, expected a condition on the stored values of the "
        "related records",
    ),
    # types
    "arity": _m(
        "`{function}` 收到 {found} 个参数，应为{expected}参数：{signature}",
        "found {found} argument(s) to `{function}`, expected {expected}: {signature}",
    ),
    "type_mismatch": _m("类型不符：此处是{found}，应为{expected}", "found {found}, expected {expected}"),
    "type_mismatch.result": _m(
        "表达式的结果是{found}，应为{expected}", "found an expression of type {found}, expected {expected}"
    ),
    "type_mismatch.condition": _m(
        "表达式的结果是{found}，此处应为条件（真或假），"
        "例如比较（`==`、`>`、`in` 等）、`is null` 或 `is_blank(...)`",
        "found {found}, expected a condition that is true or false, such as a comparison "
        "(`==`, `>`, `in`...), `is null` or `is_blank(...)`",
    ),
    "null_comparison": _m(
        "不能用 `{op}` 与 null 比较（`{op} null` 永远不成立），请改用 `is null` 或 `is not null`",
        "found a comparison with null, expected `is null` or `is not null` (`{op} null` is never true)",
    ),
    "bad_literal": _m(
        "{found!r} 不是有效的 ISO {kind}，应形如 '{expected}'",
        "found {found!r}, expected an ISO {kind} such as '{expected}'",
    ),
    # regular expressions
    "regex_invalid": _m(
        "正则表达式在偏移 {offset} 处有误：{detail}",
        "{detail} at offset {offset} of the regular expression",
    ),
    "regex_invalid.too_long": _m(
        "正则表达式长 {found} 个字符，最多允许 {expected} 个字符",
        "found a regular expression of {found} characters, expected at most {expected}",
    ),
    "regex_unsafe": _m(
        "正则表达式在偏移 {offset} 处可能匹配极慢：{detail}",
        "{detail} at offset {offset} of the regular expression",
    ),
    # field maps and backends (the caller's mistake more than the rule author's)
    "invalid_field_map": _m(
        "字段 `{field}` 的类型 {found!r} 无效，应为 {types} 之一，或表示关联的映射",
        "found the type {found!r} for `{field}`, expected one of {types} or a mapping for a lookup",
    ),
    "invalid_field_map.not_mapping": _m(
        "字段映射应为“名称 → 类型”的映射，实际是 {found}",
        "found a {found} as field map, expected a mapping of name to type",
    ),
    "invalid_field_map.options": _m(
        "字段 `{field}` 的选项无效，应为互不相同的非空文本，标签须指向其中的选项",
        "found invalid options for `{field}`, "
        "expected distinct non-empty texts and labels naming one of them",
    ),
    "invalid_field_map.bad_name": _m(
        "字段名 {found!r} 无效，应为不含点号的非空名称",
        "found the field name {found!r}, expected a non-empty name without dots",
    ),
    "sql_unsupported": _m(
        "`{found}()` 只在更新记录时可用；列表筛选和报表在数据库中执行，只能使用基于已存储值的条件",
        "found `{found}()`, which only exists while a record is being updated, expected "
        "a condition on stored values (list filters and reports run in SQL)",
    ),
    "sql_unsupported.computed": _m(
        "`{found}()` 只在表单、公式和触发规则中计算；列表筛选和报表在数据库中执行，不能使用它",
        "found `{found}()`, which is computed in forms, formulas and triggers only, expected "
        "a condition the database can run (list filters and reports run in SQL)",
    ),
    "missing_column": _m(
        "字段 `{found}` 没有对应的数据库列（调用方须映射规则读取的每个字段）",
        "found no column for `{found}`, expected the caller to map every field the rule reads",
    ),
    "loader_required": _m(
        "`{field}` 中是 id {found!r}，需要已加载的记录或加载器",
        "found the id {found!r} in `{field}`, expected a loaded record or a loader",
    ),
    "related_required": _m(
        "规则统计 `{relation}` 中的相关记录，需要提供相关记录的读取函数（related=），或在数据库中执行",
        "found a rule over the related records of `{relation}`, expected a resolver of related rows "
        "(related=) or a SQL evaluation",
    ),
    "missing_relation": _m(
        "相关实体 `{relation}` 没有对应的数据库表（调用方须映射规则量化的每个实体）",
        "found no table for the related entity `{relation}`, expected the caller to map every "
        "relation the rule quantifies over",
    ),
    # rule sets
    "invalid_rule": _m("规则无效", "found an invalid rule, expected a valid one"),
    "invalid_rule.event": _m(
        "事件 {found!r} 无效，应为 {events} 之一", "found the event {found!r}, expected one of {events}"
    ),
    "invalid_rule.not_object": _m("规则应为对象，实际是 {found}", "found a {found}, expected a rule object"),
    "invalid_rule.no_name": _m("缺少名称，请填写非空的 `name`", "found no name, expected a non-empty `name`"),
    "invalid_rule.on": _m(
        "`on` 的值 {found!r} 无效，应为由 {events} 组成的列表",
        "found `on` = {found!r}, expected a list of {events}",
    ),
    "invalid_rule.actions": _m(
        "`actions` 格式有误，应为对象列表，每个对象须有 `type`",
        "found malformed `actions`, expected a list of objects with a `type`",
    ),
    "invalid_rule.order": _m(
        "`order` 的值 {found!r} 无效，应为整数", "found `order` = {found!r}, expected an integer"
    ),
    "invalid_rule.enabled": _m(
        "`enabled` 的值 {found!r} 无效，应为 true 或 false",
        "found `enabled` = {found!r}, expected true or false",
    ),
    "invalid_rule.entity": _m(
        "`entity` 的值 {found!r} 无效，应为非空的实体名",
        "found `entity` = {found!r}, expected a non-empty entity name",
    ),
    "invalid_rule.duplicate": _m(
        "规则名 {found!r} 重复，规则名须唯一", "found the rule name {found!r} twice, expected unique names"
    ),
    "ruleset_invalid": _m("{count} 条规则有误：{summary}", "{count} broken rule(s): {summary}"),
}

MESSAGES: Mapping[str, Mapping[str, str]] = MappingProxyType(_MESSAGES)
"""``code`` or ``code.reason`` -> ``{"zh": template, "en": template}``, filled from ``params``."""


_PHRASES: dict[str, Mapping[str, str]] = {
    # a value of a DSL type, as the checker names it ("found an integer")
    "a.null": _m("空值 null", "null"),
    "a.lookup": _m("关联字段", "a lookup"),
    "a.integer": _m("整数", "an integer"),
    "a.list": _m("列表", "a list"),
    "a.boolean": _m("布尔值", "a boolean"),
    "a.text": _m("文本", "text"),
    "a.number": _m("数字", "a number"),
    "a.date": _m("日期", "a date"),
    "a.datetime": _m("日期时间", "a datetime"),
    "a.other": _m("{kind}", "a {kind}"),
    # a DSL type by its bare name ("of type integer")
    "type.null": _m("空值", "null"),
    "type.lookup": _m("关联", "lookup"),
    "type.integer": _m("整数", "integer"),
    "type.list": _m("列表", "list"),
    "type.boolean": _m("布尔值", "boolean"),
    "type.text": _m("文本", "text"),
    "type.number": _m("数字", "number"),
    "type.date": _m("日期", "date"),
    "type.datetime": _m("日期时间", "datetime"),
    # what the type checker expected
    "list_literal": _m("列表字面量", "a list literal"),
    "value_not_list": _m("单个值（列表只能写在 `in` 之后）", "a value (lists are only allowed after `in`)"),
    "condition": _m("条件（布尔值）", "a condition (boolean)"),
    "join_text": _m("可与文本拼接的文本", "text to join to text"),
    "modulo_integer": _m("整数（`%` 只能用于整数）", "an integer (`%` works on integers)"),
    "number_or_text": _m("数字或文本", "a number or text"),
    "comparable": _m("可比较的值", "a value that can be compared"),
    "ordered": _m("数字、文本、日期或日期时间", "a number, text, a date or a datetime"),
    "wrap_date": _m(
        "{kind}（比较日期时请用 date() 包住日期时间）",
        "{kind} (wrap the datetime in date() to compare dates)",
    ),
    "empty_list": _m("空列表", "an empty list"),
    "nonempty_list": _m("至少含一个值的列表", "a list with at least one value"),
    "expression": _m("表达式", "an expression"),
    "list_item_literal": _m("列表中的字面量值", "a literal value in the list"),
    "list_after_in": _m("写在 `in` 之后的列表字段或列表字面量", "a list field or a list literal after `in`"),
    "text_in_list": _m("文本（列表中存放的是文本）", "text (lists hold text)"),
    "argument": _m(
        "{expected}（`{function}` 的第 {index} 个参数）", "{expected} as argument {index} of `{function}`"
    ),
    # what a function expected of one argument
    "text_or_list": _m("文本或列表", "text or a list"),
    "regex_literal": _m("以字符串字面量写出的正则表达式", "a regular expression written as a string literal"),
    "date_literal": _m(
        "日期、日期时间或 ISO 日期字符串字面量", "a date, a datetime or an ISO date string literal"
    ),
    "date_or_datetime": _m("日期或日期时间", "a date or a datetime"),
    "round_digits": _m("取值 0 到 10 的整数字面量", "an integer literal from 0 to 10"),
    "same_as_first": _m(
        "与第一个参数类型相同的值（{kind}）", "a value of the same type as the first argument ({kind})"
    ),
    "same_as_others": _m(
        "与其他参数类型相同的值（{kind}）", "a value of the same type as the others ({kind})"
    ),
    "same_as_branch": _m(
        "与另一分支类型相同的值（{kind}）", "a value of the same type as the other branch ({kind})"
    ),
    "not_list_or_lookup": _m("既不是列表也不是关联的值", "a value that is not a list or a lookup"),
    "field_name": _m("本记录的字段名", "a field name of this record"),
    "not_lookup_field": _m("非关联字段", "a field that is not a lookup"),
    # argument counts
    "count.exact": _m(" {n} 个", "{n}"),
    "count.at_least": _m("至少 {n} 个", "at least {n}"),
    "count.between": _m(" {low} 到 {high} 个", "{low} to {high}"),
    # what the parser found and expected
    "unterminated_string": _m("未闭合的字符串", "an unterminated string"),
    "closing_quote": _m("结尾的 {quote}", "a closing {quote}"),
    "character": _m("字符 `{char}`", "the character `{char}`"),
    "token": _m("`{token}`", "`{token}`"),
    "end_of_rule": _m("规则结尾", "the end of the rule"),
    "operator_value_name": _m("运算符、值或名称", "an operator, a value or a name"),
    "operator_or_end": _m("运算符或规则结尾", "an operator or the end of the rule"),
    "value_name_paren": _m("值、名称或 `(`", "a value, a name or `(`"),
    "a_name": _m("名称", "a name"),
    "a_string": _m("字符串", "a string"),
    "comparison": _m("比较运算符（== != < <= > >=）", "a comparison (== != < <= > >=)"),
    "add_op": _m("`+` 或 `-`", "`+` or `-`"),
    "mul_op": _m("`*`、`/` 或 `%`", "`*`, `/` or `%`"),
    # the detail of a regular-expression error
    "regex.nested_repetition": _m(
        "带量词的分组里又有量词或 `|`，请去掉嵌套的重复",
        "found a quantified group holding a quantifier or `|`, expected a pattern without nested repetition",
    ),
    "regex.brace": _m(
        "`{{` 用法不对，重复次数应写成 {{2}}、{{2,}} 或 {{2,5}}",
        "found `{{`, expected a repetition like {{2}}, {{2,}} or {{2,5}}",
    ),
    "regex.repeat_counts": _m(
        "重复次数 {found} 无效：次数最多 {max}，且须从小到大",
        "found the repetition {found}, expected counts up to {max} in increasing order",
    ),
    "regex.unbounded": _m(
        "无上限的重复超过 {max} 处，最多允许两处",
        "found more than {max} unbounded repetitions, expected at most two",
    ),
    "regex.double_quantifier": _m(
        "连续出现两个量词，只能有一个", "found two quantifiers in a row, expected one"
    ),
    "regex.group_depth": _m(
        "分组嵌套过深，最多 16 层", "found groups nested too deeply, expected at most 16"
    ),
    "regex.lookaround": _m(
        "不支持 `(?`，请用 `(` 或 `(?:`（不支持环视和标志）",
        "found `(?`, expected `(` or `(?:` (no lookaround or flags)",
    ),
    "regex.unclosed_group": _m("正则表达式已结束，缺少 `)`", "found the end of the pattern, expected `)`"),
    "regex.unopened_group": _m("`)` 前面缺少 `(`", "found `)`, expected `(` before it"),
    "regex.nothing_to_repeat": _m(
        "`{char}` 前面没有可重复的内容", "found `{char}`, expected something to repeat before it"
    ),
    "regex.trailing_backslash": _m(
        "`\\` 在末尾，后面应有被转义的字符", "found `\\` at the end, expected an escaped character"
    ),
    "regex.escape": _m(
        "不支持 `\\{char}`，只能用 \\d \\w \\s \\D \\W \\S \\n \\t 或转义的符号",
        "found `\\{char}`, expected \\d \\w \\s \\D \\W \\S \\n \\t or an escaped symbol",
    ),
    "regex.unclosed_bracket": _m("正则表达式已结束，缺少 `]`", "found the end of the pattern, expected `]`"),
    "regex.bad_range": _m(
        "`[...]` 中的范围无效，应形如 a-z", "found an invalid range in `[...]`, expected a-z style"
    ),
    "regex.class_escape": _m(
        "`[...]` 中不支持 `\\{char}`，只能用 \\d \\w \\s \\n \\t 或转义的符号",
        "found `\\{char}` inside `[...]`, expected \\d \\w \\s \\n \\t or an escaped symbol",
    ),
}

PHRASES: Mapping[str, Mapping[str, str]] = MappingProxyType(_PHRASES)
"""Sentence fragments used as param values: ``key -> {"zh": template, "en": template}``."""

# list-valued phrases: how to join the items, and what to say for none
_JOINS: Mapping[str, Mapping[str, tuple[str, str, str]]] = MappingProxyType(
    {
        # key: lang -> (separator, suffix when truncated, text when empty)
        "one_of": {"en": (" or ", "", "something else"), "zh": ("或", "", "其他内容")},
        "names": {"en": (", ", ", ...", "no fields"), "zh": ("、", " 等", "（无）")},
    }
)


class Phrase(str):
    """English words that also know how to say themselves in Chinese (see :data:`PHRASES`).

    A ``str`` subclass, so a param that is a phrase equals, prints and serialises as the English
    text it has always been; :func:`localize` gives the text in another language.
    """

    key: str
    args: Mapping[str, Any]

    def __new__(cls, key: str, args: Mapping[str, Any] | None = None) -> Phrase:
        args = dict(args or {})
        obj = super().__new__(cls, _phrase_text(key, args, "en"))
        obj.key = key
        obj.args = args
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (Phrase, (self.key, dict(self.args)))

    def localized(self, lang: str) -> str:
        return _phrase_text(self.key, self.args, language(lang))


def phrase(key: str, **args: Any) -> Phrase:
    """The phrase ``key`` of :data:`PHRASES` filled with ``args`` (values may be phrases too)."""
    if key not in _PHRASES:
        raise KeyError(f"no phrase {key!r} in rule_engine.messages.PHRASES")
    return Phrase(key, args)


def one_of(items: Sequence[str]) -> Phrase:
    """``a or b or c`` / ``a或b或c``, each item localised."""
    return Phrase("one_of", {"items": tuple(items), "more": False})


def names(items: Sequence[str], limit: int = 8) -> Phrase:
    """Up to ``limit`` names in backticks, sorted, with ``, ...`` / `` 等`` when there are more."""
    ordered = sorted(items)
    return Phrase("names", {"items": tuple(f"`{n}`" for n in ordered[:limit]), "more": len(ordered) > limit})


def option_list(literals: Sequence[str], limit: int = 20) -> Phrase:
    """Up to ``limit`` options written as DSL literals, in backticks, in the order given."""
    return Phrase(
        "names", {"items": tuple(f"`{v}`" for v in literals[:limit]), "more": len(literals) > limit}
    )


def kind_phrase(kind: str) -> Phrase:
    """A value of DSL type ``kind`` as the type checker names it: ``an integer`` / ``整数``."""
    key = f"a.{kind}"
    return Phrase(key) if key in _PHRASES else Phrase("a.other", {"kind": kind})


def type_phrase(kind: str) -> str:
    """A DSL type by its bare name: ``integer`` / ``整数`` (an unknown name is left as it is)."""
    key = f"type.{kind}"
    return Phrase(key) if key in _PHRASES else kind


def localize(value: Any, lang: str) -> Any:
    """``value`` in ``lang`` if it is a :class:`Phrase`, else unchanged."""
    return value.localized(lang) if isinstance(value, Phrase) else value


def _phrase_text(key: str, args: Mapping[str, Any], lang: str) -> str:
    if key in _JOINS:
        separator, more, empty = _JOINS[key][lang]
        items = [str(localize(item, lang)) for item in args["items"]]
        if not items:
            return empty
        return separator.join(items) + (more if args.get("more") else "")
    return _PHRASES[key][lang].format(**{k: localize(v, lang) for k, v in args.items()})


def template_key(code: str, params: Mapping[str, Any]) -> str:
    """``code.reason`` when the params name a reason with its own wording, else ``code``."""
    reason = params.get("reason")
    if reason:
        key = f"{code}.{reason}"
        if key in _MESSAGES:
            return key
    return code


def render(code: str, params: Mapping[str, Any], lang: str) -> str:
    """The bare message (no position, no hint) of an error in ``lang``; KeyError if it cannot."""
    lang = language(lang)
    template = _MESSAGES[template_key(code, params)][lang]
    text = template.format(**{k: localize(v, lang) for k, v in params.items()})
    return _space_code(text) if lang == "zh" else text


_CODE = re.compile(r"`[^`\n]*`")
_HAN = re.compile(r"[\u3400-\u9fff]")


def _space_code(text: str) -> str:
    """One space between Chinese and a `code` span, as the rest of Tangram's Chinese text has."""
    out: list[str] = []
    last = 0
    for m in _CODE.finditer(text):
        start, end = m.span()
        out.append(text[last:start])
        if start and _HAN.match(text[start - 1]):
            out.append(" ")
        out.append(m.group())
        if end < len(text) and _HAN.match(text[end]):
            out.append(" ")
        last = end
    out.append(text[last:])
    return "".join(out)


def decorate(
    text: str,
    lang: str,
    *,
    line: int = 0,
    column: int = 0,
    suggestions: Sequence[str] = (),
    rule: str | None = None,
) -> str:
    """``text`` with the rule name, the position and the "did you mean" hint, in ``lang``."""
    if language(lang) == "zh":
        prefix = f"规则“{rule}”：" if rule else ""
        where = f"第 {line} 行第 {column} 列：" if line else ""
        hint = ("（是否想写 " + " 或 ".join(f"`{s}`" for s in suggestions) + "？）") if suggestions else ""
        return f"{prefix}{where}{text}{hint}"
    prefix = f"rule {rule!r}: " if rule else ""
    where = f"line {line}, column {column}: " if line else ""
    hint = (" (did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?)") if suggestions else ""
    return f"{prefix}{where}{text}{hint}"
