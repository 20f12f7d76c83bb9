/* The record page's approval card (only where the flow engine is installed): the latest flow
   instance's status and step log, and what the viewer may do — submit for approval (the flows
   started by hand on this entity), withdraw while nobody else has acted, approve or reject when
   the viewer holds an open task of it. */
"use strict";
(function () {
  const { app, entity, id } = TG.page;
  const F = TG.flowsUi;

  /* Whether someone other than the submitter decided anything yet (then withdrawing is refused). */
  const actedByOthers = (instance) => instance.tasks.some(t => t.acted_at && ["approval", "fill"].includes(t.kind) && t.assignee !== instance.started_by);

  async function load() {
    const root = document.getElementById("approval-body");
    const [list, flows, mine, names] = await Promise.all([
      TG.api("GET", TG.apiPath("apps", app, "records", entity, String(id), "flow-instances")),
      F.flows(app), TG.api("GET", "/api/tasks", undefined, { app }), F.names()]);
    if (!list.ok) { root.replaceChildren(TG.el("p", { class: "muted", text: TG.errorText(list.error) })); return; }
    const out = [];
    const latest = list.data[list.data.length - 1];
    const running = list.data.some(i => i.status === "running" || i.status === "starting");
    if (latest) {
      const d = await TG.api("GET", TG.apiPath("flow-instances", String(latest.id)));
      if (d.ok) {
        const inst = d.data;
        out.push(TG.el("div", { class: "approval-head" }, TG.el("strong", { text: await F.flowLabel(app, inst.flow) }), " ", F.status(inst.status)));
        out.push(TG.el("div", { class: "muted", text: TG.t("submitted_by", { name: names[inst.started_by] || "#" + inst.started_by, when: F.when(inst.started_at) }) }));
        const waiting = inst.tasks.filter(t => t.status === "open" && t.kind !== "cc").map(t => names[t.assignee] || "#" + t.assignee);
        if (inst.status === "running" && waiting.length) out.push(TG.el("div", { class: "waiting", text: TG.t("waiting_for", { names: waiting.join("、") }) }));
        out.push(F.stepLog(inst.steps, names));
        const task = (mine.ok ? mine.data : []).find(t => t.instance_id === inst.id && t.kind !== "cc");
        if (task) out.push(await F.taskControls(task, load, false));
        if (inst.status === "running" && TG.user && inst.started_by === TG.user.id && !actedByOthers(inst)) {
          out.push(TG.el("div", { class: "task-actions" }, TG.el("button", { type: "button", id: "withdraw", text: TG.t("withdraw"), onclick: async () => {
            const r = await TG.api("POST", TG.apiPath("flow-instances", String(inst.id), "withdraw"));
            if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
            TG.flash(""); load();
          } })));
        }
      }
    } else out.push(TG.el("p", { class: "muted", text: TG.t("no_approval") }));
    if (!running) {
      const manual = flows.filter(f => f.manual && f.entity === entity);
      if (manual.length) out.push(TG.el("div", { class: "task-actions" }, manual.map(f => TG.el("button", {
        type: "button", class: "primary", dataset: { flow: f.name }, text: TG.t("submit_for_approval", { flow: TG.label(f.label) }),
        onclick: async () => {
          const r = await TG.api("POST", TG.apiPath("apps", app, "records", entity, String(id), "flows", f.name));
          if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
          TG.flash(""); load();
        } }))));
    }
    root.replaceChildren(...out);
    TG.refreshUnread();
  }

  document.addEventListener("DOMContentLoaded", load);
})();
