"""Rule sets: compiled at once, every broken rule reported, actions fired in order."""

from __future__ import annotations

from typing import Any

import pytest

import rule_engine

FIELDS = {"amount": "number", "stage": "text", "grade": "text"}

RULES: list[dict[str, Any]] = [
    {
        "name": "big-deal",
        "entity": "deal",
        "on": ["create", "update"],
        "when": "amount > 500000",
        "order": 2,
        "actions": [{"type": "notify", "to": "manager"}, {"type": "assign", "to": "vp"}],
    },
    {
        "name": "won",
        "entity": "deal",
        "on": ["update"],
        "when": "changed(stage) and stage == 'won'",
        "order": 1,
        "actions": [{"type": "create_record", "entity": "invoice"}],
    },
    {
        "name": "off",
        "entity": "deal",
        "on": ["create"],
        "when": "true",
        "enabled": False,
        "actions": [{"type": "notify"}],
    },
    {"name": "always", "entity": "deal", "on": ["delete"], "when": "", "actions": [{"type": "webhook"}]},
]


def test_fire_returns_actions_in_rule_then_list_order() -> None:
    rules = rule_engine.RuleSet(RULES, FIELDS)
    fired = rules.fire("update", {"amount": 600000, "stage": "won"}, old={"stage": "open"})
    assert [(f.rule, f.type) for f in fired] == [
        ("won", "create_record"),
        ("big-deal", "notify"),
        ("big-deal", "assign"),
    ]
    assert fired[1].action["to"] == "manager"


def test_create_has_no_changes_and_disabled_rules_stay_silent() -> None:
    rules = rule_engine.RuleSet(RULES, FIELDS)
    assert [f.rule for f in rules.fire("create", {"amount": 1, "stage": "won"})] == []
    assert [f.type for f in rules.fire("delete", {})] == ["webhook"]


def test_unknown_condition_does_not_fire() -> None:
    rules = rule_engine.RuleSet(RULES, FIELDS)
    assert rules.fire("create", {"amount": None}) == []


def test_every_broken_rule_is_reported_with_name_and_position() -> None:
    broken = [
        {"name": "ok", "on": ["create"], "when": "amount > 1", "actions": []},
        {"name": "typo", "on": ["create"], "when": "amout > 1", "actions": []},
        {"name": "syntax", "on": ["create"], "when": "amount >", "actions": []},
        {"name": "bad-event", "on": ["save"], "when": "true", "actions": []},
        {"name": "not-bool", "on": ["create"], "when": "amount + 1", "actions": []},
        {"on": ["create"], "when": "true"},
        {"name": "ok", "on": ["create"], "when": "true"},
    ]
    with pytest.raises(rule_engine.RuleSetError) as info:
        rule_engine.RuleSet(broken, FIELDS)
    errors = info.value.errors
    assert [(e.rule, e.code) for e in errors] == [
        ("typo", "unknown_field"),
        ("syntax", "syntax"),
        ("bad-event", "invalid_rule"),
        ("not-bool", "type_mismatch"),
        ("#6", "invalid_rule"),
        ("ok", "invalid_rule"),
    ]
    assert (errors[0].line, errors[0].column, errors[0].suggestions) == (1, 1, ["amount"])
    assert "typo" in str(info.value) and "syntax" in str(info.value)
    assert len(info.value.to_dict()["errors"]) == 6
    assert isinstance(info.value, rule_engine.RuleError)


@pytest.mark.parametrize("entity", ["", 7, ["deal"]])
def test_entity_must_be_a_name(entity: object) -> None:
    """A rule whose entity is not a name would never fire for any entity; it is refused instead."""
    rule = {"name": "r", "entity": entity, "on": ["create"], "when": "true", "actions": []}
    with pytest.raises(rule_engine.RuleSetError) as info:
        rule_engine.RuleSet([rule], FIELDS)
    (error,) = info.value.errors
    assert (error.rule, error.code, error.params["reason"]) == ("r", "invalid_rule", "entity")
    assert "`entity`" in str(error) and "`entity`" in error.message("zh")


def test_unknown_event_is_refused() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.RuleSet(RULES, FIELDS).fire("save", {})
    assert (info.value.code, info.value.params["found"]) == ("invalid_rule", "save")
