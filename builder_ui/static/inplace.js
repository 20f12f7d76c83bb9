/* Edit in place on the record page: a field's value becomes its form widget on a click (or
   Enter), and saving sends that one field as a PATCH with If-Match (the record's ETag), so a
   stale page is refused instead of overwriting someone else's change. A refusal is shown beside
   the field and the widget keeps what the user typed. */
"use strict";
(function () {
  const FIXED = new Set(["formula", "rollup", "auto_number", "created_at", "updated_at", "created_by", "updated_by", "sub_table"]);

  const FILES = new Set(["attachment", "image", "signature"]);

  /* A stored file in read mode: an image as its preview, anything else as a download link. */
  function thumb(app, d) {
    const url = TG.apiPath("apps", app, "files", d.id);
    return d.content_type && d.content_type.startsWith("image/")
      ? TG.el("a", { href: url, target: "_blank", rel: "noopener", class: "thumb" }, TG.el("img", { src: url, alt: d.name, loading: "lazy" }))
      : TG.el("a", { href: url, target: "_blank", rel: "noopener", text: d.name });
  }

  const coloured = TG.colouredOptions;

  async function formOf(app, entity) {
    const forms = await TG.api("GET", TG.apiPath("apps", app, "forms", entity));
    const name = forms.ok ? (forms.data.find(f => f.name !== "default") || { name: "default" }).name : "default";
    const d = await TG.api("GET", TG.apiPath("apps", app, "forms", entity, name));
    return d.ok ? d.data : null;
  }

  /* root: the record page's body; record: the record as read with ?expand=titles. */
  TG.inPlace = async function (root, { app, entity, id, meta, record, onSaved }) {
    const desc = await formOf(app, entity);
    if (!desc) return;
    // readonly_if as it holds for the stored record (the form-state API), as on the edit page
    const state = await TG.api("POST", TG.apiPath("apps", app, "forms", entity, desc.form, "state"), { record: {}, id });
    const fixed = (name) => !!(state.ok && state.data.fields[name] && state.data.fields[name].readonly);
    const er = meta.byName[entity];
    let current = record;
    let tag = `W/"${record.version}"`;
    let openField = null;

    const show = (dd, name) => {
      const f = er.byName[name]; const v = current[name];
      if (FILES.has(f.type) && v) dd.replaceChildren(TG.el("span", { class: "file-thumbs" }, (Array.isArray(v) ? v : [v]).map(d => thumb(app, d))));
      else if (coloured(f) && v != null) dd.replaceChildren(...TG.optionTags(f, v));
      else if (f.type === "rich_text") dd.replaceChildren(TG.richText(v));
      else dd.replaceChildren(TG.display(f, v, current._titles));
    };

    async function open(dd, name) {
      if (openField) return;
      openField = name;
      const f = desc.fields[name];
      const renderer = new TG.FormRenderer(document.createElement("div"), desc, { app, meta, recordId: id });
      renderer.original = JSON.parse(JSON.stringify(current));
      const w = await renderer.widget(f, "ip-" + name);
      const error = TG.el("div", { class: "field-error", id: `ip-${name}-error`, role: "alert", hidden: true });
      const save = TG.el("button", { type: "submit", class: "primary", text: TG.t("save") });
      const cancel = TG.el("button", { type: "button", text: TG.t("cancel") });
      const form = TG.el("form", { class: "in-place", novalidate: true, "aria-label": f.label }, w.node,
        TG.el("div", { class: "in-place-actions" }, save, cancel), error);
      dd.classList.remove("editable"); dd.removeAttribute("role"); dd.removeAttribute("tabindex");
      dd.replaceChildren(form);
      w.set(current[name] ?? null);
      const control = w.input || w.node;
      control.focus?.();
      const close = () => { openField = null; show(dd, name); editable(dd, name); dd.focus(); };
      cancel.addEventListener("click", close);
      form.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); close(); } });
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const value = w.get();
        if (w.same ? w.same(value) : JSON.stringify(value ?? null) === JSON.stringify(current[name] ?? null)) { close(); return; }
        save.disabled = true; error.hidden = true; dd.classList.remove("invalid");
        const r = await TG.api("PATCH", TG.apiPath("apps", app, "records", entity, String(id)), { [name]: value },
          { form: desc.form && desc.form !== "default" ? desc.form : undefined }, { "If-Match": tag });
        save.disabled = false;
        if (!r.ok) {
          const mine = (r.error?.problems || []).filter(p => (p.field || (p.pointer || "").split("/")[1]) === name);
          error.textContent = mine.length ? mine.map(p => p.message).join("；") : TG.errorText(r.error);
          error.hidden = false; dd.classList.add("invalid");
          control.setAttribute?.("aria-describedby", error.id); control.setAttribute?.("aria-invalid", "true");
          control.focus?.();
          return; // the widget keeps what was typed
        }
        tag = r.headers?.get("ETag") || `W/"${r.data.version}"`;
        const fresh = await TG.api("GET", TG.apiPath("apps", app, "records", entity, String(id)), undefined, { expand: "titles" });
        current = fresh.ok ? fresh.data : { ...current, ...r.data };
        if (fresh.ok) tag = fresh.headers?.get("ETag") || tag;
        close();
        onSaved?.(current);
      });
    }

    function editable(dd, name) {
      dd.classList.add("editable");
      dd.setAttribute("role", "button");
      dd.tabIndex = 0;
      dd.setAttribute("aria-label", TG.t("edit_field", { name: TG.label(er.byName[name].label) }));
      dd.title = TG.t("edit");
    }

    for (const row of root.querySelectorAll(".props > [data-field]")) {
      const name = row.dataset.field;
      if (er.byName[name] && (FILES.has(er.byName[name].type) || coloured(er.byName[name]) || er.byName[name].type === "rich_text")) show(row.querySelector("dd"), name);
      const f = desc.fields[name];
      if (!f || f.readonly || fixed(name) || FIXED.has(f.type) || !er.byName[name]) continue;
      const dd = row.querySelector("dd");
      editable(dd, name);
      dd.addEventListener("click", (e) => { if (dd.classList.contains("editable") && !e.target.closest("a")) open(dd, name); });
      dd.addEventListener("keydown", (e) => { if (dd.classList.contains("editable") && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); open(dd, name); } });
    }
  };
})();
