/* Administrators publish an entity's form at a public link and open or close it again
   (/ui/api/public-forms); the list shows each link with the user its submissions are made as. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const fill = (select, items) => select.replaceChildren(...items.map(([value, text]) => TG.el("option", { value, text })));

  async function people() {
    const r = await TG.api("GET", "/api/directory/users", undefined, { active: true });
    return r.ok ? r.data : [];
  }

  /* Answers that come back after the choice moved on are dropped, and a choice still offered is kept. */
  function refill(select, items) {
    const kept = select.value;
    fill(select, items);
    if (items.some(([value]) => value === kept)) select.value = kept;
  }

  async function entities() {
    const app = $("pf-app").value;
    const meta = await TG.appMeta(app);
    if (app !== $("pf-app").value) return;
    refill($("pf-entity"), meta.entities.filter(e => !meta.children.has(e.name)).map(e => [e.name, TG.label(e.label)]));
    await forms();
  }

  async function forms() {
    const [app, entity] = [$("pf-app").value, $("pf-entity").value];
    const r = await TG.api("GET", TG.apiPath("apps", app, "forms", entity));
    if (app !== $("pf-app").value || entity !== $("pf-entity").value) return;
    refill($("pf-form"), r.ok ? r.data.map(f => [f.name, f.name === "default" ? f.label + " (default)" : f.label]) : []);
  }

  async function list(names) {
    const r = await TG.api("GET", TG.prefix + "/api/public-forms");
    if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
    $("public-forms").tBodies[0].replaceChildren(...r.data.map(pf => {
      const url = location.origin + pf.url;
      const toggle = TG.el("button", { type: "button", dataset: { form: pf.id }, text: pf.enabled ? TG.t("unpublish") : TG.t("publish"), onclick: async () => {
        const done = await TG.api("PATCH", TG.prefix + "/api/public-forms/" + pf.id, { enabled: !pf.enabled });
        if (!done.ok) { TG.flash(TG.errorText(done.error)); return; }
        list(names);
      } });
      return TG.el("tr", { dataset: { form: pf.id, enabled: String(pf.enabled) } },
        TG.el("td", { text: pf.app + " · " + pf.entity }), TG.el("td", { text: pf.form }), TG.el("td", { text: names[pf.user_id] || "#" + pf.user_id }),
        TG.el("td", {}, pf.enabled ? TG.el("a", { href: url, target: "_blank", rel: "noopener", text: url }) : TG.el("span", { class: "muted", text: TG.t("closed") })),
        TG.el("td", {}, toggle));
    }));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    TG.renderNav(null);
    if (!TG.user.is_admin) return;
    const [apps, users] = await Promise.all([TG.api("GET", "/api/apps"), people()]);
    const names = Object.fromEntries(users.map(u => [u.id, u.name]));
    fill($("pf-app"), apps.ok ? apps.data.map(a => [a.name, TG.label(a.label)]) : []);
    fill($("pf-user"), users.map(u => [u.id, u.name]));
    $("pf-app").addEventListener("change", entities);
    $("pf-entity").addEventListener("change", forms);
    if ($("pf-app").value) await entities();
    $("publish-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { app: $("pf-app").value, entity: $("pf-entity").value, form: $("pf-form").value, user: Number($("pf-user").value) };
      const r = await TG.api("POST", TG.prefix + "/api/public-forms", body);
      if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
      TG.flash("");
      list(names);
    });
    list(names);
  });
})();
