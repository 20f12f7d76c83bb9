"""JSON Schemas of the ``flows`` and ``calendars`` package sections (part of /api/schema/app)."""

from __future__ import annotations

from typing import Any

NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,59}$"}
LABEL = {
    "type": "object",
    "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
    "required": ["zh", "en"],
    "additionalProperties": False,
}
REF = {"$ref": "#/$defs/FlowNodeRef"}
DURATION = {
    "type": "object",
    "properties": {
        "days": {"type": "integer", "minimum": 0},
        "hours": {"type": "number", "minimum": 0},
        "minutes": {"type": "number", "minimum": 0},
        "business": {"type": "boolean", "description": "count working time of the calendar only"},
    },
    "additionalProperties": False,
    "minProperties": 1,
}

#: Who does a task: one of these keys per item; several items add up.
PEOPLE: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "user": {"type": ["string", "integer"], "description": "a username or user id"},
            "role": {"type": "string", "description": "members of an app role"},
            "department": {"type": ["string", "integer"], "description": "members of a department"},
            "field": {"type": "string", "description": "a user field of the record (owner)"},
            "manager_of": {"enum": ["starter", "owner"]},
            "head_of": {"type": ["string", "integer"], "description": "starter, owner or a department"},
            "admins": {"const": True},
            "starter": {"const": True, "description": "who started the flow"},
        },
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
    },
}

LIMIT = {
    "type": "object",
    "description": "a time limit on a waiting node and what happens when it passes",
    "properties": {
        "after": DURATION,
        "warn_before": DURATION,
        "policy": {"enum": ["remind", "escalate", "approve", "reject"]},
        "to": PEOPLE,
        "repeat": {"type": "integer", "minimum": 0, "maximum": 20},
        "pause_while": {
            "type": "string",
            "description": "the clock stops while this rule holds for the record (a case waiting for "
            "the customer); the time left carries over when it resumes",
        },
    },
    "required": ["after", "policy"],
    "additionalProperties": False,
}

ACTION = {"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"]}

NODE_TYPES = ("start", "end", "condition", "split", "join", "approval", "task", "action", "cc", "wait")

NODE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": NAME,
        "type": {"enum": list(NODE_TYPES)},
        "label": LABEL,
        "next": {"oneOf": [REF, {"type": "array", "items": REF, "minItems": 2}]},
        "branches": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"when": {"type": "string"}, "next": REF, "label": LABEL},
                "required": ["when", "next"],
                "additionalProperties": False,
            },
        },
        "default": REF,
        "split": REF,
        "mode": {"enum": ["all", "any", "sequential", "percent"]},
        "percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
        "approvers": PEOPLE,
        "assignee": PEOPLE,
        "to": PEOPLE,
        "if_nobody": {"enum": ["approve", "admin", "refuse"]},
        "on_reject": {"type": "string", "description": "end, starter, or a node id"},
        "editable": {"type": "array", "items": {"type": "string"}},
        "lock": {"type": "boolean"},
        "fields": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "actions": {"type": "array", "items": ACTION, "minItems": 1},
        "for": DURATION,
        "until_field": {"type": "string"},
        "offset": DURATION,
        "until": {"type": "string", "description": "wait until this rule holds for the record"},
        "limit": LIMIT,
        "due": DURATION,
        "result": {"enum": ["done", "approved", "rejected"]},
        "title": LABEL,
    },
    "required": ["id", "type"],
    "additionalProperties": False,
    "allOf": [
        {"if": {"properties": {"type": {"const": "condition"}}}, "then": {"required": ["branches"]}},
        {"if": {"properties": {"type": {"const": "split"}}}, "then": {"required": ["next"]}},
        {"if": {"properties": {"type": {"const": "join"}}}, "then": {"required": ["split", "next"]}},
        {"if": {"properties": {"type": {"const": "approval"}}}, "then": {"required": ["approvers", "next"]}},
        {"if": {"properties": {"type": {"const": "task"}}}, "then": {"required": ["assignee", "next"]}},
        {"if": {"properties": {"type": {"const": "action"}}}, "then": {"required": ["actions", "next"]}},
        {"if": {"properties": {"type": {"const": "cc"}}}, "then": {"required": ["to", "next"]}},
        {"if": {"properties": {"type": {"const": "wait"}}}, "then": {"required": ["next"]}},
        {"if": {"properties": {"type": {"const": "start"}}}, "then": {"required": ["next"]}},
    ],
}

TRIGGER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"enum": ["record", "manual", "date", "schedule"]},
        "on": {"type": "array", "items": {"enum": ["created", "updated", "deleted"]}, "minItems": 1},
        "fields": {
            "type": "array",
            "items": {"type": "string"},
            "description": "updated: only when one of these fields changed",
        },
        "when": {"type": "string", "description": "a rule; may use changed(x) and old(x)"},
        "field": {"type": "string", "description": "date: the date field the start is relative to"},
        "offset": DURATION,
        "cron": {"type": "string", "description": "schedule: minute hour day month weekday"},
        "timezone": {"type": "string"},
        "filter": {"type": "string", "description": "schedule: the records to start on"},
    },
    "required": ["type"],
    "additionalProperties": False,
    "allOf": [
        {"if": {"properties": {"type": {"const": "date"}}}, "then": {"required": ["field"]}},
        {"if": {"properties": {"type": {"const": "schedule"}}}, "then": {"required": ["cron"]}},
    ],
}

FLOW: dict[str, Any] = {
    "type": "object",
    "description": "A flow: a graph of nodes run on records of one entity",
    "properties": {
        "name": NAME,
        "label": LABEL,
        "entity": {"type": "string"},
        "enabled": {"type": "boolean"},
        "trigger": TRIGGER,
        "calendar": {"type": "string"},
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/FlowNode"}, "minItems": 2},
    },
    "required": ["name", "entity", "trigger", "nodes"],
    "additionalProperties": False,
    "$defs": {"FlowNode": NODE, "FlowNodeRef": NAME},
}

HOURS = {
    "type": "array",
    "items": {
        "type": "array",
        "items": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"},
        "minItems": 2,
        "maxItems": 2,
    },
}
DATES = {"type": "array", "items": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}}

CALENDAR: dict[str, Any] = {
    "type": "object",
    "description": "A working calendar: hours per weekday, holidays and make-up working days",
    "properties": {
        "name": NAME,
        "label": LABEL,
        "timezone": {"type": "string"},
        "hours": {
            "type": "object",
            "properties": {d: HOURS for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "additionalProperties": False,
        },
        "workday_hours": HOURS,
        "holidays": DATES,
        "workdays": DATES,
    },
    "required": ["name"],
    "additionalProperties": False,
}
