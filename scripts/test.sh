#!/usr/bin/env bash
# Set up a virtualenv with the test extra and run lint, type checks and the whole test suite on
# SQLite and PostgreSQL (TANGRAM_TEST_DATABASE_URL, default: the local server on 127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
# Browser tests (tests/builder_ui) drive Debian's chromium; a CJK font makes Chinese render in
# their screenshots. Never `playwright install`: it downloads a browser this machine cannot fetch.
if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-microhei
fi
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e ".[test]"
# bench/rules.py compares against the PyPI rule-engine package, which shares our package's import
# name; it lives apart, in bench/.deps (the benchmarks run in a smoke mode in the suite).
[ -f bench/.deps/rule_engine/__init__.py ] ||
    .venv/bin/pip install -q --disable-pip-version-check --target bench/.deps rule-engine
# bench/flows.py compares the flow engine with SpiffWorkflow (BPMN), kept apart the same way.
[ -d bench/.deps/SpiffWorkflow ] ||
    .venv/bin/pip install -q --disable-pip-version-check --target bench/.deps spiffworkflow
export TANGRAM_TEST_DATABASE_URL="${TANGRAM_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
.venv/bin/ruff check .
# The whole tree configured in pyproject.toml ([tool.mypy] files); rule_engine and form_engine strict.
.venv/bin/mypy
# One worker per core (xdist); each worker is its own session with its own PostgreSQL database.
# Pass -n 0 to run everything in this one process (for --pdb, or to compare timings).
.venv/bin/python -m pytest -n auto "$@"
