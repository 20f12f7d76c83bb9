"""Duplicate matching keys: the same normalised values mean the same real-world thing.

The kernel stores or computes ``normalised_key`` for each record and rule, and looks for other
records with an equal key; the rule's policy says what to do with a match.

A key starts with its rule and :data:`KEY_VERSION`. The version changes whenever a field type's
``normalise`` (or ``fold_text``) does, so keys stored by an older normalisation never equal new
ones, and the kernel can find them (``key_prefix``) and recompute them (``tangram migrate``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from form_engine.definition_memo import DefinitionMemo
from form_engine.definitions import EntityDef
from form_engine.entity_rules import DuplicateRule

#: Bump with every change to what normalisation treats as equal. 2: ``fold_text`` (NFKC,
#: punctuation variants, no whitespace) for text, rich text, tags and address details.
KEY_VERSION = 2


def key_prefix(rule: str) -> str:
    """How every key of ``rule`` made by this version's normalisation begins."""
    return f"{rule}:{KEY_VERSION}:"


@dataclass(frozen=True)
class DuplicateMatch:
    """A rule that matched another record: what the kernel reports to the client."""

    rule: str
    policy: str
    record_id: Any


#: Recent keys by (entity definition, rule, values): an import computes each row's keys to
#: sort out its duplicates, then the write step computes them again for the same values.
_RECENT: DefinitionMemo[str | None] = DefinitionMemo(4096)
#: ``json.dumps`` with these settings, built once rather than for every key.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))


def normalised_key(entity: EntityDef, rule: DuplicateRule, record: Mapping[str, Any]) -> str | None:
    """A stable text key of the record's normalised values for ``rule``; None when incomplete.

    A record with a blank value in any of the rule's fields never matches anything: two
    companies without a phone number are not duplicates of each other.
    """
    values = tuple(record.get(name) for name in rule.fields)
    try:
        hash(values)
    except TypeError:  # a list value (multi-select, tags): not hashable, not remembered
        return _key(entity, rule, record)
    return _RECENT.get(entity, (rule.name, values), lambda: _key(entity, rule, record))


def _key(entity: EntityDef, rule: DuplicateRule, record: Mapping[str, Any]) -> str | None:
    parts: list[Any] = []
    for name in rule.fields:
        f = entity.field(name)
        value = record.get(name)
        if value is None or value == "":
            return None
        normal = f.field_type.normalise(value, f)
        if normal is None or normal == "":
            return None
        parts.append(normal)
    text = _ENCODER.encode(parts)
    return f"{key_prefix(rule.name)}{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def duplicate_keys(entity: EntityDef, record: Mapping[str, Any]) -> dict[str, str]:
    """``{rule name: key}`` for every duplicate rule that applies to the record."""
    keys = {}
    for rule in entity.duplicate_rules:
        key = normalised_key(entity, rule, record)
        if key is not None:
            keys[rule.name] = key
    return keys
