"""Every message the kernel shows a person, in Chinese and English, by a stable key.

``MESSAGES[key]`` is one ``{"zh": ..., "en": ...}`` pair of :meth:`str.format` templates with the
same named placeholders. A raise site names the key and fills the placeholders; the exception's
class keeps the stable ``code`` that HTTP maps to a status::

    raise NotFound("user_not_found", user_id=7)  # code "not_found", "no user with id 7"

``PROBLEMS`` holds the wording of the :class:`~form_engine.Problem` s the kernel builds with
:func:`problem`. Their key is the problem's code, or ``"<code>.<reason>"`` when one code is worded
differently where it arises (an unknown field in a role's field rules is not one in a record);
they are registered with the form engine, which renders every problem. ``PHRASES`` are fragments
that fill a placeholder (a "did you mean" hint), made with :func:`phrase`.

A param may be a :class:`~form_engine.Label`, a ``{"zh", "en"}`` pair, or anything that says
itself in a locale with ``message(locale)`` (a problem, a rule error, a kernel error): each is shown
in the message's language. Anything else is shown as it is.

>>> render("user_not_found", "zh", {"user_id": 7})
'没有编号为 7 的用户'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal

from form_engine import Label, Problem, add_messages

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

#: A text in both languages, as problem params carry it: ``{"zh": ..., "en": ...}``.
Localized = dict[str, str]


def language(locale: str | None) -> Language:
    """``"zh"`` for any Chinese locale (``zh``, ``zh-CN``, ``zh_Hant``...), otherwise ``"en"``."""
    return "zh" if (locale or "").strip().lower().startswith("zh") else "en"


def _m(zh: str, en: str) -> Mapping[str, str]:
    return MappingProxyType({"zh": zh, "en": en})


_MESSAGES: dict[str, Mapping[str, str]] = {
    # users, passwords, tokens
    "password_too_short": _m(
        "密码至少需要 {min_length} 个字符", "the password must have at least {min_length} characters"
    ),
    "password_too_long": _m(
        "密码最多 {max_length} 个字符", "the password may have at most {max_length} characters"
    ),
    "password_is_username": _m("密码不能与用户名相同", "the password may not be the username"),
    "current_password_wrong": _m("当前密码错误", "the current password is wrong"),
    "username_invalid": _m(
        "用户名须为 1-100 个字母、数字或 . _ @ + - 字符", "a username is 1-100 letters, digits or . _ @ + -"
    ),
    "username_taken": _m("用户名 {username} 已被占用", "the username {username!r} is taken"),
    "user_not_found": _m("没有编号为 {user_id} 的用户", "no user with id {user_id}"),
    "user_not_found.name": _m("没有名为 {username} 的用户", "no user named {username!r}"),
    "user_not_found.reference": _m(
        "{pointer}：没有编号为 {user_id} 的用户", "{pointer}: no user with id {user_id}"
    ),
    "own_manager": _m("用户不能是自己的上级", "a user cannot be their own manager"),
    "cannot_demote_self": _m(
        "不能停用自己或取消自己的管理员权限",
        "you cannot disable yourself or drop your own administrator rights",
    ),
    "wrong_credentials": _m("用户名或密码错误", "wrong username or password"),
    "token_invalid": _m("令牌无效，请重新登录", "the token is not valid; sign in again"),
    "token_expired": _m("令牌已过期，请重新登录", "the token has expired; sign in again"),
    "token_not_found": _m("没有编号为 {token_id} 的令牌", "no token with id {token_id}"),
    "token_lifetime_too_long": _m("令牌有效期最长 {max_days} 天", "a token may live at most {max_days} days"),
    "too_many_sign_ins": _m(
        "登录失败次数过多，请 {minutes} 分钟后再试",
        "too many failed sign-ins; try again in {minutes} minute(s)",
    ),
    "body_too_large": _m(
        "请求体超过 {limit} 字节的上限", "the request body is larger than the limit of {limit} bytes"
    ),
    "sign_in_required": _m(
        "请先登录：请求头需带 Authorization: Bearer <令牌>（通过 POST /api/auth/token 获取）",
        "sign in first: send Authorization: Bearer <token> (POST /api/auth/token gives one)",
    ),
    "csrf_token_missing": _m(
        "此请求通过会话 Cookie 修改数据，但缺少有效的 X-CSRF-Token 请求头（登录时返回的 csrf_token）",
        "this request changes data with a session cookie but lacks a valid X-CSRF-Token header "
        "(the csrf_token given at sign-in)",
    ),
    "admin_only": _m(
        "只有管理员可以执行此操作（修改应用定义、用户、角色或查看审计日志）",
        "only an administrator may do this (change app definitions, users, roles, or read the audit log)",
    ),
    "unknown_audit_event": _m(
        "未知事件 {event}，可用的事件：{events}", "unknown event {event!r}; events: {events}"
    ),
    # departments
    "department_not_found": _m("没有编号为 {department_id} 的部门", "no department with id {department_id}"),
    "department_not_found.name": _m(
        "名为 {name} 的部门有 {count} 个：请用部门编号（tangram department list）",
        "{count} departments are named {name!r}: give the department id (tangram department list)",
    ),
    "department_name_missing": _m("部门需要名称", "a department needs a name"),
    "department_cycle": _m(
        "部门不能移动到自身或其下级部门之下",
        "a department cannot move under itself or one of its sub-departments",
    ),
    # roles and permissions
    "roles_not_found": _m(
        "应用 {app} 中有 {count} 个角色不存在", "{count} role(s) do not exist in app {app!r}"
    ),
    "permission_missing": _m(
        "您没有{entity}的 {operation} 权限（{permission}）",
        "you do not have the {operation!r} permission on {entity} ({permission})",
    ),
    "fields_not_writable": _m("您不能写入字段 {fields}", "you may not write {fields}"),
    "fields_not_queryable": _m(
        "您不能按字段 {fields} 筛选或排序（对您隐藏或脱敏）",
        "you may not filter or sort by {fields}: hidden or masked for you",
    ),
    # apps and entities
    "calendar_day_not_found": _m(
        "日历中没有 {day}（工作日日历覆盖 2015-2040 年）",
        "the calendar has no day {day} (it covers 2015-2040)",
    ),
    "app_not_found": _m("没有名为 {app} 的应用", "no app named {app!r}"),
    "app_exists": _m(
        "已存在名为 {app} 的应用；请用 PUT /api/apps/{app}（命令行：tangram app apply 文件）把新包应用到它",
        "an app named {app!r} exists already; apply the package to it with PUT /api/apps/{app} "
        "(on the command line: tangram app apply FILE)",
    ),
    "app_changed_meanwhile": _m(
        "应用 {app} 已被他人修改，请刷新后重试",
        "app {app!r} was changed by someone else meanwhile; reload and try again",
    ),
    "package_invalid": _m("应用包有 {count} 处错误", "the app package has {count} problem(s)"),
    "entity_invalid": _m("实体定义有 {count} 处错误", "the entity definition has {count} problem(s)"),
    "entity_name_mismatch": _m(
        "请求体中的实体名 {body_name} 与地址中的 {url_name} 不一致",
        "the body names entity {body_name!r} but the URL names {url_name!r}",
    ),
    "entity_not_found": _m(
        "应用 {app} 没有实体 {entity}{hint}", "app {app!r} has no entity {entity!r}{hint}"
    ),
    # applying packages, versions, removing apps and entities
    "app_name_mismatch": _m(
        "请求体中的应用名 {body_name} 与地址中的 {url_name} 不一致",
        "the body names app {body_name!r} but the URL names {url_name!r}",
    ),
    "entity_has_data": _m(
        "要删除的实体 {entities} 中还有 {count} 条记录；确认删除它们及其数据请加 ?confirm=实体名",
        "the entities to remove ({entities}) still hold {count} record(s); "
        "to remove them with their data, resend with ?confirm=<entity name> for each",
    ),
    "app_has_data": _m(
        "应用 {app} 中还有 {count} 条记录；确认连同数据卸载请加 ?confirm={app}",
        "app {app!r} still holds {count} record(s); "
        "to uninstall it with its data, resend with ?confirm={app}",
    ),
    "app_version_not_found": _m("应用 {app} 没有版本 {version}", "app {app!r} has no version {version}"),
    # templates: installing and upgrading
    "template_not_found": _m(
        "没有名为 {template} 的模板（内置模板：{known}）", "no template named {template!r} (bundled: {known})"
    ),
    "app_not_from_template": _m(
        "应用 {app} 不是从模板安装的，无从升级；请用 PUT /api/apps/{app} 应用新的应用包",
        "app {app!r} was not installed from a template, so there is no template to upgrade it to; "
        "apply a package with PUT /api/apps/{app}",
    ),
    "upgrade_conflicts": _m(
        "模板新版本与本应用的修改有 {count} 处冲突；请为每处选择保留哪一方"
        "（请求体 resolutions，命令行 --take ours|theirs 指针）后重试",
        "the new template version and the app's own changes conflict in {count} place(s); choose a "
        "side for each (resolutions in the body; on the command line --take ours|theirs POINTER) "
        "and upgrade again",
    ),
    "resolutions_invalid": _m("冲突处理有 {count} 处错误", "the resolutions have {count} problem(s)"),
    "form_not_found": _m(
        "{entity}没有表单 {form}，可用：{choices}", "{entity} has no form {form!r}; available: {choices}"
    ),
    # schema migrations
    "table_exists": _m(
        "数据库中已存在不受 Tangram 管理的表 {table}；请改名或删除它，或换一个实体名",
        "the database already has a table named {table!r} that Tangram does not manage; "
        "rename or drop it, or choose another entity name",
    ),
    "migration_loses_data": _m(
        "对 {entity} 的修改会丢失或破坏 {count} 处数据；请先修正或清空这些值再重试",
        "the change to {entity} would lose or break data in {count} place(s); "
        "fix or clear those values first, then try again",
    ),
    # list parameters and request bodies
    "filter_invalid": _m("筛选条件无效：{detail}", "the filter is not valid: {detail}"),
    "sort_invalid": _m("排序参数无效", "the sort parameter is not valid"),
    "page_invalid": _m("分页参数无效", "the page parameters are not valid"),
    "search_invalid": _m("搜索词无效", "the search text is not valid"),
    "version_invalid": _m("version 应为整数，收到 {value}", "version must be a whole number, got {value!r}"),
    "form_state_body_invalid": _m(
        '请求体应为 {{"record": {{...}}, "id": 记录编号（可选）}}',
        'the body must be {{"record": {{...}}, "id": <record id, optional>}}',
    ),
    # files
    "file_not_found": _m("应用 {app} 中没有文件 {file_id}", "no file {file_id!r} in app {app!r}"),
    "not_a_file_field": _m(
        "{entity}.{field} 不是文件类字段（{types}）", "{entity}.{field} is not a file field ({types})"
    ),
    "file_rejected": _m("文件未被接受：{problem}", "the file was not accepted: {problem}"),
    # actions
    "unknown_action": _m(
        "未知的动作类型 {action}，可用：{known}", "unknown action type {action!r}; known: {known}"
    ),
    "action_invalid": _m("动作 {action} 的参数无效", "invalid {action} action"),
    # the HTTP layer's own answers
    "http.not_found": _m("地址不存在：{path}", "no such address: {path}"),
    "http.method_not_allowed": _m("{path} 不支持 {method} 方法", "{method} is not allowed on {path}"),
    "http.error": _m("{detail}", "{detail}"),
    "request_invalid": _m("请求参数无效", "the request is not valid"),
    "input_invalid": _m("输入无效", "the input is not valid"),
    "value_out_of_range": _m(
        "请求算出的值超出了数据库能表示的范围（例如筛选里过大的乘积或 add_days 的天数）",
        "a value the request computes is out of the range the database can hold"
        " (for example a huge product or number of days in a filter)",
    ),
    # what each error status of the OpenAPI document means (engine.http.error_docs)
    "openapi.status.400": _m("请求体无法读取", "the body cannot be read"),
    "openapi.status.401": _m("未登录，或凭据错误", "sign in first, or the credentials are wrong"),
    "openapi.status.403": _m("无权进行此操作", "not permitted"),
    "openapi.status.404": _m("不存在，或调用者无权查看", "not found, or not visible to the caller"),
    "openapi.status.409": _m(
        "冲突：版本已过期、重复或名称已占用", "conflict: a stale version, a duplicate, a name taken"
    ),
    "openapi.status.413": _m("请求体超过上限", "the body is larger than the limit"),
    "openapi.status.422": _m("请求无效，列出所有问题", "the request is not valid; every problem is listed"),
    "openapi.status.429": _m("尝试次数过多，见 Retry-After", "too many attempts; see Retry-After"),
    "openapi.status.500": _m("服务器内部错误，请提供请求编号", "the server failed; quote the request id"),
    "openapi.status.503": _m(
        "数据库忙，未做任何改动，请按 Retry-After 重试",
        "the database is busy; nothing changed, retry after Retry-After",
    ),
    "database_busy": _m(
        "数据库正忙（例如正在迁移表结构），没有改动任何数据；请 {seconds} 秒后重试",
        "the database is busy (a schema migration, for example) and nothing was changed;"
        " try again in {seconds} seconds",
    ),
    "internal_error": _m(
        "内部错误；请把请求编号 {request_id} 告知管理员",
        "internal error; give the administrator the request id {request_id}",
    ),
    # one problem of a request FastAPI refused, by Pydantic's error type (its ``ctx`` fills them)
    "request.json_invalid": _m("请求体不是合法的 JSON：{error}", "the body is not valid JSON: {error}"),
    "request.missing": _m("缺少必填项", "Field required"),
    "request.int_parsing": _m(
        "应为整数", "Input should be a valid integer, unable to parse string as an integer"
    ),
    "request.int_type": _m("应为整数", "Input should be a valid integer"),
    "request.int_from_float": _m(
        "应为整数，不能有小数部分", "Input should be a valid integer, got a number with a fractional part"
    ),
    "request.float_parsing": _m(
        "应为数字", "Input should be a valid number, unable to parse string as a number"
    ),
    "request.bool_parsing": _m(
        "应为 true 或 false", "Input should be a valid boolean, unable to interpret input"
    ),
    "request.string_type": _m("应为文本", "Input should be a valid string"),
    "request.string_too_short": _m(
        "太短，至少 {min_length} 个字符", "String should have at least {min_length} character(s)"
    ),
    "request.string_too_long": _m(
        "太长，最多 {max_length} 个字符", "String should have at most {max_length} character(s)"
    ),
    "request.dict_type": _m("应为 JSON 对象", "must be a JSON object ({{...}})"),
    "request.model_attributes_type": _m("应为 JSON 对象", "must be a JSON object ({{...}})"),
    "body_missing": _m(
        "请求体为空；请发送 JSON 对象（Content-Type: application/json）",
        "the request body is empty; send a JSON object (Content-Type: application/json)",
    ),
    "http.invalid_encoding": _m(
        "请求体不是 UTF-8 编码的文本（第 {position} 字节 {byte} 无法解码）；请以 UTF-8 编码发送 JSON",
        "the request body is not UTF-8 text (byte {byte} at position {position} cannot be decoded); "
        "send the JSON encoded as UTF-8",
    ),
    "request.list_type": _m("应为列表", "Input should be a valid list"),
    "request.too_short": _m(
        "元素太少：至少 {min_length} 个，收到 {actual_length} 个",
        "should have at least {min_length} item(s), got {actual_length}",
    ),
    "request.too_long": _m(
        "元素太多：最多 {max_length} 个，收到 {actual_length} 个",
        "should have at most {max_length} item(s), got {actual_length}",
    ),
    "request.greater_than_equal": _m(
        "数值太小，应大于或等于 {ge}", "Input should be greater than or equal to {ge}"
    ),
    "request.less_than_equal": _m(
        "数值太大，应小于或等于 {le}", "Input should be less than or equal to {le}"
    ),
    "request.enum": _m("不是可选值之一，应为 {expected}", "Input should be {expected}"),
    "request.literal_error": _m("不是可选值之一，应为 {expected}", "Input should be {expected}"),
    "request.extra_forbidden": _m("不允许此字段", "Extra inputs are not permitted"),
    "request.not_nullable": _m(
        "不能为 null；不修改请省略此项", "may not be null; leave it out to keep it as it is"
    ),
    "request.unstorable_text": _m(
        "含有无法保存的字符 {char}（空字符或不成对的代理字符），请删除后重试",
        "contains the character {char} (a NUL or an unpaired surrogate), which cannot be stored; remove it",
    ),
    # records
    "record_not_found": _m("{entity}中没有编号为 {ids} 的记录", "no {entity} record with id {ids}"),
    "values_invalid": _m("有 {count} 个值无效", "{count} value(s) are not valid"),
    "values_invalid.sub_table": _m(
        "{field}中有 {count} 个值无效", "{count} value(s) in {field} are not valid"
    ),
    "references_missing": _m(
        "有 {count} 个关联指向不存在的记录", "{count} reference(s) point to records that do not exist"
    ),
    "files_not_uploaded": _m(
        "有 {count} 个文件未上传", "{count} file(s) are not in the file store; upload them first"
    ),
    "stale_version": _m(
        "{entity}记录 {id} 在版本 {given} 之后已被修改，请刷新后重新修改",
        "{entity} record {id} was changed since version {given}; reload it and apply your change again",
    ),
    "stale_version.current": _m(
        "{entity}记录 {id} 在版本 {given} 之后已被修改（当前版本 {current}），请刷新后重新修改",
        "{entity} record {id} was changed since version {given} (it is now at version {current}); "
        "reload it and apply your change again",
    ),
    "purge_needs_trash": _m(
        "只能彻底删除回收站中的记录，请先删除", "only a record in the trash can be purged; delete it first"
    ),
    "record_referenced": _m(
        "还有 {count} 条记录引用此{entity}，不能彻底删除；请先修改或删除它们（见 details.referrers）",
        "{count} record(s) still refer to this {entity}; change or purge them first (see details.referrers)",
    ),
    "idempotency_key_invalid": _m(
        "Idempotency-Key 应为 1 到 {max} 个可打印字符",
        "an Idempotency-Key is 1 to {max} printable characters",
    ),
    "idempotency_key_reused": _m(
        "Idempotency-Key {key} 已用于另一个请求；每个不同的请求请用新的键",
        "the Idempotency-Key {key!r} was used for another request; use a new key for each distinct request",
    ),
    "merge_with_itself": _m("记录不能与自身合并", "a record cannot be merged with itself"),
    "bulk_selection": _m(
        "请用 ids（记录编号列表）或 filter（筛选条件，可加关键词 q）之一指定记录，不能两者都给或都不给",
        "name the records with either ids (a list of record ids) or filter (a rule, with keywords q if "
        "wanted), not both or neither",
    ),
    "bulk_count": _m("请提供 1 到 {max} 个记录编号", "give 1 to {max} record ids"),
    "bulk_too_many": _m(
        "筛选条件匹配了 {count} 条记录，一次最多处理 {max} 条；请缩小筛选范围后分批处理",
        "the filter matches {count} records but one bulk operation takes at most {max}; "
        "narrow the filter and go in batches",
    ),
    "records_not_in_trash": _m(
        "记录 {ids} 不在回收站中，无需恢复",
        "record(s) {ids} are not in the trash; there is nothing to restore",
    ),
    "owner_disabled": _m(
        "用户 {username} 已停用，不能成为负责人", "user {username!r} is disabled and cannot own records"
    ),
    "share_target": _m("请指定 user_id 或 department_id 之一", "share with either user_id or department_id"),
    "share_not_found": _m("此记录没有编号为 {share_id} 的共享", "no share with id {share_id} on this record"),
    "unique_clash.items": _m(
        "第 {first} 和第 {second} 条的 {fields}（{values}）重复",
        "items {first} and {second} both have {fields} = {values}, which must be unique",
    ),
    "unique_clash.existing": _m(
        "{fields} {values} 已被记录 {existing_id} 使用",
        "{fields} {values} is already used by record {existing_id}",
    ),
    "duplicate_record": _m(
        "此{entity}与记录 {ids} 重复（规则：{rule}）{where}，未保存",
        "this {entity} duplicates record {ids} (rule {rule}){where}; not saved",
    ),
    "duplicate_warning": _m(
        "此{entity}疑似与记录 {ids} 重复（规则：{rule}）{where}；确认保存请加 ?confirm_duplicates=true",
        "this {entity} looks like record {ids} (rule {rule}){where}; "
        "resend with ?confirm_duplicates=true to save it anyway",
    ),
    "duplicate_hidden": _m(
        "{label}未保存：某个值（{rule}）已被一条您无权查看的记录占用；如需核对请联系管理员",
        "this {label} was not saved: a value ({rule}) is already taken by a record you cannot see; "
        "ask an administrator if you need to know which",
    ),
    "blind_conflicts_exhausted": _m(
        "与无权查看的记录冲突次数过多，请 {minutes} 分钟后再保存需查重的记录",
        "too many conflicts with records you cannot see; "
        "try saving records that are checked for duplicates again in {minutes} minute(s)",
    ),
    # durable jobs
    "job_kind_invalid": _m("任务类型须为 1-{max} 个字符", "a job kind is 1-{max} characters"),
    "job_key_invalid": _m("任务幂等键须为 1-{max} 个字符", "a job key is 1-{max} characters"),
    "job_payload_invalid": _m("任务数据须可存为 JSON：{detail}", "a job payload must be JSON: {detail}"),
    "job_not_found": _m("没有编号为 {id} 的后台任务", "no job with id {id}"),
    "job_not_dead": _m(
        "后台任务 {id} 的状态为 {status}，只有失败终止（dead）的任务可以重试",
        "job {id} is {status}; only a dead job can be retried",
    ),
}

# -- spreadsheet imports and exports ---------------------------------------------------------------
_MESSAGES.update(
    {
        "import_encoding": _m(
            "无法识别文件编码（已尝试 {tried}）；请另存为 UTF-8 或 GB18030 编码的 CSV，或 XLSX",
            "cannot tell the file's encoding (tried {tried}); save it as CSV in UTF-8 or GB18030, or as XLSX",
        ),
        "import_not_a_workbook": _m(
            "文件不是可读取的 XLSX 工作簿：{reason}", "the file is not a readable XLSX workbook: {reason}"
        ),
        "import_too_many_rows": _m(
            "文件超过 {limit} 行，请拆分后分别导入",
            "the file has more than {limit} rows; split it and import each part",
        ),
        "import_empty_file": _m("文件中没有表头和数据", "the file holds no header and no rows"),
        "import_bad_policy": _m(
            "重复处理方式 {policy} 无效，应为 {policies} 之一",
            "{policy} is not a duplicate policy; use one of {policies}",
        ),
        "import_batch_failed": _m(
            "第 {first}–{last} 行反复写入失败，已停止导入；请检查这些行后重试",
            "rows {first}-{last} failed again and again; the import stopped, check those rows and resume",
        ),
        "import_mapping_invalid": _m(
            "列与字段的对应关系有 {count} 处问题", "the column-to-field mapping has {count} problem(s)"
        ),
        "import_not_found": _m("没有编号为 {import_id} 的导入", "no import with id {import_id}"),
        "import_finished": _m("导入 {import_id} 已完成，无需继续", "import {import_id} has finished already"),
        "demo_no_owner": _m(
            "演示数据计划中没有用户担任 {roles}，无法为 {entity} 分配负责人",
            "no user of the demo plan holds {roles} to own the {entity} records",
        ),
        "demo_bad_rule": _m(
            "演示数据计划中的取值规则无法识别：{rule}", "unknown value rule in the demo plan: {rule}"
        ),
        "demo_cannot_publish": _m(
            "演示数据计划要发布 {section}，但没有插件能发布这一部分",
            "the demo plan publishes {section}, which no installed plugin can publish",
        ),
        "demo_unknown_user": _m(
            "演示数据计划中没有用户 {username}（{where}）", "the demo plan has no user {username} ({where})"
        ),
        "export_format": _m(
            "导出格式 {format} 无效，应为 csv 或 xlsx", "{format} is not an export format; use csv or xlsx"
        ),
        "export_column": _m(
            "{name} 不是可导出的列；可导出的列：{columns}",
            "{name} is not a column you can export; the columns are: {columns}",
        ),
    }
)

MESSAGES: Mapping[str, Mapping[str, str]] = MappingProxyType(_MESSAGES)
"""Key -> ``{"zh": template, "en": template}`` for errors and the HTTP layer's answers."""


