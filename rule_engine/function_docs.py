"""The function table of ``docs/rules.md``, generated from :data:`rule_engine.FUNCTIONS`.

A test compares the table in the committed doc with :func:`functions_table`; regenerate it in
place with ``python -m rule_engine.function_docs`` (the text around the table is written by hand).
"""

from __future__ import annotations

import sys
from pathlib import Path

from rule_engine.functions import FUNCTIONS

DOC_PATH = Path("docs/rules.md")
HEADER = "| function | meaning | 说明 |"


def functions_table() -> str:
    """One row per DSL function, in registry order: signature, English and Chinese meaning."""
    rows = [HEADER, "| --- | --- | --- |"]
    for spec in FUNCTIONS.values():
        signature = spec.signature.replace("|", "\\|")
        rows.append(f"| `{signature}` | {spec.en} | {spec.zh} |")
    return "\n".join(rows) + "\n"


def replace_table(text: str) -> str:
    """``text`` with the table that starts at :data:`HEADER` replaced by the generated one."""
    start = text.index(HEADER)
    end = start
    lines = text[start:].splitlines(keepends=True)
    for line in lines:
        if not line.startswith("|"):
            break
        end += len(line)
    return text[:start] + functions_table() + text[end:]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the table (``--check``: exit 1 when the committed one is stale)."""
    args = sys.argv[1:] if argv is None else argv
    text = DOC_PATH.read_text("utf-8")
    fresh = replace_table(text)
    if "--check" in args:
        return 0 if fresh == text else 1
    DOC_PATH.write_text(fresh, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
