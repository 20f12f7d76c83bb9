/* The form renderer: builds an editable form from the form description API
   (GET /api/apps/{app}/forms/{entity}/{form}), one widget per field type, re-asks the form-state
   API when a field that conditions depend on changes, and shows server problems at their fields.
   Reusable: new TG.FormRenderer(root, description, options).render(values). */
"use strict";
(function () {
  const READONLY_TYPES = new Set(["formula", "rollup", "auto_number", "created_at", "updated_at", "created_by", "updated_by"]);
  const INPUT_TYPES = { email: "email", url: "url", phone: "tel", cn_mobile: "tel", integer: "number", number: "number",
    percent: "number", rating: "number", date: "date", time: "time" };
  const pad = (n) => String(n).padStart(2, "0");
  const toLocalInput = (iso) => { if (!iso) return ""; const d = new Date(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`; };

  class FormRenderer {
    /* options: {app, meta (TG.appMeta), recordId, onChange, idPrefix (several forms on a page)} */
    constructor(root, description, options) {
      this.root = root; this.desc = description; this.opts = options || {};
      this.widgets = {}; this.original = {}; this.stateTimer = null;
    }

    async render(values) {
      this.original = JSON.parse(JSON.stringify(values || {}));
      const nodes = await Promise.all(this.desc.layout.map(n => this.node(n)));
      this.root.replaceChildren(...nodes.filter(Boolean));
      for (const [name, w] of Object.entries(this.widgets)) w.set(this.original[name] ?? (this.opts.recordId ? null : this.desc.fields[name].default ?? null));
      await this.refreshState();
      return this;
    }

    async node(n) {
      if (n.kind === "field") return this.field(n);
      const children = async (list) => (await Promise.all((list || []).map(c => this.node(c)))).filter(Boolean);
      if (n.kind === "section") {
        const grid = TG.el("div", { class: "form-grid" }, await children(n.children));
        return TG.el("fieldset", { class: "form-section" }, n.label ? TG.el("legend", { text: n.label }) : "", grid);
      }
      if (n.kind === "columns") {
        const cols = await Promise.all(n.columns.map(async c => TG.el("div", { class: "form-grid", style: `grid-column: span ${c.width || 6}` }, await children(c.children))));
        return TG.el("div", { class: "form-grid" }, cols);
      }
      if (n.kind === "tabs") {
        return TG.el("div", {}, ...(await Promise.all(n.tabs.map(async t => TG.el("fieldset", { class: "form-section" }, TG.el("legend", { text: t.label || "" }), TG.el("div", { class: "form-grid" }, await children(t.children)))))));
      }
      return null;
    }

    async field(n) {
      const f = this.desc.fields[n.field];
      if (!f) return null;
      const id = (this.opts.idPrefix || "f-") + f.name;
      const box = TG.el("div", { class: "form-field" + (n.span === 12 || ["long_text", "rich_text", "sub_table"].includes(f.type) ? " span-12" : ""), dataset: { field: f.name } });
      const widget = await this.widget(f, id);
      this.widgets[f.name] = widget;
      box.append(TG.el("label", { class: "label", for: id, text: f.label }), widget.node);
      if (f.help) box.append(TG.el("div", { class: "help", text: f.help }));
      box.append(TG.el("div", { class: "field-error", id: id + "-error", role: "alert", hidden: true }));
      widget.box = box;
      this.mark(f.name, { visible: true, required: f.required, readonly: f.readonly || READONLY_TYPES.has(f.type) });
      const changed = () => { if ((this.desc.depends_on || []).includes(f.name)) this.scheduleState(); this.opts.onChange?.(f.name); };
      widget.node.addEventListener("change", changed);
      widget.node.addEventListener("input", () => { this.clearError(f.name); });
      return box;
    }

    async widget(f, id) {
      const opts = f.settings?.options || [];
      const own = !READONLY_TYPES.has(f.type) && TG.widgets && TG.widgets[f.type] && await TG.widgets[f.type](f, id, this);
      if (own) return own; // widgets.js / files.js, where the page loads them
      if (READONLY_TYPES.has(f.type)) {
        const out = TG.el("output", { id, class: "readonly" });
        let v = null;
        return { node: out, readonly: true, set: (x) => { v = x; out.textContent = f.type === "currency" ? TG.money(x) : x ?? ""; }, get: () => v };
      }
      if (f.type === "select") {
        const s = TG.el("select", { id, name: f.name }, TG.el("option", { value: "", text: TG.t("choose") }), opts.map(o => TG.el("option", { value: o.value, text: o.label })));
        return { node: s, set: (v) => { s.value = v ?? ""; }, get: () => s.value || null };
      }
      if (f.type === "multi_select") {
        const s = TG.el("select", { id, name: f.name, multiple: true }, opts.map(o => TG.el("option", { value: o.value, text: o.label })));
        return { node: s, set: (v) => { for (const o of s.options) o.selected = (v || []).includes(o.value); }, get: () => [...s.selectedOptions].map(o => o.value) };
      }
      if (f.type === "boolean") {
        const c = TG.el("input", { id, name: f.name, type: "checkbox" });
        c.style.width = "auto";
        return { node: c, set: (v) => { c.checked = !!v; }, get: () => c.checked };
      }
      if (f.type === "long_text" || f.type === "rich_text") {
        const t = TG.el("textarea", { id, name: f.name, rows: 4, placeholder: f.placeholder });
        return { node: t, set: (v) => { t.value = v ?? ""; }, get: () => t.value === "" ? null : t.value };
      }
      if (f.type === "lookup" || f.type === "user" || f.type === "department") return this.picker(f, id);
      if (f.type === "sub_table") return this.subTable(f, id);
      if (f.type === "tags") {
        const i = TG.el("input", { id, name: f.name, placeholder: f.placeholder });
        return { node: i, set: (v) => { i.value = (v || []).join(", "); }, get: () => i.value.split(/[,，]/).map(s => s.trim()).filter(Boolean) };
      }
      if (f.type === "datetime") {
        const i = TG.el("input", { id, name: f.name, type: "datetime-local" });
        return { node: i, set: (v) => { i.value = toLocalInput(v); }, get: () => (i.value ? new Date(i.value).toISOString() : null) };
      }
      if (f.type === "currency") {
        const i = TG.el("input", { id, name: f.name, type: "number", step: "0.01", inputmode: "decimal" });
        const wrap = TG.el("span", { class: "money" }, "¥", i);
        return { node: wrap, input: i, set: (v) => { i.value = v ?? ""; }, get: () => (i.value === "" ? null : i.value) };
      }
      if (["address", "region", "attachment", "image", "signature", "json", "many_to_many"].includes(f.type)) {
        // Not editable here yet: shown as read-only and never sent, so the stored value stays.
        const out = TG.el("output", { id, class: "readonly" });
        let v = null;
        return { node: out, readonly: true, set: (x) => { v = x; out.textContent = TG.display({ type: f.type }, x); }, get: () => v };
      }
      const i = TG.el("input", { id, name: f.name, type: INPUT_TYPES[f.type] || "text", placeholder: f.placeholder,
        step: f.type === "number" || f.type === "percent" ? "any" : null });
      const numeric = ["integer", "number", "percent", "rating"].includes(f.type);
      return { node: i, set: (v) => { i.value = v ?? ""; },
        get: () => (i.value === "" ? null : f.type === "integer" || f.type === "rating" ? Number(i.value) : numeric ? i.value : i.value) };
    }

    /* A lookup, user or department: a select of what the caller may read, titles shown. */
    async picker(f, id) {
      const s = TG.el("select", { id, name: f.name }, TG.el("option", { value: "", text: TG.t("choose") }));
      let items = [];
      if (f.type === "lookup") {
        const meta = this.opts.meta; const target = meta && meta.byName[f.settings.entity];
        const r = await TG.api("GET", TG.apiPath("apps", this.opts.app, "records", f.settings.entity), undefined, { limit: 200, sort: target ? target.title : undefined });
        if (r.ok) items = r.data.items.map(x => [x.id, target ? x[target.title] ?? "#" + x.id : "#" + x.id]);
      } else if (f.type === "user") {
        const r = await TG.api("GET", "/api/directory/users", undefined, { active: true });
        if (r.ok) items = r.data.map(u => [u.id, u.name]);
      } else {
        const r = await TG.api("GET", "/api/departments");
        if (r.ok) items = r.data.map(d => [d.id, d.name]);
      }
      for (const [value, text] of items) s.append(TG.el("option", { value, text }));
      return { node: s, set: (v) => {
        if (v != null && ![...s.options].some(o => o.value === String(v))) s.append(TG.el("option", { value: v, text: "#" + v }));
        s.value = v == null ? "" : String(v);
      }, get: () => (s.value ? Number(s.value) : null) };
    }

    /* A sub-table: an editable grid of the child rows; the whole list is sent back. */
    async subTable(f, id) {
      const meta = this.opts.meta;
      const child = meta && meta.byName[f.settings.entity];
      const link = f.settings.link_field;
      const cols = child ? child.fields.filter(c => c.name !== link && !READONLY_TYPES.has(c.type) && c.type !== "sub_table") : [];
      const tbody = TG.el("tbody");
      const table = TG.el("table", { class: "grid", id },
        TG.el("thead", {}, TG.el("tr", {}, cols.map(c => TG.el("th", { text: TG.label(c.label) })), TG.el("th"))), tbody);
      const addRow = (row) => {
        const tr = TG.el("tr", { dataset: { id: row && row.id ? row.id : "" } });
        for (const c of cols) {
          const type = c.type === "select" ? null : INPUT_TYPES[c.type] || "text";
          const input = c.type === "select"
            ? TG.el("select", { "aria-label": TG.label(c.label), dataset: { col: c.name } }, TG.el("option", { value: "" }), (c.options || []).map(o => TG.el("option", { value: o.value, text: TG.label(o.label) })))
            : TG.el("input", { type, "aria-label": TG.label(c.label), dataset: { col: c.name }, step: type === "number" ? "any" : null });
          input.value = row && row[c.name] != null ? row[c.name] : "";
          tr.append(TG.el("td", {}, input));
        }
        tr.append(TG.el("td", {}, TG.el("button", { type: "button", class: "link", "aria-label": TG.t("remove_row"), text: "✕", onclick: () => { tr.remove(); } })));
        tbody.append(tr);
      };
      const add = TG.el("button", { type: "button", text: "+ " + TG.t("add_row"), onclick: () => addRow(null) });
      const node = TG.el("div", {}, TG.el("div", { class: "table-wrap" }, table), add);
      let original = null;
      return { node, set: (rows) => { original = rows; tbody.replaceChildren(); for (const r of rows || []) addRow(r); },
        get: () => [...tbody.rows].map(tr => {
          const row = tr.dataset.id ? { id: Number(tr.dataset.id) } : {};
          for (const input of tr.querySelectorAll("[data-col]")) {
            const c = child.byName[input.dataset.col];
            row[c.name] = input.value === "" ? null : c.type === "integer" ? Number(input.value) : input.value;
          }
          return row;
        }), same: (rows) => JSON.stringify(rows) === JSON.stringify((original || []).map(r => {
          const o = { id: r.id }; for (const c of cols) o[c.name] = r[c.name] ?? null; return o; })) };
    }

    /* Values to send: on a new record every filled field, on an edit only what changed. */
    values(onlyChanged) {
      const out = {};
      for (const [name, w] of Object.entries(this.widgets)) {
        if (w.readonly || w.box.hidden || w.disabled) continue;
        const v = w.get();
        if (onlyChanged) {
          if (w.same ? w.same(v) : JSON.stringify(v ?? null) === JSON.stringify(this.original[name] ?? null)) continue;
        } else if (v === null || (Array.isArray(v) && !v.length && !w.same)) continue;
        out[name] = v;
      }
      return out;
    }

    draft() {
      const out = {};
      for (const [name, w] of Object.entries(this.widgets)) if (!w.same || w.draftable) out[name] = w.get();
      return out;
    }

    scheduleState() {
      clearTimeout(this.stateTimer);
      this.pending = true;
      this.stateTimer = setTimeout(() => this.refreshState(), 150);
    }

    /* Before reading the values: the field state of the latest draft (a change still waiting
       for the form-state API could hide or show a field). */
    async settle() {
      if (this.pending) {
        clearTimeout(this.stateTimer);
        await this.refreshState();
      } else if (this.inflight) await this.inflight; // asked already, not answered yet
    }

    refreshState() {
      this.pending = false;
      const run = this.askState();
      this.inflight = run;
      return run;
    }

    async askState() {
      if (!(this.desc.depends_on || []).length && !Object.values(this.desc.fields).some(f => Object.keys(f.conditions || {}).length)) return;
      const body = { record: this.draft() };
      if (this.opts.recordId) body.id = this.opts.recordId;
      // options.stateUrl: where a page outside the signed-in app asks (a public form)
      const url = this.opts.stateUrl || TG.apiPath("apps", this.opts.app, "forms", this.desc.entity, this.desc.form, "state");
      const r = await TG.api("POST", url, body);
      if (!r.ok) return;
      for (const [name, st] of Object.entries(r.data.fields)) this.mark(name, st);
    }

    mark(name, st) {
      const w = this.widgets[name];
      if (!w || !w.box) return;
      w.box.hidden = !st.visible;
      w.box.classList.toggle("required", !!st.required);
      const control = w.input || w.node;
      if ("disabled" in control) control.disabled = !!st.readonly;
      w.disabled = !!st.readonly && !w.readonly;
      if (control.setAttribute && !w.readonly) control.toggleAttribute("aria-required", !!st.required);
    }

    clearError(name) {
      const w = this.widgets[name];
      if (!w || !w.box) return;
      w.box.classList.remove("invalid");
      const e = w.box.querySelector(".field-error"); e.hidden = true; e.textContent = "";
    }

    /* Server problems beside their fields; returns the problems no field could take. */
    setErrors(problems) {
      for (const name of Object.keys(this.widgets)) this.clearError(name);
      const rest = [];
      let first = null;
      for (const p of problems || []) {
        const name = p.field || (p.pointer || "").split("/")[1];
        const w = this.widgets[name];
        if (!w || !w.box || w.box.hidden) { rest.push(p); continue; }
        w.box.classList.add("invalid");
        const e = w.box.querySelector(".field-error");
        e.textContent = (e.textContent ? e.textContent + "；" : "") + p.message;
        e.hidden = false;
        (w.input || w.node).setAttribute?.("aria-describedby", e.id);
        first = first || w;
      }
      if (first) (first.input || first.node).focus?.();
      return rest;
    }
  }
  TG.FormRenderer = FormRenderer;
})();
