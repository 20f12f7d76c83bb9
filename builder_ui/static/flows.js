/* What the inbox and the record page share about flows (the flow engine's HTTP API): people's
   names, flow labels, an instance's status and step log, and the controls acting on a task. */
"use strict";
(function () {
  const F = {};
  let people = null;
  const flowLabels = {};

  /* Colleagues as the kernel's directory lists them: {id: name}, once per page. */
  F.people = function () {
    if (!people) people = TG.api("GET", "/api/directory/users", undefined, { active: true })
      .then(r => (r.ok ? r.data : []));
    return people;
  };
  F.names = async function () {
    const out = {};
    for (const u of await F.people()) out[u.id] = u.name;
    return out;
  };

  /* {flow name: label} of an app (GET /ui/api/apps/{app}/flows), with whether it starts by hand. */
  F.flows = function (app) {
    if (!flowLabels[app]) flowLabels[app] = TG.api("GET", TG.prefix + "/api/apps/" + encodeURIComponent(app) + "/flows")
      .then(r => (r.ok ? r.data : []));
    return flowLabels[app];
  };
  F.flowLabel = async function (app, name) {
    const found = (await F.flows(app)).find(f => f.name === name);
    return found ? TG.label(found.label) : name;
  };

  F.when = (iso) => (iso ? new Date(iso).toLocaleString(TG.locale === "zh" ? "zh-CN" : "en-GB") : "");

  F.status = (status) => TG.el("span", { class: "status status-" + status, dataset: { status }, text: TG.t("status_" + status) });

  /* Steps a person reads in the log; the engine's internal ones (branches, timers) are left out. */
  const SHOWN = new Set(["started", "assigned", "approve", "reject", "return", "transfer", "add_signer", "comment",
    "withdraw", "cc", "approved", "rejected", "resubmitted", "done", "failed"]);
  /* A step without a node is the instance's own end ("approved"), one with a node a node's. */
  const stepText = (s) => (s.node == null && TG.messages["status_" + s.action] ? TG.t("status_" + s.action) : TG.t("step_" + s.action));

  F.stepLog = function (steps, names) {
    const who = (id) => (id == null ? TG.t("system") : names[id] || "#" + id);
    const rows = steps.filter(s => SHOWN.has(s.action));
    return TG.el("ol", { class: "steps" }, rows.map(s => {
      const target = s.details && (s.details.to ?? s.details.user);
      const people = s.details && Array.isArray(s.details.people) ? s.details.people.map(who).join("、") : "";
      return TG.el("li", { dataset: { action: s.action } },
        TG.el("div", {}, TG.el("strong", { text: who(s.actor) }), " ", stepText(s),
          typeof target === "number" ? " → " + who(target) : "", people ? "：" + people : ""),
        TG.el("div", { class: "when", text: F.when(s.at) }),
        s.comment ? TG.el("div", { class: "comment", text: s.comment }) : "",
        F.attachmentLinks(s));
    }));
  };

  /* The files a step carries (附件), each a download from the instance's log. */
  F.attachmentLinks = function (step) {
    const files = (step.details && step.details.attachments) || [];
    if (!files.length) return "";
    return TG.el("ul", { class: "files step-files", "aria-label": TG.t("attachments") }, files.map(d =>
      TG.el("li", { class: "file", dataset: { id: d.id } },
        TG.el("a", { class: "file-name", href: TG.apiPath("flow-instances", String(step.instance_id), "files", d.id), text: d.name }),
        TG.el("span", { class: "muted", text: " " + TG.fileSize(d.size || 0) }))));
  };

  /* Files to attach to a task's next action: each goes up at once for the task
     (POST /api/tasks/{id}/files); ``ids()`` are what the action sends. */
  F.attachmentPicker = function (task) {
    const id = `t${task.id}-files`;
    let files = [];
    const list = TG.el("ul", { class: "files" });
    const status = TG.el("div", { class: "uploads", "aria-live": "polite" });
    const picker = TG.el("input", { id, type: "file", class: "file-input task-files", multiple: true });
    const paint = () => list.replaceChildren(...files.map(d => TG.el("li", { class: "file", dataset: { id: d.id } },
      TG.el("span", { class: "file-name", text: d.name }), TG.el("span", { class: "muted", text: " " + TG.fileSize(d.size || 0) }),
      TG.el("button", { type: "button", class: "link", "aria-label": TG.t("remove_item", { name: d.name }), text: "✕",
        onclick: () => { files = files.filter(x => x.id !== d.id); paint(); } }))));
    const url = TG.apiPath("tasks", String(task.id), "files");
    picker.addEventListener("change", () => TG.uploadChosen(picker, status,
      (file, progress) => TG.uploadTo(url, file, file.name, progress), (d) => { files.push(d); paint(); }));
    const node = TG.el("div", { class: "file-field task-attachments" }, list,
      TG.el("label", { class: "button", for: id }, "⇪ ", TG.t("attach_files")), picker, status);
    return { node, ids: () => files.map(d => d.id) };
  };

  /* A person picker from the directory (transfer, add signer). */
  F.picker = async function (label) {
    const select = TG.el("select", { "aria-label": label }, TG.el("option", { value: "", text: TG.t("choose_user") }));
    for (const u of await F.people()) if (!TG.user || u.id !== TG.user.id) select.append(TG.el("option", { value: u.id, text: u.name }));
    return select;
  };

  /* The controls acting on one open task (the verbs its kind allows); ``done(verb)`` runs after
     a verb succeeded. Errors from the API (409 already done, 403 not yours) show in the flash. */
  /* The instance a task belongs to, read once per task object (the inbox shows it, the return
     targets and a fill-in form read it too; a re-render reads the tasks, and so it, afresh). */
  F.instanceOf = (task) => (task._instance ||= TG.api("GET", TG.apiPath("flow-instances", String(task.instance_id))));

  /* A fill-in task's fields, as form widgets holding the record's current values (the
     record's default form describes them); null when the task names no field. */
  F.fillForm = async function (task) {
    if (!TG.FormRenderer) return null;
    const inst = await F.instanceOf(task);
    const node = inst.ok ? inst.data.nodes.find(n => n.id === task.node) : null;
    const [desc, record, meta] = await Promise.all([
      TG.api("GET", TG.apiPath("apps", task.app, "forms", task.entity, "default")),
      TG.api("GET", TG.apiPath("apps", task.app, "records", task.entity, String(task.record_id))),
      TG.appMeta(task.app).catch(() => null)]);
    const fields = ((node && node.fields) || []).filter(name => desc.ok && desc.data.fields[name]);
    if (!fields.length) return null;
    const root = TG.el("div", { class: "form-grid fill-form" });
    const only = { ...desc.data, layout: fields.map(field => ({ kind: "field", field })) };
    const renderer = new TG.FormRenderer(root, only, { app: task.app, meta, recordId: task.record_id, idPrefix: `t${task.id}-` });
    await renderer.render(record.ok ? record.data : {});
    return { root, renderer };
  };

  /* The earlier steps a task may be returned to (退回): approvals and fill-in tasks the
     instance has passed, in the flow's order. */
  F.returnTargets = async function (task) {
    const inst = await F.instanceOf(task);
    if (!inst.ok) return [];
    return inst.data.nodes.filter(n => n.id !== task.node && n.state === "done" && (n.type === "approval" || n.type === "task"));
  };

  F.taskControls = async function (task, done, full) {
    const kind = task.node === "@starter" ? "resubmit" : task.kind;
    const comment = TG.el("textarea", { rows: 2, class: "task-comment", placeholder: TG.t("comment_placeholder"), "aria-label": TG.t("comment") });
    const fill = kind === "fill" && full ? await F.fillForm(task) : null;
    const files = kind !== "cc" ? F.attachmentPicker(task) : null;
    const act = async (verb, extra) => {
      const attached = files ? files.ids() : [];
      const body = { comment: comment.value || null, ...(attached.length ? { attachments: attached } : {}), ...(extra || {}) };
      const r = await TG.api("POST", TG.apiPath("tasks", String(task.id), verb), body);
      if (!r.ok) {
        // a value the record refuses is shown beside its field, what it typed kept
        const rest = fill && verb === "complete" ? fill.renderer.setErrors(r.error.problems) : [];
        if (!fill || verb !== "complete" || rest.length || !(r.error.problems || []).length) TG.flash(TG.errorText(r.error));
        return;
      }
      TG.flash("");
      await done(verb);
    };
    const button = (verb, text, cls, extra) => TG.el("button", { type: "button", class: cls || null, dataset: { verb }, text, onclick: async () => act(verb, extra && await extra()) });
    const bar = TG.el("div", { class: "task-actions" });
    if (kind === "fill" && full) bar.append(button("complete", TG.t("complete_task"), "primary", async () => {
      if (!fill) return {};
      await fill.renderer.settle();
      return { values: fill.renderer.values(true) };
    }));
    if (kind === "approval" || kind === "resubmit") bar.append(button("approve", kind === "resubmit" ? TG.t("submit") : TG.t("approve"), "primary"));
    if (kind === "approval") bar.append(button("reject", TG.t("reject"), "danger"));
    if (kind === "cc") bar.append(button("read", TG.t("mark_read")));
    const box = TG.el("div", { class: "task-controls" }, fill ? fill.root : "", comment, files ? files.node : "", bar);
    if (!full) return box;
    if (kind === "approval") {
      bar.append(button("return", TG.t("return"), null, () => ({ to: "starter" })));
      const earlier = await F.returnTargets(task);
      if (earlier.length) {
        const target = TG.el("select", { class: "return-target", "aria-label": TG.t("return_to_node") },
          earlier.map(n => TG.el("option", { value: n.id, text: TG.label(n.label) || n.id })));
        box.append(TG.el("div", { class: "task-people" }, target,
          TG.el("button", { type: "button", dataset: { verb: "return-node" }, text: TG.t("return_to_node"), onclick: () => act("return", { to: target.value }) })));
      }
    }
    bar.append(button("comment", TG.t("comment")));
    if (kind === "approval" || kind === "fill") {
      const who = await F.picker(TG.t("transfer"));
      box.append(TG.el("div", { class: "task-people" }, who,
        TG.el("button", { type: "button", dataset: { verb: "transfer" }, text: TG.t("transfer"), onclick: () => {
          if (who.value) act("transfer", { to: Number(who.value) });
        } })));
      if (kind === "approval") {
        const signer = await F.picker(TG.t("add_signer"));
        const position = TG.el("select", { "aria-label": TG.t("add_signer") },
          TG.el("option", { value: "after", text: TG.t("signer_after") }), TG.el("option", { value: "before", text: TG.t("signer_before") }));
        box.append(TG.el("div", { class: "task-people" }, signer, position,
          TG.el("button", { type: "button", dataset: { verb: "add-signer" }, text: TG.t("add_signer"), onclick: () => {
            if (signer.value) act("add-signer", { to: Number(signer.value), position: position.value });
          } })));
      }
    }
    return box;
  };

  TG.flowsUi = F;
})();
