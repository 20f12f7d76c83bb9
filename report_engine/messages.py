"""Every message the report engine shows a person, in Chinese and English, by a stable key.

``MESSAGES`` words the errors a report run raises (their ``catalogue``); ``PROBLEMS`` words the
problems that locate a mistake inside a definition or a request, registered with the form
engine, which renders every problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from form_engine import Problem, add_messages

MESSAGES: dict[str, Mapping[str, str]] = {
    "report_not_found": {"zh": "应用 {app} 中没有报表 {name}", "en": "app {app} has no report {name!r}"},
    "dashboard_not_found": {
        "zh": "应用 {app} 中没有仪表板 {name}",
        "en": "app {app} has no dashboard {name!r}",
    },
    "report_invalid": {"zh": "报表定义有误", "en": "the report definition is not valid"},
    "report_stale": {
        "zh": "报表 {name} 保存后实体已变更，以下部分无法解析",
        "en": "the entities changed since report {name!r} was saved; these parts no longer resolve",
    },
    "report_params_invalid": {"zh": "报表参数有误", "en": "the report parameters are not valid"},
    "report_fields_refused": {
        "zh": "你无权在报表中使用这些字段：{fields}",
        "en": "you may not use these fields in a report: {fields}",
    },
    "report_drill_invalid": {
        "zh": "无法下钻到该单元格",
        "en": "the cell to drill into is not valid",
    },
    "export_format_invalid": {
        "zh": "导出格式须为 csv 或 xlsx",
        "en": "the export format must be csv or xlsx",
    },
}

PROBLEMS: dict[str, dict[str, str]] = {
    "report_unknown_entity": {"zh": "没有实体 {name}", "en": "no entity {name!r}"},
    "report_unknown_field": {
        "zh": "实体 {entity} 没有字段 {name}{hint}",
        "en": "entity {entity} has no field {name!r}{hint}",
    },
    "report_not_lookup": {
        "zh": "{name} 不是关联字段，不能经由它取 {rest}",
        "en": "{name!r} is not a lookup, so {rest!r} cannot be read through it",
    },
    "report_not_groupable": {
        "zh": "{name}（{kind}）不能用于分组",
        "en": "{name!r} ({kind}) cannot be grouped by",
    },
    "report_not_numeric": {
        "zh": "{agg} 需要数值字段，{name} 是 {kind}",
        "en": "{agg} needs a number field; {name!r} is {kind}",
    },
    "report_not_comparable": {
        "zh": "{agg} 不能用于 {name}（{kind}）",
        "en": "{agg} cannot be taken of {name!r} ({kind})",
    },
    "report_bucket_needs_date": {
        "zh": "只有日期字段可以按 {bucket} 分组，{name} 是 {kind}",
        "en": "only date fields are bucketed by {bucket}; {name!r} is {kind}",
    },
    "report_needs_date": {
        "zh": "{name} 须为日期或日期时间字段，实为 {kind}",
        "en": "{name!r} must be a date or datetime field, not {kind}",
    },
    "report_dsl": {"zh": "表达式有误：{detail}", "en": "the expression is not valid: {detail}"},
    "report_schema": {
        "zh": "定义不符合格式：{detail}",
        "en": "the definition does not fit its schema: {detail}",
    },
    "report_measure_missing": {
        "zh": "没有名为 {name} 的度量{hint}",
        "en": "no measure named {name!r}{hint}",
    },
    "report_duplicate_name": {"zh": "名称 {name} 重复", "en": "the name {name!r} is used twice"},
    "report_shape_needs": {
        "zh": "{shape} 报表需要 {part}",
        "en": "a {shape} report needs {part}",
    },
    "report_not_select": {
        "zh": "漏斗阶段字段 {name} 须为单选字段，实为 {kind}",
        "en": "the funnel's stage field {name!r} must be a select field, not {kind}",
    },
    "report_unknown_option": {
        "zh": "{name} 没有选项 {value}",
        "en": "{name!r} has no option {value!r}",
    },
    "report_unknown_report": {"zh": "没有报表 {name}", "en": "no report {name!r}"},
    "report_unknown_role": {"zh": "没有角色 {name}", "en": "no role {name!r}"},
    "report_field_hidden": {
        "zh": "你无权查看字段 {name}",
        "en": "you may not see the field {name!r}",
    },
    "report_field_masked": {
        "zh": "字段 {name} 对你脱敏显示，不能用于分组、筛选或取值",
        "en": "the field {name!r} is masked for you; it cannot be a dimension, filter or value",
    },
    "report_param_invalid": {
        "zh": "参数 {name} 无效：{reason_text}",
        "en": "parameter {name!r}: {reason_text}",
    },
    "report_unknown_period": {
        "zh": "没有相对期间 {name}，可选：{choices}",
        "en": "no relative period {name!r}; choose one of {choices}",
    },
    "report_compare_needs_period": {
        "zh": "环比/同比需要日期范围（period 参数）",
        "en": "a comparison with an earlier period needs a date range (the period parameter)",
    },
    "report_cell_invalid": {
        "zh": "单元格的 {name} 无效：{reason_text}",
        "en": "the cell's {name!r}: {reason_text}",
    },
    "report_drill_too_long": {
        "zh": "该单元格的记录筛选条件超过 {max} 个字符，请先缩小报表范围",
        "en": "the filter of this cell's records would exceed {max} characters; narrow the report first",
    },
}

add_messages(PROBLEMS)

#: Column labels of the absolute change against an earlier period (the percent change's are
#: "环比" / "同比").
DIFF_LABELS: dict[str, dict[str, str]] = {
    "previous_diff": {"zh": "环比增减", "en": "difference vs previous"},
    "year_ago_diff": {"zh": "同比增减", "en": "difference vs a year ago"},
}


#: Why a drill-down cell key is refused (``report_cell_invalid``'s reason).
CELL_REASONS: dict[str, dict[str, str]] = {
    "unknown": {"zh": "报表没有此维度", "en": "the report has no such dimension"},
    "date": {"zh": "须为日期 YYYY-MM-DD", "en": "expected a date, YYYY-MM-DD"},
    "value": {"zh": "与维度类型不符", "en": "does not fit the dimension's type"},
    "others": {
        "zh": "此维度没有“其他”组（按日期分段的维度不能下钻到“其他”）",
        "en": "this dimension has no others group (a date bucket cannot drill into others)",
    },
    "stage": {"zh": "不是漏斗的阶段", "en": "not one of the funnel's stages"},
    "measure": {"zh": "报表没有此度量", "en": "the report has no such measure"},
    "compare": {"zh": "报表没有此比较", "en": "the report makes no such comparison"},
    "object": {"zh": "须为 JSON 对象", "en": "expected a JSON object"},
    "text": {"zh": "须为文本", "en": "expected a text"},
    "age": {
        "zh": "须为 0 到批次期数之间的整数",
        "en": "expected a whole number of months within the periods",
    },
}


def report_problem(code: str, pointer: str, **params: Any) -> Problem:
    """A problem worded by ``PROBLEMS[code]``, located by ``pointer`` inside the definition."""
    if code not in PROBLEMS:
        raise KeyError(f"no problem {code!r} in report_engine.messages.PROBLEMS")
    return Problem(code, pointer=pointer, params=params)


def did_you_mean(name: str, choices: list[str]) -> dict[str, str]:
    """The "did you mean" hint in both languages (empty when nothing is close)."""
    close = difflib.get_close_matches(name, choices, n=1)
    if not close:
        return {"zh": "", "en": ""}
    return {"zh": f"（是否想用 {close[0]}？）", "en": f" (did you mean {close[0]!r}?)"}
