"""Realistic sample records for an installed app, from a plan that is data.

A template ships a plan (``demo.json`` beside its package): departments, users with their roles,
and per entity how many records to make and how to fill each field — pick from a list or the
field's options, a person's or a company's name built from the plan's vocabulary, a mobile
number, an amount, a date within the last year, a record made earlier. The generator knows no
template: everything particular to one is in its plan. Records go through the record service in
bulk, so every rule of the app holds for them (validation, duplicates, roll-ups, history), and a
fixed seed makes the same data every time.

A department may name its ``head`` and a user their ``manager`` (usernames of the plan), so the
people rules of the app's flows resolve ("the head of 财务部"). The plan's ``publish`` names,
per package section, the items to switch on once the data exists (``"*"`` for all of them): the
generated history does not replay through the app's automations, and new records then do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine.apps import metadata_store
from engine.apps.sections import sections
from engine.context import SYSTEM, Context, Principal
from engine.errors import InvalidInput
from engine.identity import departments, roles, users
from engine.records.service import RecordService
from engine.records.writer import WriteOptions
from form_engine import uscc_check_character

#: Records created per bulk call: one transaction each.
CHUNK = 500
#: Names repeat in real data: a duplicate rule that only warns does not stop the demo.
_CONFIRMED = WriteOptions(confirm_duplicates=True)
Progress = Callable[[str, int, int], None]


@dataclasses.dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    display_name: str
    roles: list[str]


class SampleData:
    """Fills ``app`` from ``plan`` as the users the plan creates (each record owned by one)."""

    def __init__(
        self, records: RecordService, app: str, plan: Mapping[str, Any], *, scale: float = 1.0
    ) -> None:
        self.records = records
        self.app = app
        self.plan = plan
        self.scale = scale
        self.rng = random.Random(plan.get("seed", 0))
        self.vocabulary: Mapping[str, Sequence[str]] = plan.get("vocabulary", {})
        self.today = dt.date.today()
        #: entity -> (id, owner) of every record made
        self.made: dict[str, list[tuple[int, int]]] = {}
        self.users: dict[str, Principal] = {}
        self.department_ids: dict[str, int] = {}
        self._serial = 0

    # -- people ------------------------------------------------------------------------------------
    def create_people(self, hash_cost: int | None = None) -> list[DemoUser]:
        """The plan's departments and users, with their roles in the app; returns how to sign in."""
        made: list[DemoUser] = []
        with self.records.db.begin() as conn:
            ids = self._departments(conn, self.plan.get("departments", []), None)
            self.department_ids = ids
            package = metadata_store.load_app(conn, self.app).package
            for spec in self.plan.get("users", []):
                password = spec.get("password", f"{spec['username']}-demo-2026")
                user_id = users.create_user(
                    conn,
                    spec["username"],
                    password,
                    display_name=spec.get("display_name"),
                    is_admin=bool(spec.get("admin", False)),
                    **({"hash_cost": hash_cost} if hash_cost is not None else {}),
                )
                department = ids.get(spec.get("department", ""))
                if department is not None:
                    users.update_user(conn, user_id, {"department_id": department})
                roles.set_roles(conn, SYSTEM, package, user_id, list(spec.get("roles", [])))
                self.users[spec["username"]] = Principal(
                    id=user_id,
                    username=spec["username"],
                    is_admin=bool(spec.get("admin", False)),
                    department_id=department,
                    roles=frozenset((self.app, r) for r in spec.get("roles", [])),
                )
                made.append(
                    DemoUser(spec["username"], password, spec.get("display_name", ""), spec.get("roles", []))
                )
            self._heads(conn, self.plan.get("departments", []))
            for spec in self.plan.get("users", []):
                if "manager" in spec:
                    manager = self._user_id(spec["manager"], f"manager of {spec['username']}")
                    users.update_user(conn, self.users[spec["username"]].id, {"manager_id": manager})
        return made

    def _user_id(self, username: str, where: str) -> int:
        if username not in self.users:
            raise InvalidInput("demo_unknown_user", username=username, where=where)
        return self.users[username].id

    def _heads(self, conn: sa.Connection, specs: Sequence[Mapping[str, Any]]) -> None:
        """Heads name users of the plan, so they are set once every user exists."""
        for spec in specs:
            if "head" in spec:
                head = self._user_id(spec["head"], f"head of {spec['name']}")
                departments.update_department(conn, self.department_ids[spec["name"]], {"head_id": head})
            self._heads(conn, spec.get("children", []))

    def _departments(
        self, conn: sa.Connection, specs: Sequence[Mapping[str, Any]], parent: int | None
    ) -> dict[str, int]:
        ids: dict[str, int] = {}
        for spec in specs:
            ids[spec["name"]] = departments.create_department(conn, spec["name"], parent_id=parent)
            ids.update(self._departments(conn, spec.get("children", []), ids[spec["name"]]))
        return ids

    # -- switching the app on --------------------------------------------------------------------
    def publish(self, platform: Any) -> dict[str, list[str]]:
        """Publish what the plan's ``publish`` names through each section's plugin, acting as the
        plan's administrator; returns the published names per section."""
        wanted: Mapping[str, Any] = self.plan.get("publish", {})
        if not wanted:
            return {}
        with self.records.db.connect() as conn:
            package = metadata_store.load_app(conn, self.app).package
        ctx = self._writer_context()
        published: dict[str, list[str]] = {}
        for name, items in wanted.items():
            section = sections.get(name)
            if section is None or section.publish is None:
                raise InvalidInput("demo_cannot_publish", section=name)
            names = [item["name"] for item in package.section(name)] if items == "*" else list(items)
            published[name] = section.publish(platform, ctx, self.app, names)
        return published

    def _writer_context(self) -> Context:
        writer = next((p for p in self.users.values() if p.is_admin), None)
        return Context(user=writer, locale="zh", tags={"source": "demo"}) if writer else SYSTEM

    # -- records -----------------------------------------------------------------------------------
    def total(self) -> int:
        return sum(self._count(spec) for spec in self.plan.get("records", []))

    def _count(self, spec: Mapping[str, Any]) -> int:
        return max(1, round(spec["count"] * self.scale))

    def create_records(self, progress: Progress | None = None) -> dict[str, int]:
        """Every entity of the plan in order (a record may point at those made before it). Each
        record gets an owner among the users holding the plan's roles for it, and points at
        records of the same owner where there are some, as a rep's deal is on the rep's account;
        they are written by the plan's administrator, so every reference is readable."""
        ctx = self._writer_context()
        counts: dict[str, int] = {}
        for spec in self.plan.get("records", []):
            entity, count = spec["entity"], self._count(spec)
            owners = self._owners(spec)
            made = self.made.setdefault(entity, [])
            for start in range(0, count, CHUNK):
                batch = []
                for i in range(start, min(start + CHUNK, count)):
                    owner = self.users[self.rng.choice(owners)].id
                    batch.append({**self._record(spec, i, owner), "owner": owner})
                created = self.records.bulk_create(ctx, self.app, entity, batch, options=_CONFIRMED)
                made.extend((r["id"], r["owner"]) for r in created)
                if progress is not None:
                    progress(entity, min(start + CHUNK, count), count)
            counts[entity] = count
        return counts

    def _owners(self, spec: Mapping[str, Any]) -> list[str]:
        wanted = set(spec.get("owner_roles", []))
        owners = [name for name, p in self.users.items() if wanted & {r for _, r in p.roles}]
        if not owners:
            raise InvalidInput("demo_no_owner", entity=spec["entity"], roles=", ".join(sorted(wanted)))
        return owners

    def _record(self, spec: Mapping[str, Any], i: int, owner: int) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field, rule in spec.get("values", {}).items():
            if not all(_holds(values.get(k), v) for k, v in rule.get("when", {}).items()):
                continue
            if self.rng.random() >= rule.get("chance", 1.0):
                continue
            values[field] = self.value(rule, i, values, owner)
        return values

    def value(
        self, rule: Mapping[str, Any], i: int, record: Mapping[str, Any], owner: int | None = None
    ) -> Any:
        """One field's value by its rule (see the module docstring for the kinds)."""
        rng = self.rng
        if "pick" in rule:
            return rng.choices(rule["pick"], weights=rule.get("weights"))[0]
        if "person" in rule:
            return rng.choice(self.vocabulary["surnames"]) + "".join(
                rng.choice(self.vocabulary["given"]) for _ in range(rng.choice((1, 2, 2)))
            )
        if "company" in rule:
            parts = [
                rng.choice(self.vocabulary[k]) for k in ("company_places", "company_cores", "company_trades")
            ]
            return "".join(parts) + rng.choice(self.vocabulary["company_suffixes"])
        if "mobile" in rule:
            return (
                rng.choice(("138", "139", "136", "150", "186", "177", "199")) + f"{rng.randrange(10**8):08d}"
            )
        if "email" in rule:
            self._serial += 1
            return f"user{self._serial}@{rng.choice(rule['email'])}"
        if "text" in rule:
            text = str(rule["text"]).format(i=i + 1, n=rng.randint(1, 99), **dict(record))
            if rule.get("check_character") == "cn_uscc":
                text += uscc_check_character(text)  # a code the type's GB 32100 check accepts
            return text
        if "int" in rule:
            low, high = rule["int"]
            return rng.randint(low, high)
        if "money" in rule:
            low, high = rule["money"]
            step = rule.get("step", 100)
            return str(Decimal(rng.randint(low // step, high // step) * step))
        if "days_ago" in rule:
            oldest, newest = rule["days_ago"]
            return (self.today - dt.timedelta(days=rng.randint(newest, oldest))).isoformat()
        if "hours_ago" in rule:
            oldest, newest = rule["hours_ago"]
            moment = dt.datetime.now(dt.UTC) - dt.timedelta(hours=rng.uniform(newest, oldest))
            return moment.replace(microsecond=0).isoformat()
        if "ref" in rule:
            made = self.made.get(rule["ref"], [])
            own = [record_id for record_id, holder in made if holder == owner]
            pool = own or [record_id for record_id, _ in made]
            return rng.choice(pool) if pool else None
        if "rows" in rule:
            low, high = rule.get("count", [1, 3])
            return [
                {f: self.value(r, i, {}, owner) for f, r in rule["rows"].items()}
                for _ in range(rng.randint(low, high))
            ]
        raise InvalidInput("demo_bad_rule", rule=str(dict(rule))[:200])


def _holds(value: Any, wanted: Any) -> bool:
    """A ``when`` condition: the value itself, or one of a list of values."""
    return value in wanted if isinstance(wanted, list) else bool(value == wanted)
