"""The CRM's demo plan switches the template's automations on after its sample data, on SQLite
and PostgreSQL: the departments its flows name exist with the heads the plan gives them, so a
new lead is assigned, a large contract of a grade-A customer goes to 会签, a case is routed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import flow_engine
import templates_library
from engine import Context, InvalidInput, Platform
from engine.apps.template_upgrade import install_template
from engine.context import SYSTEM
from engine.records.sample_data import SampleData


def _plan() -> dict[str, Any]:
    plan = templates_library.demo_plan("crm")
    assert plan is not None
    return plan


def _walk(specs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for spec in specs:
        yield spec
        yield from _walk(spec.get("children", []))


def _flow_departments() -> set[str]:
    """Every department a flow of the template names, read from the package itself."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key in ("department", "head_of") and item not in ("owner", "starter"):
                    found.add(item)
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(templates_library.load("crm")["flows"])
    return found


def test_the_plan_has_every_department_the_flows_name_with_a_head_and_publishes_them() -> None:
    plan = _plan()
    departments = {d["name"]: d for d in _walk(plan["departments"])}
    usernames = {u["username"] for u in plan["users"]}
    wanted = _flow_departments()
    assert {"总经办", "财务部", "制造业行业组", "技术支持组", "华东销售部"} <= wanted
    assert wanted <= set(departments)
    assert all(departments[name].get("head") in usernames for name in wanted)
    assert plan["publish"] == {"flows": "*"}


@pytest.fixture
def demo(crm_platform: Platform) -> SampleData:
    with crm_platform.db.begin() as conn:
        install_template(conn, "crm", SYSTEM)
    sample = SampleData(crm_platform.records, "crm", _plan(), scale=0.002)
    sample.create_people(hash_cost=crm_platform.settings.password_hash_cost)
    sample.create_records()
    published = sample.publish(crm_platform)
    assert published == {"flows": [f["name"] for f in templates_library.load("crm")["flows"]]}
    return sample


def _members(name: str) -> list[str]:
    return [u["username"] for u in _plan()["users"] if u.get("department") == name]


def _head(name: str) -> str:
    head: str = next(d for d in _walk(_plan()["departments"]) if d["name"] == name)["head"]
    return head


def test_after_the_demo_new_records_run_through_the_published_flows(
    demo: SampleData,
    crm_platform: Platform,
) -> None:
    records, ids = crm_platform.records, {name: p.id for name, p in demo.users.items()}
    admin = Context(user=demo.users["admin"], locale="zh")

    def lead(company: str, **values: Any) -> dict[str, Any]:
        email = f"{len(company)}-{company.encode().hex()}@example.cn"
        values = {"company": company, "contact_name": "张先生", "email": email, **values}
        return records.create(admin, "crm", "lead", values)

    east = [lead(f"上海客户{i}", region="上海") for i in range(3)]
    team = sorted(ids[name] for name in _members("华东销售部"))
    assert [records.get(admin, "crm", "lead", lead["id"])["owner"] for lead in east] == team[:3]
    factory = lead("苏州工厂", industry="manufacturing")
    assert records.get(admin, "crm", "lead", factory["id"])["owner"] == ids[_head("制造业行业组")]

    rep = Context(user=demo.users["rep_east1"], locale="zh")
    account = records.create(rep, "crm", "account", {"name": "华东大客户有限公司", "grade": "A"})
    contract = records.create(
        rep, "crm", "contract", {"name": "年度框架合同", "account": account["id"], "amount": "600000"}
    )
    records.update(rep, "crm", "contract", contract["id"], {"approval_status": "pending"})
    service = flow_engine.FlowService(crm_platform)
    for signer in (_head("总经办"), _head("财务部")):
        [task] = service.tasks(Context(user=demo.users[signer], locale="zh"))
        assert task["node"] == "countersign"


def test_a_plan_that_publishes_a_section_no_plugin_publishes_is_refused(
    crm_platform: Platform,
) -> None:
    with crm_platform.db.begin() as conn:
        install_template(conn, "crm", SYSTEM)
    sample = SampleData(crm_platform.records, "crm", {"publish": {"reports": "*"}})
    with pytest.raises(InvalidInput) as caught:
        sample.publish(crm_platform)
    assert (caught.value.key, caught.value.status) == ("demo_cannot_publish", 422)
    assert "reports" in caught.value.message("zh")
