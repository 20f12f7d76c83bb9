"""What marketing automation says to people, in Chinese and English, and its typed errors."""

from __future__ import annotations

from engine import InvalidInput, NotFound
from form_engine import add_messages

MESSAGES: dict[str, dict[str, str]] = {
    "segment_not_found": {
        "zh": "应用 {app} 没有名为 {segment} 的细分人群",
        "en": "app {app} has no segment named {segment}",
    },
    "segment_flow_entity": {
        "zh": "流程 {flow} 运行在 {expected} 上，细分人群 {segment} 的成员是 {entity}",
        "en": "the flow {flow} runs on {expected}, the members of segment {segment} are {entity}",
    },
    "tracking_not_found": {"zh": "链接不存在", "en": "no such link"},
    "form_answered": {"zh": "这份表单已经提交过了", "en": "this form has been answered already"},
    "form_field_not_asked": {"zh": "表单没有这些字段：{name}", "en": "the form does not ask for {name}"},
}

#: Problems of the ``segments`` package section (the kernel's catalogue renders them).
SECTION_MESSAGES: dict[str, dict[str, str]] = {
    "segment_duplicate": {
        "zh": "细分人群 {name} 重复定义",
        "en": "the segment {name} is defined twice",
    },
    "segment_entity_unknown": {
        "zh": "没有名为 {entity} 的实体",
        "en": "there is no entity named {entity}",
    },
    "segment_rule": {
        "zh": "细分规则有误：{detail}",
        "en": "the segment's rule is invalid: {detail}",
    },
}
add_messages(SECTION_MESSAGES)


class MarketingInputError(InvalidInput):
    catalogue = MESSAGES


class MarketingNotFound(NotFound):
    catalogue = MESSAGES
