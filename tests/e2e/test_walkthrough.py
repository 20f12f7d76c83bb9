"""docs/walkthrough.md, run word for word in one shell against a real `tangram serve`: a new
admin who follows it gets exactly the answers it describes."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_HASH_COST

ROOT = Path(__file__).resolve().parents[2]


def _script() -> str:
    text = (ROOT / "docs" / "walkthrough.md").read_text(encoding="utf-8")
    return "\n".join(re.findall(r"```sh\n(.*?)```", text, re.S))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder laid out like a checkout: the walkthrough's relative paths resolve in it."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(Path(sys.executable).parent, target_is_directory=True)
    return tmp_path


def _json_lines(out: str) -> list[dict]:  # type: ignore[type-arg]
    found = []
    for line in out.splitlines():
        head = line.split(" -> ")[0]
        if head.startswith("{"):
            found.append(json.loads(head))
    return found


def test_the_walkthrough_works_as_written(workdir: Path) -> None:
    port = _free_port()
    script = _script().replace("localhost:8000", f"127.0.0.1:{port}").replace("--port 8000", f"--port {port}")
    env = {**os.environ, "TANGRAM_PASSWORD_HASH_COST": str(TEST_HASH_COST)}
    env.pop("TANGRAM_DATABASE_URL", None)
    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        pid_file = workdir / "crm-server.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
    log = workdir / "crm-server.log"
    assert result.returncode == 0, result.stdout + result.stderr + (log.read_text() if log.exists() else "")
    out = result.stdout
    # departments, roles
    assert "华南区" in out and "sales_manager" in out
    # a rep sees her own account with the phone masked, and not the other rep's
    accounts = [r for r in _json_lines(out) if r.get("name") == "深圳华为技术有限公司"]
    assert accounts and all(r["phone"] != "+8675586013388" and "*" in r["phone"] for r in accounts[:1])
    assert "account 3 for li: 404" in out
    # duplicate rules: warn on the same company name, block on the same mobile
    assert re.search(r'"duplicate_warning".* -> 409', out)
    assert re.search(r'"duplicate_record".* -> 409', out)
    # formula and roll-ups
    opportunity = next(r for r in _json_lines(out) if r.get("name") == "华为云服务器采购")
    assert opportunity["expected"] == "300000.00"
    account_reads = [r for r in _json_lines(out) if r.get("id") == 1 and "pipeline_total" in r]
    assert account_reads[2]["pipeline_total"] == "620000.00" and account_reads[2]["contact_count"] == 1
    # validations: the past close date, the form's required loss reason, no reopening
    assert re.search(r'"close_date".* -> 422', out)
    assert re.search(r'"loss_reason".* -> 422', out)
    assert re.search(r'"stage".* -> 422', out)
    # the manager's view: Li's accounts in pinyin order, not Chen's; search by word and pinyin
    pages = [r for r in _json_lines(out) if "items" in r]
    sorted_page, open_deals, by_word, by_initials, by_pinyin = pages[:5]
    assert [i["name"] for i in sorted_page["items"]] == ["比亚迪股份有限公司", "深圳华为技术有限公司"]
    assert [i["name"] for i in open_deals["items"]] == ["华为云服务器采购"]
    assert [i["name"] for i in by_word["items"]] == ["深圳华为技术有限公司"]
    assert [i["name"] for i in by_initials["items"]] == ["比亚迪股份有限公司"]
    assert [i["name"] for i in by_pinyin["items"]] == ["阿里巴巴（中国）有限公司"]
    assert '"op":"update"' in out.replace(" ", "")
