"""Access control: the one place that decides who may do what to which records and fields.

Every record path asks ``platform.access`` (an ``AccessPolicy``); the default is ``RoleAccess``,
which enforces the roles an app package defines. ``OpenAccess`` allows everything (embedding).
"""

from engine.access.field_rules import FieldPlan
from engine.access.masking import mask
from engine.access.policy import RoleAccess
from engine.access.protocol import AccessPolicy, OpenAccess, Operation

__all__ = ["AccessPolicy", "FieldPlan", "OpenAccess", "Operation", "RoleAccess", "mask"]
