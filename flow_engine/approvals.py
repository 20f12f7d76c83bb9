"""Approval, fill-in and carbon-copy tasks: who gets them, what each action does, and when a
node is decided.

Modes: ``any`` (或签: the first decision decides, the others' tasks close as not needed),
``all`` (会签: everyone approves, one rejection rejects), ``percent`` (比例: approved once the
share of approvals reaches ``percent``, rejected once it no longer can), ``sequential`` (依次:
one after another in order). Actions: approve, reject, return (退回: to the submitter or a node
passed before), transfer (转交, the original assignee kept), add-signer before or after oneself
(加签), comment (with attachments); the submitter may withdraw (撤回) until someone acted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine import DESCRIPTOR_KEYS, directory
from flow_engine import statements as q
from flow_engine import tables as t
from flow_engine.messages import FlowConflict, FlowForbidden, FlowInputError
from flow_engine.people import resolve
from flow_engine.runtime import as_stored
from form_engine import Problem

#: A task's row as this module reads and changes it; a request body; what a step log adds.
Row = dict[str, Any]
Body = Mapping[str, Any]
Details = Mapping[str, Any] | None

if TYPE_CHECKING:
    from flow_engine.runtime import Run

OPEN = ("open", "queued")
#: Statuses of tasks that no longer take part in a decision.
GONE = ("transferred", "cancelled", "returned")
ACTIONS = {
    "approval": ("approve", "reject", "return", "transfer", "add-signer", "comment"),
    "task": ("complete", "transfer", "comment"),
    "resubmit": ("approve", "comment"),
    "cc": ("read", "comment"),
}
STARTER_NODE = "@starter"


class Approvals:
    # -- entering nodes -----------------------------------------------------------------------
    def enter(self, run: Run, state: dict[str, Any], node: dict[str, Any]) -> None:
        record = run.record()
        specs = node.get("approvers") if node["type"] == "approval" else node.get("assignee")
        people = resolve(run.conn, run.app, specs or [], record, run.starter)
        if not people:
            policy = node.get("if_nobody", "refuse")
            if policy == "approve":
                run.log(node["id"], "auto_approved", details={"reason": "nobody"})
                run.leave(state, "approved")
                return
            if policy == "admin":
                people = directory.admins(run.conn)
            if not people:
                raise FlowInputError("approvers_none", node=node["id"])
        mode = node.get("mode", "any") if node["type"] == "approval" else "any"
        kind = "approval" if node["type"] == "approval" else "fill"
        due = run.due(run.now, node["due"]) if node.get("due") else None
        data = {**state["data"], "people": people, "mode": mode}
        state_id = run.save_state(state, status="waiting", due_at=due, data=data)
        rows = [
            {
                "instance_id": run.id,
                "state_id": state_id,
                "node": node["id"],
                "kind": kind,
                "assignee": user,
                "status": "open" if mode != "sequential" or i == 0 else "queued",
                "seq": i,
                "created_at": run.now,
                "due_at": due,
                "data": {},
            }
            for i, user in enumerate(people)
        ]
        run.conn.execute(q.insert(t.tasks), rows)
        if node["type"] == "approval" and node.get("lock", True):
            run.set_instance(locked=True)
        run.log(node["id"], "assigned", details={"people": people})
        run.runner.timers.schedule_limit(run, state, node)

    def cc(self, run: Run, state: dict[str, Any], node: dict[str, Any]) -> None:
        people = resolve(run.conn, run.app, node.get("to", []), run.record(), run.starter)
        self.carbon_copy(run, run.save_state(state), node["id"], people)

    def carbon_copy(self, run: Run, state_id: int, node: str, people: list[int]) -> None:
        """Read-only inbox items (抄送), open until read; they never hold the flow up."""
        if people:
            run.conn.execute(
                q.insert(t.tasks),
                [
                    {
                        "instance_id": run.id,
                        "state_id": state_id,
                        "node": node,
                        "kind": "cc",
                        "assignee": user,
                        "status": "open",
                        "seq": 0,
                        "created_at": run.now,
                        "data": {},
                    }
                    for user in people
                ],
            )
            run.log(node, "cc", details={"people": people})

    # -- acting on a task ---------------------------------------------------------------------
    def task(self, run: Run, task_id: int) -> dict[str, Any]:
        row = run.conn.execute(q.select_by_id(t.tasks), {q.ROW: task_id}).mappings().one()
        return dict(row)

    def act(
        self,
        run: Run,
        task: dict[str, Any],
        state: dict[str, Any] | None,
        user: int,
        action: str,
        body: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Do ``action`` on ``task`` (its row and its state's, read in this step; a carbon copy
        an action made has no state); the task's row as it is after."""
        task_id = task["id"]
        if task["assignee"] != user:
            raise FlowForbidden("task_not_yours", id=task_id)
        if task["status"] not in ("open",):
            raise FlowConflict("task_done", id=task_id, status=task["status"])
        kind = "resubmit" if task["node"] == STARTER_NODE else task["kind"]
        kind = "task" if kind == "fill" else kind
        if run.instance["status"] != "running" and kind != "cc":
            raise FlowConflict("instance_not_running", id=run.id, status=run.instance["status"])
        if action not in ACTIONS[kind]:
            raise FlowInputError("task_action_unsupported", kind=kind, action=action)
        comment = body.get("comment")
        details = self._attached(run, task, user, body.get("attachments") or [])
        if action == "comment":
            run.log(task["node"], "comment", actor=user, comment=comment, details=details)
            return task
        if action == "read":
            self._close(run, task, "read")
            return task
        if state is None:
            state = run.state(task["state_id"])
        if action == "transfer":
            self._transfer(run, task, user, body, details)
            return task
        if action == "add-signer":
            self._add_signer(run, task, user, body, details)
            return task
        if action == "return":
            self._return(run, task, state, user, body, details)
            return task
        if action == "complete":
            values = body.get("values") or {}
            if not isinstance(values, Mapping):
                raise FlowInputError("values_not_object")
            allowed = set(run.flow.nodes[task["node"]].get("fields", []))
            wrong = sorted(set(values) - allowed)
            if wrong:
                raise FlowInputError("record_locked", flow=run.flow.name, fields=", ".join(wrong))
            if values:
                run.unit.update(run.er, [(run.instance["record_id"], dict(values))])
                run.changed()
            status = "done"
        else:
            status = "approved" if action == "approve" else "rejected"
        self._close(run, task, status, comment)
        run.log(task["node"], action, actor=user, comment=comment, details=details)
        if task["node"] == STARTER_NODE:
            run.leave(state, "resubmitted", state["data"]["resume"])
        else:
            self.settle(run, state, self._open_followers(run, task))
        run.advance()
        return task  # closed, so nothing later in the step changes it

    def _attached(
        self, run: Run, task: Mapping[str, Any], user: int, items: Sequence[Any]
    ) -> dict[str, Any] | None:
        """The step log's ``attachments``: files ``user`` uploaded for this very task
        (``POST /api/tasks/{id}/files``), by id or descriptor, as the store describes them.
        Anything else is refused, so a log never lends its readers someone else's file."""
        if not items:
            return None
        store = run.runner.platform.files
        found, problems = [], []
        for i, item in enumerate(items):
            file_id = item.get("id") if isinstance(item, Mapping) else item
            stored = store.descriptor(run.app, file_id) if isinstance(file_id, str) else None
            if stored is None or stored.get("flow_task") != task["id"] or stored.get("uploader") != user:
                params = {"id": str(file_id)[:64], "task": task["id"]}
                problems.append(Problem("attachment_unknown", pointer=f"/attachments/{i}", params=params))
            else:
                found.append({k: stored[k] for k in DESCRIPTOR_KEYS})
        if problems:
            raise FlowInputError("attachments_invalid", count=len(problems), problems=problems)
        return {"attachments": found}

    def _close(self, run: Run, task: dict[str, Any], status: str, comment: str | None = None) -> None:
        """Close ``task`` (its row, and the dict: as the row now reads)."""
        values = {"status": status, "acted_at": run.now, "comment": comment}
        run.conn.execute(q.update_by_id(t.tasks), {q.ROW: task["id"], **values})
        task.update(values, acted_at=as_stored(run.now))

    def _new_task(self, run: Run, task: Mapping[str, Any], assignee: int, **values: Any) -> int:
        row = {
            "instance_id": run.id,
            "state_id": task["state_id"],
            "node": task["node"],
            "kind": task["kind"],
            "assignee": assignee,
            "status": "open",
            "seq": task["seq"],
            "created_at": run.now,
            "due_at": task["due_at"],
            "data": {},
            **values,
        }
        return q.insert_one(run.conn, t.tasks, row)

    def _person(self, run: Run, body: Mapping[str, Any], key: str = "to") -> int:
        ref = body.get(key)
        found = directory.user_ids(run.conn, [ref]) if isinstance(ref, int | str) else []
        if not found:
            raise FlowInputError("user_unknown", user=ref)
        return found[0]

    def _transfer(self, run: Run, task: Row, user: int, body: Body, attached: Details = None) -> None:
        target = self._person(run, body)
        self._close(run, task, "transferred", body.get("comment"))
        original = task["transferred_from"] or task["assignee"]
        self._new_task(run, task, target, transferred_from=original, data=dict(task["data"]))
        details = {"to": target, **(attached or {})}
        run.log(task["node"], "transfer", actor=user, comment=body.get("comment"), details=details)

    def _add_signer(self, run: Run, task: Row, user: int, body: Body, attached: Details = None) -> None:
        """加签: ``before`` — the new signer decides first, then this task opens again;
        ``after`` — the new signer's task opens once this one is approved."""
        target = self._person(run, body)
        position = body.get("position", "after")
        if position == "before":
            added = self._new_task(run, task, target, data={"added_by": user})
            queued = {"status": "queued", "data": {**task["data"], "after": added}}
            run.conn.execute(t.tasks.update().where(t.tasks.c.id == task["id"]).values(queued))
            task.update(queued)
        else:
            self._new_task(run, task, target, status="queued", data={"after": task["id"], "added_by": user})
        run.log(
            task["node"],
            "add_signer",
            actor=user,
            comment=body.get("comment"),
            details={"user": target, "position": position, **(attached or {})},
        )

    def _return(
        self, run: Run, task: Row, state: Body, user: int, body: Body, attached: Details = None
    ) -> None:
        target = body.get("to", "starter")
        passed = set(
            run.conn.execute(
                sa.select(t.node_states.c.node).where(
                    t.node_states.c.instance_id == run.id, t.node_states.c.status == "done"
                )
            ).scalars()
        )
        if target != "starter" and (
            target not in passed
            or target not in run.flow.nodes
            or run.flow.nodes[target]["type"] not in ("approval", "task")
        ):
            raise FlowInputError("return_target_invalid", target=target)
        self._close(run, task, "returned", body.get("comment"))
        details = {"to": target, **(attached or {})}
        run.log(task["node"], "return", actor=user, comment=body.get("comment"), details=details)
        run.cancel_states(ids=[state["id"]])
        self.return_to(run, str(target), task["node"], body.get("comment"))
        run.advance()

    def return_to(self, run: Run, target: str, node: str, comment: str | None) -> None:
        """Send the instance back: to the submitter (who resubmits) or to an earlier node."""
        if target != "starter":
            run.activate(target)
            return
        run.set_instance(locked=False)
        state_id = run.conn.execute(
            t.node_states.insert()
            .values(
                instance_id=run.id,
                node=STARTER_NODE,
                status="waiting",
                entered_at=run.now,
                data={"resume": node},
            )
            .returning(t.node_states.c.id)
        ).scalar_one()
        starter = run.starter or run.record().get("owner")
        if starter is None:
            raise FlowInputError("approvers_none", node=STARTER_NODE)
        run.conn.execute(
            t.tasks.insert().values(
                instance_id=run.id,
                state_id=state_id,
                node=STARTER_NODE,
                kind="approval",
                assignee=starter,
                status="open",
                seq=0,
                created_at=run.now,
                comment=comment,
                data={"returned_from": node},
            )
        )
        run.notify(
            [starter],
            {"zh": "审批被退回：{_title}", "en": "Returned to you: {_title}"},
            {"zh": comment or "请修改后重新提交", "en": comment or "Please revise and resubmit"},
        )

    def _open_followers(self, run: Run, task: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Open the tasks queued behind ``task`` (加签 after it); the state's deciding tasks as
        they are now, for ``settle``."""
        tasks = [dict(r) for r in run.conn.execute(q.DECIDING_TASKS, {q.ROW: task["state_id"]}).mappings()]
        waiting = [x for x in tasks if x["status"] == "queued" and x["data"].get("after") == task["id"]]
        if waiting:
            run.conn.execute(q.OPEN_TASKS_BY_ID, {q.IDS: [x["id"] for x in waiting]})
            for x in waiting:
                x["status"] = "open"
        return tasks

    # -- deciding a node ----------------------------------------------------------------------
    def settle(self, run: Run, state: dict[str, Any], tasks: list[dict[str, Any]] | None = None) -> None:
        """Decide the node of ``state`` from its tasks (``tasks``: as the caller just read them),
        if they decide it yet."""
        node = run.flow.nodes[state["node"]]
        if tasks is None:
            tasks = [dict(r) for r in run.conn.execute(q.DECIDING_TASKS, {q.ROW: state["id"]}).mappings()]
        live = [x for x in tasks if x["status"] not in GONE]
        approved = sum(1 for x in live if x["status"] in ("approved", "done"))
        rejected = sum(1 for x in live if x["status"] == "rejected")
        pending = [x for x in live if x["status"] in OPEN]
        mode = state["data"].get("mode", "any")
        outcome = None
        if mode == "any":
            outcome = "approved" if approved else "rejected" if rejected else None
        elif mode == "percent":
            need = math.ceil(len(live) * float(node.get("percent", 50)) / 100 - 1e-9)
            if approved >= need:
                outcome = "approved"
            elif len(live) - rejected < need:
                outcome = "rejected"
        elif rejected:
            outcome = "rejected"
        elif not pending:
            outcome = "approved"
        elif mode == "sequential" and not any(x["status"] == "open" for x in pending):
            first = next(x for x in pending if not x["data"].get("after"))
            run.conn.execute(q.OPEN_TASKS_BY_ID, {q.IDS: [first["id"]]})
        if outcome is None:
            return
        self.decide(run, state, node, outcome, undecided=bool(pending))

    def decide(
        self,
        run: Run,
        state: dict[str, Any],
        node: dict[str, Any],
        outcome: str,
        *,
        undecided: bool = True,
    ) -> None:
        """Close the node with ``outcome``: its undecided tasks (``undecided``: there may be
        some) close as not needed, and the flow moves on."""
        if undecided:
            run.conn.execute(q.CANCEL_STATE_TASKS, {q.IDS: [state["id"]], "at": run.now})
        run.set_instance(locked=False)
        run.log(node["id"], outcome)
        if outcome in ("approved", "done"):
            run.leave(state, outcome)
            return
        target = node.get("on_reject", "end")
        run.set_state(state["id"], status="done", outcome=outcome, left_at=run.now)
        if target == "end":
            run.finish("rejected")
        elif target == "starter":
            tk = t.tasks
            comment = run.conn.execute(
                sa.select(tk.c.comment).where(tk.c.state_id == state["id"], tk.c.status == "rejected")
            ).scalar()
            self.return_to(run, "starter", node["id"], comment)
        else:
            run.activate(target, {"branch": state["data"].get("branch", [])})

    # -- the submitter ------------------------------------------------------------------------
    def withdraw(self, run: Run, user: int) -> None:
        if run.starter != user:
            raise FlowForbidden("withdraw_not_starter")
        if run.instance["status"] not in ("starting", "running"):
            raise FlowConflict("instance_not_running", id=run.id, status=run.instance["status"])
        tk = t.tasks
        acted = run.conn.execute(
            sa.select(sa.func.count())
            .select_from(tk)
            .where(
                tk.c.instance_id == run.id,
                tk.c.acted_at.is_not(None),
                tk.c.kind.in_(("approval", "fill")),
                tk.c.assignee != user,
            )
        ).scalar_one()
        if acted:
            raise FlowConflict("withdraw_too_late")
        run.finish("withdrawn")
        run.log(None, "withdraw", actor=user)
