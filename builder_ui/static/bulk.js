/* Bulk actions on a list: a checkbox per row and one to select the whole page, then change one
   field, transfer the owner or delete the rows picked, through the kernel's bulk API (one write
   unit, all or nothing). A refusal lists every reason, by record, and changes nothing. */
"use strict";
(function () {
  /* Fields a bulk change can set: every one a form edits, files and sub-tables aside (a file or
     a child row belongs to one record). */
  const NOT_BULK = new Set(["formula", "rollup", "auto_number", "created_at", "updated_at", "created_by", "updated_by",
    "sub_table", "attachment", "image", "signature"]);
  let list, items = [], total = 0, people = null;
  // Every record the filter and the search text match, across pages (the bulk API takes both).
  let allMatching = false;
  const selected = new Set();
  // The entity's form, whose widgets pick the new value (a lookup, a person, a department, an
  // address, several options...) as the edit page does; and the widget showing now.
  let form = null, meta = null, widget = null;

  const recordsPath = (...more) => TG.apiPath("apps", list.app, "records", list.entity, ...more);
  const editable = () => (form ? Object.values(form.fields).filter(f => !f.readonly && !NOT_BULK.has(f.type)) : []);

  async function valueInput(name) {
    const renderer = new TG.FormRenderer(document.createElement("div"), form, { app: list.app, meta });
    widget = await renderer.widget(form.fields[name], "bulk-value");
    widget.set(null);
    return TG.el("span", { id: "bulk-value-box", class: "bulk-value" }, widget.node);
  }

  function showRefusal(error) {
    const box = document.getElementById("bulk-error");
    const titles = Object.fromEntries(items.map(r => [r.id, TG.display(list.er.byName[list.er.title], r[list.er.title], r._titles) || "#" + r.id]));
    const lines = (error.problems || []).map(p => {
      const id = (p.pointer || "").match(/^\/records\/(\d+)/);
      return TG.el("li", {}, id ? TG.el("strong", { text: TG.t("colon", { text: titles[id[1]] || "#" + id[1] }) }) : "", p.message);
    });
    box.replaceChildren(TG.el("div", { text: TG.t("bulk_refused") + " " + (error.message || "") }), TG.el("ul", {}, lines));
    box.hidden = false;
  }

  async function run(method, path, body) {
    document.getElementById("bulk-error").hidden = true;
    const picked = allMatching ? { filter: list.state.filter || "", ...(list.state.q ? { q: list.state.q } : {}) } : { ids: [...selected] };
    const r = await TG.api(method, path, { ...picked, ...body });
    if (!r.ok) { showRefusal(r.error || {}); return; }
    selected.clear(); allMatching = false;
    TG.flash(TG.t("bulk_done", { n: r.data.count }), true);
    await list.load();
  }

  async function ownerOptions() {
    if (people === null) {
      const r = await TG.api("GET", "/api/directory/users", undefined, { active: "true" });
      people = r.ok ? r.data : [];
    }
    return people.map(p => TG.el("option", { value: p.id }, p.name));
  }

  async function buildBar() {
    const [described, known] = await Promise.all([
      TG.api("GET", TG.apiPath("apps", list.app, "forms", list.entity, "default")), TG.appMeta(list.app).catch(() => null)]);
    form = described.ok ? described.data : null; meta = known;
    const fieldSelect = TG.el("select", { id: "bulk-field", "aria-label": TG.t("bulk_field"), onchange: async () => {
      document.getElementById("bulk-value-box").replaceWith(await valueInput(fieldSelect.value));
    } }, editable().map(f => TG.el("option", { value: f.name }, f.label)));
    const owner = TG.el("select", { id: "bulk-owner", "aria-label": TG.t("bulk_new_owner") });
    const bar = TG.el("div", { id: "bulk-bar", class: "bulk-bar toolbar", hidden: true, role: "region", "aria-label": TG.t("bulk_edit") },
      TG.el("strong", { id: "bulk-count" }),
      TG.el("button", { type: "button", class: "link", text: TG.t("clear_selection"), onclick: () => { selected.clear(); allMatching = false; sync(); } }),
      TG.el("button", { type: "button", class: "link", id: "select-matching", hidden: true, onclick: () => { allMatching = true; sync(); } }),
      TG.el("span", { class: "group" }, fieldSelect,
        editable().length ? await valueInput(editable()[0].name) : TG.el("span", { id: "bulk-value-box", hidden: true }),
        TG.el("button", { type: "button", id: "bulk-apply", text: TG.t("bulk_edit"), disabled: !editable().length,
          onclick: () => run("PATCH", recordsPath(), { values: { [fieldSelect.value]: widget.get() } }) })),
      TG.el("span", { class: "group" }, owner,
        TG.el("button", { type: "button", id: "bulk-transfer", text: TG.t("bulk_transfer"),
          onclick: () => run("POST", recordsPath("transfer"), { owner: Number(owner.value) }) })),
      TG.el("button", { type: "button", id: "bulk-delete", class: "danger", text: TG.t("bulk_delete"), onclick: () => {
        if (confirm(TG.t("bulk_delete_confirm", { n: count() }))) run("POST", recordsPath("bulk-delete"), {});
      } }),
      TG.el("div", { id: "bulk-error", class: "error", role: "alert", hidden: true }));
    document.querySelector(".table-wrap").before(bar);
  }

  /* Checkboxes, the select-all box and the bar follow the selection. */
  function sync() {
    const boxes = [...document.querySelectorAll("#records tbody input.row-select")];
    for (const b of boxes) b.checked = selected.has(Number(b.dataset.id));
    const all = document.getElementById("select-all");
    if (all) {
      all.checked = boxes.length > 0 && boxes.every(b => b.checked);
      all.indeterminate = !all.checked && boxes.some(b => b.checked);
    }
    const pageAll = boxes.length > 0 && boxes.every(b => b.checked);
    if (!pageAll) allMatching = false;
    const more = document.getElementById("select-matching");
    more.hidden = allMatching || !pageAll || total <= items.length;
    more.textContent = TG.t("select_matching", { n: total });
    document.getElementById("bulk-count").textContent = TG.t("selected", { n: count() });
    document.getElementById("bulk-bar").hidden = selected.size === 0;
    const owner = document.getElementById("bulk-owner");
    if (selected.size && !owner.options.length) ownerOptions().then(opts => owner.replaceChildren(...opts)); // once, when first needed
  }

  const count = () => (allMatching ? total : selected.size);

  function addCheckboxes(ev) {
    items = ev.detail.items; total = ev.detail.total; allMatching = false;
    for (const id of [...selected]) if (!items.some(r => r.id === id)) selected.delete(id);
    // Inside the first cell (the title), so a row's first cell still reads as its title and a
    // phone's card shows the box beside it.
    const head = document.querySelector("#records thead th");
    if (head) head.prepend(TG.el("input", { type: "checkbox", id: "select-all", class: "select",
      "aria-label": TG.t("select_all"), onchange: (e) => { for (const r of items) e.target.checked ? selected.add(r.id) : selected.delete(r.id); sync(); } }));
    for (const tr of document.querySelectorAll("#records tbody tr[data-id]")) {
      const id = Number(tr.dataset.id);
      tr.firstElementChild.prepend(TG.el("input", { type: "checkbox", class: "row-select select", dataset: { id },
        "aria-label": TG.t("select_row"), onchange: (e) => { e.target.checked ? selected.add(id) : selected.delete(id); sync(); } }));
    }
    sync();
  }

  (TG.listHooks ||= []).push(async (l) => {
    list = l;
    await buildBar();
    document.addEventListener("tg:list-rendered", addCheckboxes);
  });
})();
