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


def test_reports_benchmark_runs_on_each_database(postgres_database: str) -> None:
    out = _run("bench/reports.py", "--smoke", "--backend", "all")
    for kind in ("sqlite", "postgresql"):
        lines = [line for line in out.splitlines() if line.startswith(kind)]
        for what in ("by_stage", "month_region", "funnel", "kpi", "cohort", "top", "cold", "warm"):
            assert any(what in line for line in lines), out


def test_search_benchmark_runs_on_each_database(postgres_database: str) -> None:
    out = _run("bench/search.py", "--smoke", "--backend", "all")
    for kind in ("sqlite", "postgresql"):
        lines = [line for line in out.splitlines() if line.startswith(kind)]
        assert all(any(f"q={q!r}" in line and "LIKE" in line for line in lines) for q in ("华为", "hw")), out


def test_jobs_benchmark_fires_each_timer_exactly_once_on_each_database(postgres_database: str) -> None:
    """Real ``tangram worker`` processes, one and four; the script itself fails unless every
    timer fired exactly once."""
    out = _run("bench/jobs.py", "--smoke", "--backend", "all")
    for kind in ("sqlite", "postgresql"):
        lines = [line for line in out.splitlines() if line.startswith(kind)]
        fired = [line for line in lines if "exactly once" in line]
        assert len(fired) == 2 and "1 worker(s)" in fired[0] and "4 worker(s)" in fired[1], out
        assert any("raw SQL baseline" in line for line in lines), out


def test_flow_benchmark_runs_against_spiffworkflow() -> None:
    out = _run("bench/flows.py", "--smoke")
    for what in (
        "SpiffWorkflow, in memory",
        "JSON round trip",
        "SpiffWorkflow, SQLite",
        "tangram, SQLite",
        "goal >= 10",
    ):
        assert what in out, out
