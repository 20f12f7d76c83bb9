"""``tangram demo`` as a new user runs it: a fresh folder, the CRM with sample data, a user per
role, and a server they sign in to."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

import templates_library
from tests.conftest import TEST_HASH_COST


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_demo_serves_a_crm_with_data_and_a_user_per_role(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "TANGRAM_PASSWORD_HASH_COST": str(TEST_HASH_COST)}
    for name in ("TANGRAM_DATABASE_URL", "TANGRAM_DATA_DIR"):
        env.pop(name, None)
    tangram = Path(sys.executable).parent / "tangram"
    command = [str(tangram), "demo", "--folder", "crm-demo", "--scale", "0.02", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # the demo prints its users, then serves
            lines.append(line)
            if line.startswith("serving on"):
                break
        else:
            raise AssertionError("".join(lines))
        output = "".join(lines)
        users = dict(re.findall(r"^  (\S+)\s+(\S+-demo-2026)\s", output, re.M))
        assert {"admin", "director", "rep_east1", "service1", "service_lead"} <= set(users)
        assert (tmp_path / "crm-demo" / "tangram.db").is_file()

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)

        def sign_in(username: str) -> dict[str, str]:
            r = httpx.post(f"{base}/api/auth/token", json={"username": username, "password": users[username]})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        def deals(username: str) -> list[dict[str, object]]:
            r = httpx.get(
                f"{base}/api/apps/crm/records/opportunity", params={"limit": 1000}, headers=sign_in(username)
            )
            assert r.status_code == 200, r.text
            items: list[dict[str, object]] = r.json()["items"]
            return items

        everything = deals("admin")
        mine = deals("rep_east1")
        assert len(everything) >= 40 and 0 < len(mine) < len(everything)
        rep_id = next(
            u["id"]
            for u in httpx.get(f"{base}/api/users", headers=sign_in("admin")).json()
            if u["username"] == "rep_east1"
        )
        assert {d["owner"] for d in mine} == {rep_id}
        east = deals("manager_east")
        assert len(mine) <= len(east) < len(everything)  # a manager sees the department's deals
        assert len(deals("director")) == len(everything)
        cases = httpx.get(f"{base}/api/apps/crm/records/case", headers=sign_in("service1"))
        assert cases.status_code == 200 and cases.json()["total"] > 0

        # the plan publishes the template's flows after the data: a new lead is assigned
        plan = templates_library.demo_plan("crm")
        assert plan is not None and re.search(r"^published \d+ flows: lead_assignment", output, re.M)
        east_team = {u["username"] for u in plan["users"] if u.get("department") == "华东销售部"}
        ids = {
            u["username"]: u["id"] for u in httpx.get(f"{base}/api/users", headers=sign_in("admin")).json()
        }
        lead = {
            "company": "演示新线索有限公司",
            "contact_name": "周先生",
            "email": "zhou@example.cn",
            "region": "上海",
        }
        r = httpx.post(f"{base}/api/apps/crm/records/lead", json=lead, headers=sign_in("admin"))
        assert r.status_code == 201, r.text
        assigned = httpx.get(f"{base}/api/apps/crm/records/lead/{r.json()['id']}", headers=sign_in("admin"))
        assert assigned.json()["owner"] in {ids[name] for name in east_team}
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()


def test_the_readme_runs_the_demo_first() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    first = readme.split("## Two commands", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert first.strip().endswith(".venv/bin/tangram demo")


def test_demo_refuses_to_overwrite_an_earlier_one(tmp_path: Path) -> None:
    env = {**os.environ, "TANGRAM_PASSWORD_HASH_COST": str(TEST_HASH_COST)}
    (tmp_path / "crm-demo").mkdir()
    (tmp_path / "crm-demo" / "tangram.db").write_bytes(b"")
    tangram = Path(sys.executable).parent / "tangram"
    result = subprocess.run(
        [str(tangram), "demo", "--folder", "crm-demo", "--no-serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "--fresh" in result.stderr
