/* Create or edit one record through the form renderer; the save goes to the record API with
   ?form=, so the server applies the same layout, conditions and validation. */
"use strict";
(function () {
  const { app, entity, id } = TG.page;

  async function formName() {
    const r = await TG.api("GET", TG.apiPath("apps", app, "forms", entity));
    if (!r.ok) throw r.error;
    const named = r.data.find(f => f.name !== "default");
    return named ? named.name : "default";
  }

  document.addEventListener("DOMContentLoaded", async () => {
    TG.renderNav(app, entity);
    let meta, desc, record = null;
    try {
      meta = await TG.appMeta(app);
      const name = await formName();
      const d = await TG.api("GET", TG.apiPath("apps", app, "forms", entity, name));
      if (!d.ok) throw d.error;
      desc = d.data;
      if (id) {
        const r = await TG.api("GET", TG.apiPath("apps", app, "records", entity, String(id)), undefined, { expand: "titles" });
        if (!r.ok) throw r.error;
        record = r.data;
      }
    } catch (e) { TG.flash(TG.errorText(e)); return; }
    const er = meta.byName[entity];
    const back = id ? TG.url(app, entity, id) : TG.url(app, entity);
    document.getElementById("cancel").href = back;
    document.getElementById("title").textContent = id
      ? TG.t("edit") + " · " + (record[er.title] ?? "#" + id) : TG.t("new") + " · " + TG.label(er.label);
    // A "new" link from a related list fills the link: ?account=4
    const initial = record || {};
    if (!id) for (const [k, v] of new URLSearchParams(location.search)) if (er.byName[k]) initial[k] = er.byName[k].type === "lookup" ? Number(v) : v;
    const form = await new TG.FormRenderer(document.getElementById("form-body"), desc, { app, meta, recordId: id }).render(initial);
    if (!id) form.original = {};
    const errorBox = document.getElementById("form-error");
    let confirmDuplicates = false;

    document.getElementById("record-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const save = document.getElementById("save");
      save.disabled = true; errorBox.hidden = true;
      await form.settle();
      const values = form.values(!!id);
      // the record API knows only the entity's named forms, not the forms API's "default"
      const params = { form: desc.form && desc.form !== "default" ? desc.form : undefined, confirm_duplicates: confirmDuplicates ? "true" : undefined };
      const r = id
        ? await TG.api("PATCH", TG.apiPath("apps", app, "records", entity, String(id)), { ...values, version: record.version }, params)
        : await TG.api("POST", TG.apiPath("apps", app, "records", entity), values, params);
      save.disabled = false;
      if (r.ok) { location.href = TG.url(app, entity, r.data.id); return; }
      const rest = form.setErrors(r.error?.problems || []);
      errorBox.replaceChildren(TG.el("span", { text: rest.length ? TG.errorText({ ...r.error, problems: rest }) : TG.t("fix_errors") }));
      if (r.error?.code === "duplicate_warning" || r.error?.code === "duplicate_record") {
        const existing = r.error.details?.existing_id ?? r.error.details?.matches?.[0]?.id;
        errorBox.replaceChildren(TG.el("span", { text: r.error.message + " " }));
        if (existing) errorBox.append(TG.el("a", { href: TG.url(app, entity, existing), text: TG.t("open_existing") }), " ");
        if (r.error.code === "duplicate_warning") errorBox.append(TG.el("button", { type: "button", text: TG.t("save_anyway"),
          onclick: () => { confirmDuplicates = true; document.getElementById("record-form").requestSubmit(); } }));
      }
      errorBox.hidden = false;
    });
  });
})();