_PROBLEMS: dict[str, Mapping[str, str]] = {
    # app packages
    "schema": _m("格式不符：{detail}", "{detail}"),
    "duplicate_name.entity": _m("实体名 {name} 重复", "entity name {name!r} is used twice"),
    "duplicate_name.role": _m("角色名 {name} 重复", "role name {name!r} is used twice"),
    "unknown_entity.reference": _m(
        "字段 {name} 引用的实体 {target} 不在此应用中（现有实体：{entities}）",
        "field {name!r} refers to entity {target!r}, which is not in this app (entities: {entities})",
    ),
    # template upgrades
    "merge_conflict": _m(
        "两方都修改了此处：本应用为 {ours}，模板新版本为 {theirs}",
        "changed on both sides: the app has {ours}, the new template version {theirs}",
    ),
    "resolution_pointer": _m(
        "{value} 不是 JSON 指针（应以 / 开头）", "{value!r} is not a JSON pointer (start it with /)"
    ),
    "resolution_side": _m("应为 ours 或 theirs，收到 {value}", "take ours or theirs, got {value!r}"),
    "resolution_unused": _m("{value} 处没有冲突", "there is no conflict at {value!r}"),
    # roles
    "unknown_role": _m(
        "应用 {app} 的角色 {name} 不存在{hint}", "app {app!r} role {name!r} does not exist{hint}"
    ),
    "unknown_entity.role": _m("实体 {name} 不存在{hint}", "entity {name!r} does not exist{hint}"),
    "unknown_field.role": _m(
        "{entity}的字段 {name} 不存在{hint}", "field of {entity} {name!r} does not exist{hint}"
    ),
    "owner_rule": _m("负责人字段只能设为只读", "the owner may only be made readonly"),
    "unfillable_required": _m(
        "角色 {role} 可以新建{entity}，但必填字段 {name} 对其{access}，新建总会失败；"
        "请为该字段设置默认值，或允许该角色填写",
        "role {role!r} may create {entity} records but the required field {name!r} is {access} for it, "
        "so every create would be refused; give the field a default, or let the role write it",
    ),
    "invalid_condition": _m("条件有误：{detail}", "condition: {detail}"),
    # access
    "missing_permission": _m("缺少权限 {permission}", "missing permission {permission}"),
    "field_hidden": _m("字段 {name} 对您隐藏", "field {name!r} is hidden from you"),
    "field_hidden.query": _m("字段 {name} 对您不可见", "field {name!r} is hidden or masked for you"),
    "field_read_only": _m("字段 {name} 对您只读", "field {name!r} is read-only for you"),
    "field_masked": _m(
        "字段 {name} 对您脱敏显示，不能修改", "field {name!r} is masked for you and cannot be changed"
    ),
    # list parameters
    "invalid_filter": _m("筛选条件有误：{detail}", "filter: {detail}"),
    "unsortable_field": _m(
        "{name} 是 {kind} 类型的字段，不能排序",
        "cannot sort by {name!r}: fields of type {kind!r} have no meaningful order",
    ),
    "invalid_sort": _m("不能按 {name} 排序{hint}", "cannot sort by {name!r}{hint}"),
    "too_many_sort_keys": _m("最多按 {max} 个字段排序", "sort by at most {max} fields"),
    "search_too_long": _m(
        "搜索词最多 {max} 个字符（收到 {length} 个）",
        "search text allows at most {max} characters (got {length})",
    ),
    "invalid_limit": _m("limit 应在 1 到 {max} 之间", "limit must be 1 to {max}"),
    "invalid_offset": _m("offset 应在 0 到 {max} 之间", "offset must be 0 to {max}"),
    # files and actions
    "not_a_file_field": _m("{name} 不是文件类字段（{types}）", "{name} is not a file field ({types})"),
    "unknown_action": _m(
        "未知的动作类型 {action}，可用：{known}", "unknown action type {action!r}; known: {known}"
    ),
    # records
    "same_record": _m("不能与自身合并", "a record cannot be merged with itself"),
    "not_an_object": _m("每条记录应为 JSON 对象", "each record must be a JSON object"),
    "invalid_owner": _m(
        "负责人应为有效用户的编号，收到 {value}", "owner must be the id of an active user, got {value!r}"
    ),
    "unknown_row": _m(
        "{sub_table}中没有编号为 {id} 的明细行（或重复出现）",
        "{sub_table} has no row with id {id} (or it appears twice)",
    ),
    "file_not_found": _m(
        "{file_field}中的文件 {name} 未上传或已不存在（{file_id}）",
        "{file_field}: file {name} was not uploaded here ({file_id})",
    ),
}

