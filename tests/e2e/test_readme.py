"""The README's first steps, run literally in a shell against a real `tangram serve`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_HASH_COST

ROOT = Path(__file__).resolve().parents[2]


def _blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", body, re.S)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder laid out like a checkout: the README's relative paths resolve in it."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    venv_bin = Path(sys.executable).parent
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(venv_bin, target_is_directory=True)
    return tmp_path


@pytest.fixture
def server(workdir: Path) -> Iterator[tuple[int, dict[str, str]]]:
    setup, serve, _requests = _blocks("First steps")
    port = _free_port()
    env = {
        **os.environ,
        "TANGRAM_DATA_DIR": str(workdir / "data"),
        "TANGRAM_PASSWORD_HASH_COST": str(TEST_HASH_COST),
    }
    env.pop("TANGRAM_DATABASE_URL", None)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", setup],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "imported app sales" in result.stdout
    command = serve.strip().replace("--port 8000", f"--port {port}")
    process = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"tangram serve exited: {process.stdout.read() if process.stdout else ''}")
                time.sleep(0.1)
        else:
            pytest.fail("tangram serve did not start within 30 s")
        yield port, env
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def test_first_steps_work_as_written(server: tuple[int, dict[str, str]], workdir: Path) -> None:
    port, env = server
    _setup, _serve, requests = _blocks("First steps")
    script = requests.replace("localhost:8000", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    created_text, listed_text = result.stdout.strip().split("}{", 1)
    created = json.loads(created_text + "}")
    listed = json.loads("{" + listed_text)
    assert created["name"] == "华为技术有限公司" and created["id"] == 1
    assert listed.get("total") == 1, (created_text, listed_text)
    assert listed["total"] == 1 and listed["items"][0]["grade"] == "A"
