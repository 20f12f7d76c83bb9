/* A record list: columns from the entity's fields, sort by header, paging with the total,
   keyword search (q=) and a rule-DSL filter whose errors are shown at their line and column. */
"use strict";
(function () {
  const PAGE = 20;
  const WIDE = new Set(["sub_table", "long_text", "rich_text", "attachment", "image", "signature", "json", "many_to_many", "address"]);
  const UNSORTABLE = new Set([...WIDE, "lookup", "multi_select", "tags", "user", "department"]);
  const { app, entity } = TG.page;
  let meta, er, columns;
  const state = Object.fromEntries(["q", "filter", "sort", "offset"].map(k => [k, new URLSearchParams(location.search).get(k) || ""]));

  function pushState() {
    const u = new URL(location.href);
    for (const [k, v] of Object.entries(state)) { if (v && v !== "0") u.searchParams.set(k, v); else u.searchParams.delete(k); }
    history.replaceState(null, "", u);
  }

  function header() {
    const tr = TG.el("tr");
    for (const f of columns) {
      const sort = state.sort === f.name ? "ascending" : state.sort === "-" + f.name ? "descending" : null;
      const th = TG.el("th", { scope: "col", class: TG.isNumeric(f) ? "num" : null, "aria-sort": sort, dataset: { field: f.name } });
      if (UNSORTABLE.has(f.type)) th.textContent = TG.label(f.label);
      else th.append(TG.el("button", { type: "button", text: TG.label(f.label), onclick: () => {
        state.sort = state.sort === f.name ? "-" + f.name : state.sort === "-" + f.name ? "" : f.name;
        state.offset = ""; load();
      } }));
      tr.append(th);
    }
    document.querySelector("#records thead").replaceChildren(tr);
  }

  function showFilterError(error) {
    const box = document.getElementById("filter-error");
    const p = (error.problems || []).find(p => p.pointer === "/filter") || error.problems?.[0] || {};
    box.replaceChildren();
    if (p.line) {
      box.append(TG.el("span", { class: "where", text: TG.t("line_column", { line: p.line, column: p.column }) }), " ");
      const lines = state.filter.split("\n");
      const line = lines[p.line - 1] ?? "";
      box.append(TG.el("pre", { class: "caret", text: line + "\n" + " ".repeat(Math.max(0, p.column - 1)) + "^" }));
      const ta = document.getElementById("filter");
      const at = lines.slice(0, p.line - 1).reduce((n, l) => n + l.length + 1, 0) + p.column - 1;
      ta.setAttribute("aria-invalid", "true");
      ta.focus(); ta.setSelectionRange(at, at + 1);
    }
    box.append(TG.el("div", { class: "message", text: p.message || error.message }));
    box.hidden = false;
    // The DSL editor (dsl_editor.js) underlines it as well.
    document.getElementById("filter").dispatchEvent(new CustomEvent("tg:filter-error",
      { detail: { line: p.line, column: p.column, message: p.message || error.message, text: state.filter } }));
  }

  async function load() {
    pushState(); header();
    document.getElementById("filter-error").hidden = true;
    document.getElementById("filter").removeAttribute("aria-invalid");
    document.getElementById("filter").dispatchEvent(new CustomEvent("tg:filter-error", { detail: null }));
    document.getElementById("list-error").hidden = true;
    const offset = Number(state.offset) || 0;
    const r = await TG.api("GET", TG.apiPath("apps", app, "records", entity),
      undefined, { expand: "titles", limit: PAGE, offset, sort: state.sort, q: state.q, filter: state.filter });
    const body = document.querySelector("#records tbody");
    if (!r.ok) {
      body.replaceChildren();
      if ((r.error?.problems || []).some(p => p.pointer === "/filter")) showFilterError(r.error);
      else { const e = document.getElementById("list-error"); e.textContent = TG.errorText(r.error); e.hidden = false; }
      document.getElementById("pager").replaceChildren();
      return;
    }
    const { items, total } = r.data;
    body.replaceChildren(...items.map(rec => TG.el("tr", { dataset: { id: rec.id } }, columns.map((f, i) => {
      const text = TG.display(f, rec[f.name], rec._titles);
      const td = TG.el("td", { "data-label": TG.label(f.label), class: TG.isNumeric(f) ? "num" : null });
      if (i === 0) td.append(TG.el("a", { href: TG.url(app, entity, rec.id), text: text || "#" + rec.id }));
      else if (TG.colouredOptions(f) && rec[f.name] != null && rec[f.name] !== "") td.append(...TG.optionTags(f, rec[f.name]));
      else td.textContent = text;
      return td;
    }))));
    if (!items.length) body.append(TG.el("tr", {}, TG.el("td", { colspan: columns.length, class: "muted", text: TG.t("no_records") })));
    const pager = document.getElementById("pager");
    const prev = TG.el("button", { type: "button", text: TG.t("previous"), disabled: offset <= 0,
      onclick: () => { state.offset = String(Math.max(0, offset - PAGE)); load(); } });
    const next = TG.el("button", { type: "button", text: TG.t("next"), disabled: offset + PAGE >= total,
      onclick: () => { state.offset = String(offset + PAGE); load(); } });
    pager.replaceChildren(TG.el("span", { class: "total", text: TG.t("total", { n: total }) }),
      items.length ? TG.el("span", { class: "muted", text: TG.t("range", { from: offset + 1, to: offset + items.length }) }) : "", prev, next);
    document.dispatchEvent(new CustomEvent("tg:list-rendered", { detail: { items, total } }));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    TG.renderNav(app, entity);
    try { meta = await TG.appMeta(app); } catch (e) { TG.flash(TG.errorText(e)); return; }
    er = meta.byName[entity];
    if (!er) { TG.flash(TG.t("not_found")); return; }
    const title = er.byName[er.title];
    columns = [title, ...er.fields.filter(f => f !== title && !WIDE.has(f.type))].filter(Boolean).slice(0, 6);
    const actions = document.getElementById("actions");
    actions.append(TG.el("a", { class: "button primary", href: TG.url(app, entity, "new"), text: TG.t("new") }));
    for (const f of er.fields.filter(f => f.type === "select"))
      actions.append(TG.el("a", { class: "button", href: TG.url(app, entity, "kanban", f.name), text: TG.t("kanban_by", { field: TG.label(f.label) }) }));
    // What the user typed while the page was loading stays.
    if (state.q) document.getElementById("q").value = state.q;
    if (state.filter) document.getElementById("filter").value = state.filter;
    document.getElementById("search-form").addEventListener("submit", (ev) => {
      ev.preventDefault(); state.q = document.getElementById("q").value.trim(); state.offset = ""; load();
    });
    document.getElementById("filter-form").addEventListener("submit", (ev) => {
      ev.preventDefault(); state.filter = document.getElementById("filter").value.trim(); state.offset = ""; load();
    });
    document.getElementById("filter").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); document.getElementById("filter-form").requestSubmit(); }
    });
    document.getElementById("filter-clear").addEventListener("click", () => {
      document.getElementById("filter").value = ""; state.filter = ""; state.offset = ""; load();
    });

    // Saved views, the filter builder and bulk actions (views.js, filters.js, bulk.js) hook in here.
    TG.list = { app, entity, er, state, load, showFilterError,
      defaultColumns: columns.map(f => f.name), columns: () => columns,
      setColumns: (names) => { columns = names.map(n => er.byName[n]).filter(Boolean); } };
    for (const hook of TG.listHooks || []) await hook(TG.list);
    await load();
    // The title last: a page that shows it has loaded its first page of records.
    document.getElementById("title").textContent = TG.label(er.label);
    document.title = TG.label(er.label) + " · " + TG.label(meta.label);
  });
})();
