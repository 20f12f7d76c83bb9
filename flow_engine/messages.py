"""The flow engine's messages (zh + en): its errors, and the problems a flow definition can have."""

from __future__ import annotations

from engine import Conflict, Forbidden, InvalidInput, NotFound
from form_engine import add_messages

#: Errors raised by the flow engine (``FlowError("key", **params)``).
MESSAGES: dict[str, dict[str, str]] = {
    "flow_not_found": {"zh": "应用 {app} 中没有流程 {flow}", "en": "app {app} has no flow {flow}"},
    "flow_not_published": {"zh": "流程 {flow} 还没有发布", "en": "flow {flow} is not published"},
    "flow_invalid": {"zh": "流程定义有 {count} 处问题", "en": "the flow definition has {count} problem(s)"},
    "flow_name_mismatch": {
        "zh": "请求体中的名称 {body_name} 与地址中的 {url_name} 不一致",
        "en": "the body names {body_name} but the address {url_name}",
    },
    "flow_not_object": {"zh": "流程定义必须是 JSON 对象", "en": "a flow definition must be a JSON object"},
    "flow_not_manual": {"zh": "流程 {flow} 不能手动发起", "en": "flow {flow} cannot be started by hand"},
    "flow_wrong_entity": {
        "zh": "流程 {flow} 用于实体 {expected}，不能用于 {entity}",
        "en": "flow {flow} runs on {expected}, not on {entity}",
    },
    "flow_already_running": {
        "zh": "该记录已有运行中的流程 {flow}",
        "en": "flow {flow} is already running on this record",
    },
    "instance_not_found": {"zh": "没有流程实例 {id}", "en": "no flow instance {id}"},
    "task_not_found": {"zh": "没有待办 {id}", "en": "no task {id}"},
    "task_not_yours": {"zh": "待办 {id} 不是你的", "en": "task {id} is not assigned to you"},
    "task_done": {"zh": "待办 {id} 已处理（{status}）", "en": "task {id} is already closed ({status})"},
    "task_action_unsupported": {
        "zh": "{kind} 类待办不支持操作 {action}",
        "en": "a {kind} task does not support {action}",
    },
    "return_target_invalid": {
        "zh": "不能退回到 {target}：只能退回到发起人或之前经过的节点",
        "en": "cannot return to {target}: only to the submitter or a node passed before",
    },
    "user_unknown": {"zh": "没有用户 {user}", "en": "no user {user}"},
    "withdraw_not_starter": {"zh": "只有发起人可以撤回", "en": "only the submitter may withdraw"},
    "withdraw_too_late": {
        "zh": "已有人处理过，不能撤回",
        "en": "someone has already acted; it can no longer be withdrawn",
    },
    "instance_not_running": {
        "zh": "流程实例 {id} 已结束（{status}）",
        "en": "flow instance {id} has ended ({status})",
    },
    "approvers_none": {
        "zh": "节点 {node} 找不到审批人",
        "en": "node {node} resolves to no approver",
    },
    "record_locked": {
        "zh": "记录正在审批中（流程 {flow}），不能修改 {fields}",
        "en": "the record is under approval (flow {flow}); {fields} cannot be changed",
    },
    "no_version": {"zh": "流程 {flow} 没有版本 {version}", "en": "flow {flow} has no version {version}"},
    "migration_refused": {
        "zh": "有 {count} 个实例不能迁移",
        "en": "{count} instance(s) cannot move to the new version",
    },
    "flow_loop": {
        "zh": "流程 {flow} 一步内经过了超过 {steps} 个节点（可能有环）",
        "en": "flow {flow} passed more than {steps} nodes in one step (a loop?)",
    },
    "values_not_object": {"zh": "values 必须是对象", "en": "values must be an object"},
    "attachments_invalid": {
        "zh": "有 {count} 个附件不是你为这个待办上传的",
        "en": "{count} attachment(s) were not uploaded by you for this task",
    },
    "file_not_attached": {
        "zh": "流程实例 {id} 中没有附件 {file_id}",
        "en": "flow instance {id} has no attachment {file_id}",
    },
    "flow_file_unreadable": {"zh": "无法读取 {path}：{reason}", "en": "cannot read {path}: {reason}"},
    "owner_limit_reached": {
        "zh": "{person} 名下已有 {count} 条记录，已达上限 {max}，不能再分配",
        "en": "{person} already holds {count} records, the limit of {max}; no more can be assigned",
    },
}

