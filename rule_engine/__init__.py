"""The rule DSL: text -> typed AST -> a Python function and a SQLAlchemy expression, one meaning.

>>> expr = compile("amount > 500000 and grade == 'A'", {"amount": "number", "grade": "text"})
>>> expr.matches({"amount": 600000, "grade": "A"})
True
"""

from rule_engine.code_trees import CodeTree, Resolution
from rule_engine.errors import CODES, RuleError, RuleSetError
from rule_engine.expression import Expression, compile
from rule_engine.functions import FUNCTIONS, FunctionSpec
from rule_engine.messages import MESSAGES
from rule_engine.parser import MAX_DEPTH, MAX_TEXT_LENGTH
from rule_engine.ruleset import EVENTS, FiredAction, Rule, RuleSet
from rule_engine.runtime import Related
from rule_engine.sql_backend import RelatedSql, RelatedTable
from rule_engine.sql_dialects import install_sqlite_functions
from rule_engine.sql_workdays import CALENDAR_TABLE, calendar_rows
from rule_engine.type_checker import QUANTIFIERS
from rule_engine.types import FIELD_TYPES, Choices, Relation
from rule_engine.workdays import FIRST as CALENDAR_FIRST
from rule_engine.workdays import LAST as CALENDAR_LAST
from rule_engine.workdays import (
    WorkCalendar,
    bundled_calendar,
    bundled_calendar_source,
    calendar_from,
    use_calendar,
)

__all__ = [
    "CALENDAR_FIRST",
    "CALENDAR_LAST",
    "CALENDAR_TABLE",
    "CODES",
    "EVENTS",
    "FIELD_TYPES",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_TEXT_LENGTH",
    "MESSAGES",
    "QUANTIFIERS",
    "Choices",
    "CodeTree",
    "Expression",
    "FiredAction",
    "FunctionSpec",
    "Related",
    "RelatedSql",
    "RelatedTable",
    "Relation",
    "Resolution",
    "Rule",
    "RuleError",
    "RuleSet",
    "RuleSetError",
    "WorkCalendar",
    "bundled_calendar",
    "bundled_calendar_source",
    "calendar_from",
    "calendar_rows",
    "compile",
    "install_sqlite_functions",
    "use_calendar",
]
