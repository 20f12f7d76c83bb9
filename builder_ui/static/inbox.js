/* The inbox: my open approval tasks (approve, reject, return, transfer, add a signer, comment),
   carbon copies (read-only, marked read) and my notifications, all from the flow engine's API. */
"use strict";
(function () {
  const F = TG.flowsUi;
  const features = TG.features || {};

  /* What a task is about: the flow, the entity and the record's title as it was submitted (the
     instance's snapshot: an approver may act without reading the record itself). */
  async function about(task, names) {
    const parts = [];
    const inst = await F.instanceOf(task);
    let meta = null;
    try { meta = await TG.appMeta(task.app); } catch (e) { meta = null; }
    const er = meta && meta.byName[task.entity];
    const snap = inst.ok ? inst.data.snapshot || {} : {};
    const title = (er && snap[er.title]) || "#" + task.record_id;
    parts.push(TG.el("div", { class: "task-title" },
      TG.el("strong", { text: await F.flowLabel(task.app, task.flow) }), " · ",
      er ? TG.label(er.label) + " · " : "",
      TG.el("a", { href: TG.url(task.app, task.entity, task.record_id), text: title })));
    if (inst.ok) parts.push(TG.el("div", { class: "muted", text: TG.t("submitted_by", { name: names[inst.data.started_by] || "#" + inst.data.started_by, when: F.when(inst.data.started_at) }) }));
    return parts;
  }

  async function tasks() {
    const [r, names] = await Promise.all([TG.api("GET", "/api/tasks"), F.names()]);
    const list = document.getElementById("tasks"), cc = document.getElementById("cc");
    if (!r.ok) { list.replaceChildren(TG.el("li", { class: "muted", text: TG.errorText(r.error) })); cc.replaceChildren(); return; }
    const todo = r.data.filter(t => t.kind !== "cc"), copies = r.data.filter(t => t.kind === "cc");
    document.getElementById("tasks-count").textContent = todo.length ? String(todo.length) : "";
    const item = async (t, full) => TG.el("li", { class: "task", dataset: { task: t.id, kind: t.kind } },
      ...(await about(t, names)), await F.taskControls(t, () => tasks(), full));
    list.replaceChildren(...(todo.length ? await Promise.all(todo.map(t => item(t, true))) : [TG.el("li", { class: "muted", text: TG.t("no_tasks") })]));
    cc.replaceChildren(...(copies.length ? await Promise.all(copies.map(t => item(t, false))) : [TG.el("li", { class: "muted", text: TG.t("no_cc") })]));
  }

  async function notifications() {
    const r = await TG.api("GET", "/api/notifications", undefined, { limit: 50 });
    const list = document.getElementById("notifications");
    if (!r.ok) { list.replaceChildren(TG.el("li", { class: "muted", text: TG.errorText(r.error) })); return; }
    TG.refreshUnread();
    if (!r.data.items.length) { list.replaceChildren(TG.el("li", { class: "muted", text: TG.t("no_notifications") })); return; }
    list.replaceChildren(...r.data.items.map(n => {
      const unread = !n.read_at;
      const title = n.record ? TG.el("a", { href: TG.url(n.record.app, n.record.entity, n.record.id), text: TG.label(n.title) }) : TG.el("span", { text: TG.label(n.title) });
      return TG.el("li", { class: "notification" + (unread ? " unread" : ""), dataset: { notification: n.id } },
        TG.el("div", {}, unread ? TG.el("span", { class: "dot", text: TG.t("unread") }) : "", " ", title),
        TG.el("div", { text: TG.label(n.body) }),
        TG.el("div", { class: "when", text: F.when(n.created_at) }),
        unread ? TG.el("button", { type: "button", class: "link", text: TG.t("mark_read"), onclick: async () => {
          const m = await TG.api("POST", TG.apiPath("notifications", String(n.id), "read"));
          if (!m.ok) { TG.flash(TG.errorText(m.error)); return; }
          notifications();
        } }) : "");
    }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    TG.renderNav(null);
    if (features.tasks) tasks();
    if (features.notifications) {
      notifications();
      document.getElementById("read-all").addEventListener("click", async () => {
        const r = await TG.api("POST", "/api/notifications/read-all");
        if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
        notifications();
      });
    }
  });
})();