#: Problems of a flow definition, each pointed at the node (JSON pointer) it is about.
PROBLEMS: dict[str, dict[str, str]] = {
    "flow_dangling_edge": {
        "zh": "节点 {node} 指向不存在的节点 {target}",
        "en": "node {node} points to {target}, which does not exist",
    },
    "flow_unreachable": {
        "zh": "从开始节点到不了节点 {node}",
        "en": "node {node} cannot be reached from the start",
    },
    "flow_no_default": {"zh": "条件节点 {node} 缺少默认分支", "en": "condition {node} has no default branch"},
    "flow_join_without_split": {
        "zh": "汇合节点 {node} 没有对应的分支节点 {split}",
        "en": "join {node} has no split {split} before it",
    },
    "flow_dsl": {"zh": "规则错误：{detail}", "en": "rule error: {detail}"},
    "flow_related_path": {
        "zh": "流程中 `{relation}` 的条件只能读取它自己的字段，不能经过关联读取 `{path}`",
        "en": "found `{path}` in a condition on `{relation}`, expected a field of `{relation}` itself "
        "(a flow reads the related records' own values)",
    },
    "flow_unknown_field": {
        "zh": "实体 {entity} 没有字段 {name}",
        "en": "entity {entity} has no field {name}",
    },
    "flow_unknown_entity": {"zh": "没有实体 {name}", "en": "no entity {name}"},
    "flow_unknown_action": {
        "zh": "未知的动作 {action}（可用：{known}）",
        "en": "unknown action {action} (known: {known})",
    },
    "flow_action_invalid": {"zh": "动作参数有误：{detail}", "en": "the action is invalid: {detail}"},
    "flow_nobody_policy": {
        "zh": "节点 {node} 的审批人可能为空，请设置 if_nobody 策略",
        "en": "the approvers of {node} may resolve to nobody: set an if_nobody policy",
    },
    "flow_start_count": {
        "zh": "流程必须恰有一个开始节点（现有 {count} 个）",
        "en": "a flow needs exactly one start node (it has {count})",
    },
    "flow_no_end": {"zh": "流程没有结束节点", "en": "the flow has no end node"},
    "flow_duplicate_node": {"zh": "节点 id {node} 重复", "en": "node id {node} is used twice"},
    "flow_duplicate_name": {"zh": "流程名 {name} 重复", "en": "flow name {name} is used twice"},
    "flow_unknown_calendar": {"zh": "没有工作日历 {name}", "en": "no working calendar {name}"},
    "flow_bad_cron": {"zh": "cron 表达式有误：{detail}", "en": "bad cron expression: {detail}"},
    "flow_bad_timezone": {"zh": "未知时区 {name}", "en": "unknown time zone {name}"},
    "attachment_unknown": {
        "zh": "附件 {id} 不是你为待办 {task} 上传的文件，请先通过 POST /api/tasks/{task}/files 上传",
        "en": "attachment {id} is not a file you uploaded for task {task}: upload it with "
        "POST /api/tasks/{task}/files first",
    },
    "flow_reject_target": {
        "zh": "节点 {node} 的退回目标 {target} 不存在",
        "en": "node {node} returns to {target}, which does not exist",
    },
}
add_messages(PROBLEMS)


class FlowInputError(InvalidInput):
    """A flow request or definition that does not fit (422)."""

    catalogue = MESSAGES


class FlowNotFound(NotFound):
    catalogue = MESSAGES


class FlowForbidden(Forbidden):
    catalogue = MESSAGES


class FlowConflict(Conflict):
    catalogue = MESSAGES
