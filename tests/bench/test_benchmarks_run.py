"""Every benchmark still runs: each script in a small smoke mode, on both databases where it
measures them. The figures of a smoke run mean nothing and are not asserted; a benchmark that
no longer runs is a broken build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_records_benchmark_runs_on_each_database(postgres_database: str) -> None:
    out = _run("bench/records.py", "--smoke", "--backend", "all")
    for kind in ("sqlite", "postgresql"):
        lines = [line for line in out.splitlines() if line.startswith(kind)]
        measured = {
            what for what in ("bulk create", "single create", "page of 50", "duplicate rule", "2 lines")
        }
        assert all(any(what in line for line in lines) for what in measured), out


def test_http_benchmark_runs_on_each_database_without_a_5xx(postgres_database: str) -> None:
    """A real ``tangram serve``, with one worker and with two; a 5xx is a bug even in smoke."""
    out = _run("bench/http_api.py", "--smoke", "--backend", "all")
    for kind in ("sqlite", "postgresql"):
        lines = [line for line in out.splitlines() if line.startswith(kind)]
        measured = ("health", "page of 50", "single create", "--workers 1", "--workers 2")
        assert all(any(what in line for line in lines) for what in measured), out
        assert all(" 5xx 0 " in line for line in lines if "--workers" in line), out


@pytest.mark.parametrize(
    ("script", "expected"), [("bench/validation.py", "fastjsonschema"), ("bench/rules.py", "sql/hand")]
)
def test_dsl_and_validation_benchmarks_run(script: str, expected: str) -> None:
    assert expected in _run(script, "300")


def test_import_benchmark_runs_on_each_database(postgres_database: str) -> None:
    out = _run("bench/import.py", "--smoke", "--backend", "all")
    for kind in ("sqlite", "postgresql"):
        assert any(line.startswith(kind) and "ratio" in line for line in out.splitlines()), out
