/* Saved views of a list (the plugin's /ui/views API): a chooser of the caller's own views and
   the shared ones, save / save as / delete, a default view per user, and the column chooser
   (which fields, in which order) whose choice a view keeps. Hooks into list.js via TG.listHooks. */
"use strict";
(function () {
  const HIDDEN_TYPES = new Set(["sub_table", "rich_text", "attachment", "image", "signature", "json"]);
  let list, views = [], defaultId = null, current = null;

  const base = () => TG.url("views", list.app, list.entity);
  const field = (name) => list.er.byName[name];

  function currentColumns() { return list.columns().map(f => f.name); }

  /* Make the list show a view (or the plain list for null) and reload it. */
  function apply(view, reload) {
    current = view;
    list.state.filter = view ? view.filter : "";
    list.state.sort = view ? view.sort : "";
    list.state.q = view ? view.q : "";
    list.state.offset = "";
    document.getElementById("q").value = list.state.q;
    document.getElementById("filter").value = list.state.filter;
    document.getElementById("filter").dispatchEvent(new Event("tg:filter-set"));
    const cols = view && view.columns.length ? view.columns.filter(n => field(n)) : list.defaultColumns;
    list.setColumns(cols);
    const u = new URL(location.href);
    if (view) u.searchParams.set("view", view.id); else u.searchParams.delete("view");
    history.replaceState(null, "", u);
    renderBar();
    renderColumns();
    if (reload) list.load();
  }

  function option(v) {
    return TG.el("option", { value: v.id, selected: current && current.id === v.id }, v.name);
  }

  function renderBar() {
    const select = document.getElementById("view-select");
    const mine = views.filter(v => !v.shared), shared = views.filter(v => v.shared);
    select.replaceChildren(TG.el("option", { value: "" }, TG.t("view_all")),
      mine.length ? TG.el("optgroup", { label: TG.t("view_mine") }, mine.map(option)) : "",
      shared.length ? TG.el("optgroup", { label: TG.t("view_shared_group") }, shared.map(option)) : "");
    select.value = current ? String(current.id) : "";
    const isDefault = (current ? current.id : null) === defaultId;
    document.getElementById("view-default-mark").hidden = !isDefault || defaultId === null;
    document.getElementById("view-make-default").hidden = isDefault;
    document.getElementById("view-save").hidden = !(current && current.editable);
    document.getElementById("view-delete").hidden = !(current && current.editable);
  }

  function body(name, shared) {
    return { name, shared, filter: list.state.filter, sort: list.state.sort, q: list.state.q, columns: currentColumns() };
  }

  /* A refused save: a filter error at its line and column under the DSL box, anything else flashed. */
  function refused(r) {
    if ((r.error?.problems || []).some(p => p.pointer === "/filter")) list.showFilterError(r.error);
    else TG.flash(TG.errorText(r.error));
  }

  async function reloadViews() {
    const r = await TG.api("GET", base());
    if (!r.ok) { TG.flash(TG.errorText(r.error)); return false; }
    views = r.data.views; defaultId = r.data.default;
    return true;
  }

  async function save(view) {
    const r = await TG.api("PUT", base() + "/" + view.id, body(view.name, view.shared));
    if (!r.ok) { refused(r); return; }
    await reloadViews();
    current = views.find(v => v.id === r.data.id) || null;
    renderBar();
    TG.flash(TG.t("view_saved"), true);
  }

  async function saveAs(ev) {
    ev.preventDefault();
    const dialog = document.getElementById("view-dialog");
    const name = document.getElementById("view-name").value.trim();
    const shared = document.getElementById("view-shared").checked;
    const r = await TG.api("POST", base(), body(name, shared));
    if (!r.ok) {
      const box = document.getElementById("view-dialog-error");
      box.textContent = TG.errorText(r.error); box.hidden = false;
      if ((r.error?.problems || []).some(p => p.pointer === "/filter")) { dialog.close(); refused(r); }
      return;
    }
    dialog.close();
    await reloadViews();
    apply(views.find(v => v.id === r.data.id) || null, false);
    TG.flash(TG.t("view_saved"), true);
  }

  async function remove() {
    if (!current || !confirm(TG.t("view_delete_confirm", { name: current.name }))) return;
    const r = await TG.api("DELETE", base() + "/" + current.id);
    if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
    await reloadViews();
    apply(null, true);
    TG.flash(TG.t("view_deleted"), true);
  }

  async function makeDefault() {
    const id = current ? current.id : null;
    const r = await TG.api("PUT", base() + "/default", { view_id: id });
    if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
    defaultId = id;
    renderBar();
  }

  /* The column chooser: every field the caller may read, ticked when shown, in shown order. */
  function renderColumns() {
    const panel = document.getElementById("columns-panel");
    const shown = currentColumns();
    const rest = list.er.fields.filter(f => !HIDDEN_TYPES.has(f.type) && !shown.includes(f.name)).map(f => f.name);
    const set = (names) => { list.setColumns(names); renderColumns(); list.load(); };
    const items = [...shown, ...rest].map((name, i) => {
      const on = shown.includes(name);
      const id = "col-" + name;
      const move = (d) => { const a = [...shown]; const j = a.indexOf(name); [a[j], a[j + d]] = [a[j + d], a[j]]; set(a); };
      return TG.el("li", { dataset: { field: name } },
        TG.el("input", { type: "checkbox", id, checked: on, disabled: on && shown.length === 1,
          onchange: (ev) => set(ev.target.checked ? [...shown, name] : shown.filter(n => n !== name)) }),
        TG.el("label", { for: id, text: TG.label(field(name).label) }),
        on ? TG.el("button", { type: "button", class: "link", "aria-label": TG.t("move_up"), text: "↑",
          disabled: i === 0, onclick: () => move(-1) }) : "",
        on ? TG.el("button", { type: "button", class: "link", "aria-label": TG.t("move_down"), text: "↓",
          disabled: i === shown.length - 1, onclick: () => move(1) }) : "");
    });
    panel.replaceChildren(TG.el("p", { class: "muted", text: TG.t("columns_hint") }), TG.el("ul", { class: "column-list" }, items));
  }

  function buildBar() {
    const bar = TG.el("div", { class: "views-bar toolbar", id: "views-bar" },
      TG.el("label", { for: "view-select", text: TG.t("views") }),
      TG.el("select", { id: "view-select", onchange: (ev) => apply(views.find(v => String(v.id) === ev.target.value) || null, true) }),
      TG.el("span", { id: "view-default-mark", class: "badge", text: TG.t("view_is_default"), hidden: true }),
      TG.el("button", { type: "button", id: "view-save", text: TG.t("view_save"), onclick: () => save(current) }),
      TG.el("button", { type: "button", id: "view-save-as", text: TG.t("view_save_as"), onclick: () => {
        document.getElementById("view-name").value = current ? current.name : "";
        document.getElementById("view-shared").checked = false;
        document.getElementById("view-dialog-error").hidden = true;
        document.getElementById("view-dialog").showModal();
      } }),
      TG.el("button", { type: "button", id: "view-make-default", text: TG.t("view_make_default"), onclick: makeDefault }),
      TG.el("button", { type: "button", id: "view-delete", class: "danger", text: TG.t("view_delete"), onclick: remove }),
      TG.el("button", { type: "button", id: "columns-toggle", "aria-expanded": "false", "aria-controls": "columns-panel",
        text: TG.t("columns"), onclick: (ev) => {
          const panel = document.getElementById("columns-panel");
          panel.hidden = !panel.hidden; ev.target.setAttribute("aria-expanded", String(!panel.hidden));
        } }));
    const panel = TG.el("div", { id: "columns-panel", class: "columns-panel card", hidden: true });
    const dialog = TG.el("dialog", { id: "view-dialog", "aria-labelledby": "view-dialog-title" },
      TG.el("form", { method: "dialog", onsubmit: saveAs },
        TG.el("h2", { id: "view-dialog-title", text: TG.t("view_save_as") }),
        TG.el("label", { for: "view-name", text: TG.t("view_name") }),
        TG.el("input", { id: "view-name", required: true, maxlength: 100 }),
        TG.user.is_admin ? TG.el("label", { class: "check" }, TG.el("input", { type: "checkbox", id: "view-shared" }), TG.t("view_shared"))
          : TG.el("input", { type: "hidden", id: "view-shared" }),
        TG.el("div", { id: "view-dialog-error", class: "error", role: "alert", hidden: true }),
        TG.el("div", { class: "actions" },
          TG.el("button", { type: "submit", class: "primary", id: "view-dialog-save", text: TG.t("save") }),
          TG.el("button", { type: "button", text: TG.t("cancel"), onclick: () => dialog.close() }))));
    document.querySelector(".page-head").after(bar, panel, dialog);
  }

  /* Export the list as it is filtered and sorted now; import through the wizard page. */
  function buildTransfer() {
    const actions = document.getElementById("actions");
    for (const format of ["csv", "xlsx"])
      actions.append(TG.el("a", { class: "button export", id: "export-" + format, download: "", text: TG.t("export_" + format) }));
    actions.append(TG.el("a", { class: "button", id: "import-link", href: TG.url(list.app, list.entity, "import"), text: TG.t("import") }));
    const exportLinks = () => {
      for (const format of ["csv", "xlsx"]) {
        const u = new URL(TG.apiPath("apps", list.app, "records", list.entity, "export"), location.origin);
        u.searchParams.set("format", format);
        if (list.state.filter) u.searchParams.set("filter", list.state.filter);
        if (list.state.sort) u.searchParams.set("sort", list.state.sort);
        if (list.state.q) u.searchParams.set("q", list.state.q);
        u.searchParams.set("columns", currentColumns().join(","));
        document.getElementById("export-" + format).href = u.pathname + u.search;
      }
    };
    document.addEventListener("tg:list-rendered", exportLinks);
    // and at the click itself: a column chosen or moved since the last page is in the file too
    for (const format of ["csv", "xlsx"]) document.getElementById("export-" + format).addEventListener("click", exportLinks);
    exportLinks();
  }

  (TG.listHooks ||= []).push(async (l) => {
    list = l;
    buildBar();
    buildTransfer();
    if (!(await reloadViews())) { renderBar(); renderColumns(); return; }
    const params = new URLSearchParams(location.search);
    const wanted = params.get("view");
    const fromUrl = ["q", "filter", "sort"].some(k => params.get(k));
    const view = views.find(v => String(v.id) === wanted) || (!wanted && !fromUrl ? views.find(v => v.id === defaultId) : null);
    if (view) apply(view, false);
    else { renderBar(); renderColumns(); }
  });
})();
