"""zh/en message templates for value and definition problems, keyed by stable codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"zh": "{label}为必填项", "en": "{label} is required"},
    "unknown_field": {
        "zh": "未知字段 {field}{hint}",
        "en": "unknown field {field}{hint}",
    },
    "not_writable": {
        "zh": "{label}是系统计算字段，不能写入",
        "en": "{label} is computed by the system and cannot be written",
    },
    "invalid_text": {"zh": "{label}应为文本", "en": "{label} must be text"},
    "too_long": {
        "zh": "{label}最多 {max} 个字符（当前 {actual} 个）",
        "en": "{label} allows at most {max} characters (got {actual})",
    },
    "unstorable_text": {
        "zh": "{label}含有无法保存的字符 {char}（空字符或不成对的代理字符），请删除后重试",
        "en": "{label} contains the character {char} (a NUL or an unpaired surrogate), "
        "which cannot be stored; remove it",
    },
    "invalid_integer": {
        "zh": "{label}应为整数，收到 {value}",
        "en": "{label} must be a whole number, got {value}",
    },
    "invalid_number": {
        "zh": "{label}应为数字，收到 {value}",
        "en": "{label} must be a number, got {value}",
    },
    "too_many_digits": {
        "zh": "{label}最多 {precision} 位数字、其中 {scale} 位小数，收到 {value}",
        "en": "{label} allows {precision} digits with {scale} decimals, got {value}",
    },
    "out_of_range": {
        "zh": "{label}应在 {min} 到 {max} 之间，收到 {value}",
        "en": "{label} must be between {min} and {max}, got {value}",
    },
    "invalid_boolean": {
        "zh": "{label}应为 是/否（true/false），收到 {value}",
        "en": "{label} must be yes/no (true/false), got {value}",
    },
    "invalid_date": {
        "zh": "{label}应为日期（如 2026-11-22 或 2026/11/22），收到 {value}",
        "en": "{label} must be a date such as 2026-11-22 or 2026/11/22, got {value}",
    },
    "invalid_datetime": {
        "zh": "{label}应为日期时间（如 2026-11-22T09:30:00+08:00），收到 {value}",
        "en": "{label} must be a date and time such as 2026-11-22T09:30:00+08:00, got {value}",
    },
    "invalid_option": {
        "zh": "{label}的取值 {value} 不在选项中，可选：{choices}",
        "en": "{label} has no option {value}; choose one of: {choices}",
    },
    "invalid_reference": {
        "zh": "{label}应为记录编号（整数），收到 {value}",
        "en": "{label} must be a record id (an integer), got {value}",
    },
    "reference_not_found": {
        "zh": "{label}引用的 {target} 记录 {value} 不存在",
        "en": "{label} refers to {target} record {value}, which does not exist",
    },
}


def add_messages(templates: Mapping[str, Mapping[str, str]]) -> None:
    """Register a module's templates; each field-type module owns the text of its problems.

    Keys are problem codes, or ``code.reason`` for a wording of its own (see :func:`template_key`).
    """
    for code, text in templates.items():
        if code in MESSAGES and MESSAGES[code] != dict(text):
            raise ValueError(f"message code {code!r} is defined twice with different text")
        MESSAGES[code] = {"zh": text["zh"], "en": text["en"]}


def template_key(code: str, params: Mapping[str, Any]) -> str:
    """``code.reason`` when the params name a reason with its own wording, else ``code``.

    One problem code can be worded differently where it arises (an unknown field in a record,
    in a role's field rules); the raise site names its wording in ``params["reason"]``.
    """
    reason = params.get("reason")
    if isinstance(reason, str) and f"{code}.{reason}" in MESSAGES:
        return f"{code}.{reason}"
    return code


def render(code: str, locale: str, params: Mapping[str, Any]) -> str:
    """Fill the template for ``code`` in ``locale``; own ``zh``/``en`` params take precedence."""
    lang = "zh" if locale.startswith("zh") else "en"
    if "zh" in params and "en" in params:
        # A message written for this one problem is final text, not a template: it may quote
        # user input such as a rule containing braces.
        return str(params[lang])
    templates = MESSAGES.get(template_key(code, params))
    if templates is None:
        return f"{code}: {dict(params)}"
    template = templates[lang]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
