"""The identity memo the search plan and the duplicate keys share."""

from __future__ import annotations

from form_engine import DefinitionMemo


class Definition:
    """Stands for an immutable, unhashable definition (an EntityDef)."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, name: str) -> None:
        self.name = name


def test_an_answer_is_computed_once_per_definition_and_key() -> None:
    memo: DefinitionMemo[str] = DefinitionMemo(8)
    calls: list[tuple[str, str]] = []

    def answer(d: Definition, key: str) -> str:
        def compute() -> str:
            calls.append((d.name, key))
            return f"{d.name}:{key}"

        return memo.get(d, key, compute)

    first, twin = Definition("account"), Definition("account")
    assert [answer(first, "a"), answer(first, "a"), answer(first, "b")] == ["account:a"] * 2 + ["account:b"]
    assert answer(twin, "a") == "account:a"  # an equal but other object: its own entry
    assert calls == [("account", "a"), ("account", "b"), ("account", "a")]


def test_a_full_memo_forgets_and_a_reused_identity_never_answers_for_another() -> None:
    memo: DefinitionMemo[int] = DefinitionMemo(2)
    kept = Definition("kept")
    assert memo.get(kept, None, lambda: 1) == 1
    assert memo.get(Definition("x"), None, lambda: 2) == 2
    assert memo.get(Definition("y"), None, lambda: 3) == 3  # full: everything forgotten
    assert memo.get(kept, None, lambda: 4) == 4
    for n in range(50):  # new objects may reuse a collected one's id: each gets its own answer
        assert memo.get(Definition(str(n)), None, int(n).__int__) == n