_PROBLEMS.update(
    {
        "import_mapping_shape": _m(
            'mapping 应为 JSON 对象 {{"列名": "字段名"}}',
            'mapping must be a JSON object {{"column": "field"}}',
        ),
        "import_unknown_column": _m("文件中没有列 {column}", "the file has no column {column}"),
        "import_unknown_field": _m(
            "列 {column} 对应的字段 {name} 不存在或不能导入",
            "column {column}: {name} is not a field that can be imported",
        ),
        "import_field_twice": _m(
            "字段 {name} 已由列 {first} 填写，不能再对应一列",
            "{name} is filled from column {first} already",
        ),
        "import_required_column": _m(
            "必填字段{title}（{name}）没有对应的列", "required field {title} ({name}) has no column"
        ),
        "import_lookup_missing": _m(
            "找不到名称或编号为 {value} 的记录（或无权查看）",
            "no record named {value} (or you may not see it)",
        ),
        "import_lookup_ambiguous": _m(
            "名称 {value} 对应 {count} 条记录，请改用编号",
            "{count} records are named {value}; use the id",
        ),
    }
)

PROBLEMS: Mapping[str, Mapping[str, str]] = MappingProxyType(_PROBLEMS)
"""``code`` or ``code.reason`` -> ``{"zh": template, "en": template}`` for :func:`problem`."""


