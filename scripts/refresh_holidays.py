"""Rebuild ``rule_engine/data/cn_calendar.json``: mainland public holidays and make-up working
days (调休) from the State Council's yearly notices, as collected by the ``chinese-calendar``
package (PyPI, MIT), which transcribes each 国务院办公厅关于 YYYY 年部分节假日安排的通知.

    .venv/bin/python scripts/refresh_holidays.py

Run it after a new notice is published (usually in November for the next year) and a package
release carries it; check the new year against the notice itself before committing, and record
the notice's date in ``rule_engine/data/README.md``. The package is fetched with ``pip download``
and read as data; it is not installed.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "rule_engine" / "data" / "cn_calendar.json"
PACKAGE = "chinese-calendar==1.11.0"


def read_constants(source: str) -> tuple[dict[date, str], dict[date, str]]:
    """The ``holidays`` and ``workdays`` tables of ``chinese_calendar/constants.py`` with the
    Chinese name of each day's holiday, read without importing the package."""
    tree = ast.parse(source)
    names: dict[str, str] = {}
    tables: dict[str, dict[date, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Holiday":
            for item in node.body:
                if isinstance(item, ast.Assign) and isinstance(item.value, ast.Tuple):
                    names[item.targets[0].id] = ast.literal_eval(item.value.elts[1])  # type: ignore[attr-defined]
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("holidays", "workdays"):
                table: dict[date, str] = {}
                for key, value in zip(node.value.keys, node.value.values, strict=True):
                    assert isinstance(key, ast.Call) and isinstance(value, ast.Attribute)
                    parts = {k.arg: ast.literal_eval(k.value) for k in key.keywords}
                    holiday = value.value
                    assert isinstance(holiday, ast.Attribute)
                    table[date(parts["year"], parts["month"], parts["day"])] = names[holiday.attr]
                tables[target.id] = table
    return tables["holidays"], tables["workdays"]


def _one_day_a_line(data: dict[str, Any]) -> str:
    """JSON that diffs well: one day per line."""
    parts = [f'"source": {json.dumps(data["source"], ensure_ascii=False)}']
    for key in ("holidays", "workdays"):
        days = ",\n".join(json.dumps(day, ensure_ascii=False) for day in data[key])
        parts.append(f'"{key}": [\n{days}\n]')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", PACKAGE, "-d", tmp], check=True
        )
        wheel = zipfile.ZipFile(next(Path(tmp).glob("chinese_calendar-*.whl")))
        holidays, workdays = read_constants(wheel.read("chinese_calendar/constants.py").decode("utf-8"))
    years = sorted({d.year for d in holidays} | {d.year for d in workdays})
    data = {
        "source": {
            "package": f"PyPI {PACKAGE} (transcribes the State Council's yearly notices)",
            "refreshed": date.today().isoformat(),
            "script": "scripts/refresh_holidays.py",
            "years": [years[0], years[-1]],
        },
        "holidays": [[d.isoformat(), name] for d, name in sorted(holidays.items())],
        "workdays": [[d.isoformat(), name] for d, name in sorted(workdays.items())],
    }
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(_one_day_a_line(data), encoding="utf-8")
    print(f"years {years[0]}-{years[-1]}: {len(holidays)} holidays, {len(workdays)} make-up working days")


if __name__ == "__main__":
    main()
