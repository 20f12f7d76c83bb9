/* The 360° record page: fields grouped by the form's sections, sub-table rows, related records
   (other entities whose lookup points here) and the history of changes. */
"use strict";
(function () {
  const { app, entity, id } = TG.page;

  function props(fields, rec) {
    return TG.el("dl", { class: "props" }, fields.map(f => TG.el("div", { dataset: { field: f.name } },
      TG.el("dt", { text: TG.label(f.label) }),
      f.type === "rich_text" ? TG.el("dd", {}, TG.richText(rec[f.name])) : TG.el("dd", { text: TG.display(f, rec[f.name], rec._titles) }))));
  }

  function rowsTable(meta, childName, rows, skip) {
    const child = meta.byName[childName];
    if (!child) return TG.el("p", { class: "muted", text: TG.t("no_records") });
    const cols = child.fields.filter(f => f.name !== skip && !["sub_table", "long_text", "rich_text"].includes(f.type)).slice(0, 6);
    return TG.el("div", { class: "table-wrap" }, TG.el("table", { class: "records" },
      TG.el("thead", {}, TG.el("tr", {}, cols.map(f => TG.el("th", { text: TG.label(f.label) })))),
      TG.el("tbody", {}, rows.length ? rows.map(r => TG.el("tr", {}, cols.map((f, i) => {
        const td = TG.el("td", { "data-label": TG.label(f.label) });
        const text = TG.display(f, r[f.name], r._titles);
        if (i === 0 && !meta.children.has(childName)) td.append(TG.el("a", { href: TG.url(app, childName, r.id), text: text || "#" + r.id }));
        else td.textContent = text;
        return td;
      }))) : TG.el("tr", {}, TG.el("td", { colspan: cols.length, class: "muted", text: TG.t("no_records") })))));
  }

  async function sections(meta, er, rec) {
    const forms = await TG.api("GET", TG.apiPath("apps", app, "forms", entity));
    const name = forms.ok ? (forms.data.find(f => f.name !== "default") || { name: "default" }).name : "default";
    const d = await TG.api("GET", TG.apiPath("apps", app, "forms", entity, name));
    const out = [];
    const fieldsOf = (nodes) => nodes.flatMap(n => n.kind === "field" ? [n.field]
      : fieldsOf([...(n.children || []), ...(n.columns || []).flatMap(c => c.children), ...(n.tabs || []).flatMap(t => t.children || [])]));
    const groups = d.ok ? d.data.layout.map(n => n.kind === "field" ? { label: null, names: [n.field] } : { label: n.label, names: fieldsOf([n]) })
      : [{ label: null, names: er.fields.map(f => f.name) }];
    // fields laid out at the top level go in one untitled group
    const merged = [];
    for (const g of groups) { const last = merged[merged.length - 1]; if (!g.label && last && !last.label) last.names.push(...g.names); else merged.push(g); }
    for (const g of merged) {
      const fields = g.names.map(n => er.byName[n]).filter(Boolean);
      const plain = fields.filter(f => f.type !== "sub_table");
      const card = TG.el("section", { class: "card" }, g.label ? TG.el("h2", { text: g.label }) : TG.el("h2", { text: TG.t("details") }), props(plain, rec));
      for (const f of fields.filter(f => f.type === "sub_table"))
        card.append(TG.el("h2", { class: "sub", text: TG.label(f.label) }), rowsTable(meta, f.entity, rec[f.name] || [], f.link_field));
      out.push(card);
    }
    const system = [["owner", TG.t("owner")], ["created_at", TG.t("created_at")], ["updated_at", TG.t("updated_at")]]
      .map(([n, l]) => ({ name: n, label: l, type: n === "owner" ? "user" : "datetime" }));
    out.push(TG.el("section", { class: "card" }, props(system, rec)));
    return out;
  }

  async function related(meta) {
    const out = [];
    for (const other of meta.entities) {
      for (const f of other.fields) {
        if (f.type !== "lookup" || f.entity !== entity || meta.children.has(other.name)) continue;
        const r = await TG.api("GET", TG.apiPath("apps", app, "records", other.name), undefined,
          { filter: `${f.name}.id == ${Number(id)}`, expand: "titles", limit: 10, sort: "-id" });
        if (!r.ok) continue; // an entity the caller may not read shows nothing
        const head = TG.el("div", { class: "page-head" },
          TG.el("h2", { text: `${TG.label(other.label)} · ${TG.label(f.label)} (${r.data.total})` }),
          TG.el("a", { class: "button", href: TG.url(app, other.name, "new") + "?" + new URLSearchParams({ [f.name]: id }), text: TG.t("new") }));
        out.push(TG.el("section", { class: "card related", dataset: { entity: other.name, field: f.name } }, head, rowsTable(meta, other.name, r.data.items, f.name)));
      }
    }
    if (out.length) out.unshift(TG.el("h2", { text: TG.t("related") }));
    return out;
  }

  async function history(er) {
    const r = await TG.api("GET", TG.apiPath("apps", app, "records", entity, String(id), "history"));
    const list = document.getElementById("history");
    if (!r.ok) { list.replaceChildren(TG.el("li", { class: "muted", text: TG.errorText(r.error) })); return; }
    if (!r.data.length) { list.replaceChildren(TG.el("li", { class: "muted", text: TG.t("no_history") })); return; }
    list.replaceChildren(...r.data.slice().reverse().map(h => TG.el("li", {},
      TG.el("div", {}, TG.el("strong", { text: h.actor_name || "#" + h.actor }), " ", TG.t("op_" + h.op)),
      TG.el("div", { class: "when", text: new Date(h.at).toLocaleString(TG.locale === "zh" ? "zh-CN" : "en-GB") }),
      Object.entries(h.changes || {}).map(([name, [was, now]]) => {
        const f = er.byName[name] || { name, type: "text", label: name };
        const change = TG.el("div", { class: "change" }, TG.el("span", { class: "muted", text: TG.label(f.label) + "：" }));
        if (h.op !== "create" && was != null) change.append(TG.el("del", { text: TG.display(f, was) }), " → ");
        change.append(TG.el("ins", { text: TG.display(f, now) }));
        return change;
      }))));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    TG.renderNav(app, entity);
    let meta;
    try { meta = await TG.appMeta(app); } catch (e) { TG.flash(TG.errorText(e)); return; }
    const er = meta.byName[entity];
    const r = await TG.api("GET", TG.apiPath("apps", app, "records", entity, String(id)), undefined, { expand: "titles" });
    if (!r.ok || !er) { TG.flash(r.ok ? TG.t("not_found") : TG.errorText(r.error)); return; }
    const rec = r.data;
    const title = rec[er.title] ?? "#" + id;
    document.getElementById("title").textContent = title;
    document.title = title + " · " + TG.label(er.label);
    document.getElementById("actions").append(
      TG.el("a", { class: "button", href: TG.url(app, entity), text: TG.label(er.label) }),
      TG.el("a", { class: "button primary", href: TG.url(app, entity, id, "edit"), text: TG.t("edit") }));
    document.getElementById("record-body").replaceChildren(...await sections(meta, er, rec));
    TG.inPlace?.(document.getElementById("record-body"), { app, entity, id, meta, record: rec,
      onSaved: (saved) => { document.getElementById("title").textContent = saved[er.title] ?? "#" + id; history(er); } });
    history(er);
    document.getElementById("related").replaceChildren(...await related(meta));
  });
})();