_PHRASES: dict[str, Mapping[str, str]] = {
    "did_you_mean": _m("（是否想写 {name}？）", "; did you mean {name!r}?"),
    "did_you_mean.aside": _m("（是否想写 {name}？）", " (did you mean {name!r}?)"),
    "known": _m("（现有：{names}）", " (known: {names})"),
    "none": _m("", ""),
    "access.hidden": _m("隐藏", "hidden"),
    "access.readonly": _m("只读", "readonly"),
    "yes": _m("是", "Yes"),
    "no": _m("否", "No"),
    "merge.removed": _m("（已删除）", "(removed)"),
    "import.errors_column": _m("错误", "Errors"),
    "import.owner_column": _m("负责人", "Owner"),
    "import.required_mark": _m("（必填）", "(required)"),
}

PHRASES: Mapping[str, Mapping[str, str]] = MappingProxyType(_PHRASES)
"""Fragments that fill a placeholder: ``key -> {"zh": template, "en": template}``."""


def _localizable(value: Any) -> bool:
    return isinstance(value, Label) or callable(getattr(value, "message", None))


def localize(value: Any, lang: Language) -> Any:
    """``value`` in ``lang`` if it is bilingual (see the module docstring), else unchanged."""
    if isinstance(value, Label):
        return value.zh if lang == "zh" else value.en
    if isinstance(value, Mapping) and "zh" in value and "en" in value:
        return value[lang]
    if callable(getattr(value, "message", None)):
        return value.message(lang)
    return value


def render(
    key: str,
    locale: str | None,
    params: Mapping[str, Any],
    catalogue: Mapping[str, Mapping[str, str]] = MESSAGES,
) -> str:
    """The template ``key`` of ``catalogue`` in the locale's language, filled from ``params``.

    KeyError when there is no such key or a placeholder has no param."""
    lang = language(locale)
    return catalogue[key][lang].format(**{name: localize(v, lang) for name, v in params.items()})


def both(value: Any) -> Localized:
    """``value`` in both languages, the form a problem param must take to be localized."""
    return {lang: str(localize(value, lang)) for lang in LANGUAGES}


def phrase(key: str, **params: Any) -> Localized:
    """The fragment ``key`` of :data:`PHRASES` in both languages, filled from ``params``."""
    return {lang: render(key, lang, params, PHRASES) for lang in LANGUAGES}


def did_you_mean(close: str | None, *, aside: bool = False) -> Localized:
    """A "did you mean" hint naming ``close``, or nothing when there is no close name."""
    if close is None:
        return phrase("none")
    return phrase("did_you_mean.aside" if aside else "did_you_mean", name=close)


def name_list(names: Iterable[str]) -> Localized:
    """Names sorted and joined, ``a, b`` / ``a、b``; ``none`` / ``无`` when there are none."""
    ordered = sorted(names)
    return {"zh": "、".join(ordered) or "无", "en": ", ".join(ordered) or "none"}


def problem(key: str, *, field: str | None = None, pointer: str | None = None, **params: Any) -> Problem:
    """A problem worded by ``PROBLEMS[key]``; its code is ``key`` up to the first dot.

    Labels and things with ``message(locale)`` among ``params`` are stored as ``{"zh", "en"}``
    pairs: the form engine renders the problem, and localizes only those.
    """
    if key not in _PROBLEMS:
        raise KeyError(f"no problem {key!r} in engine.messages.PROBLEMS")
    code, _, reason = key.partition(".")
    values = {name: both(v) if _localizable(v) else v for name, v in params.items()}
    if reason:
        values["reason"] = reason
    return Problem(code, field=field, pointer=pointer, params=values)


# The form engine renders every problem, the kernel's included.
add_messages(_PROBLEMS)
