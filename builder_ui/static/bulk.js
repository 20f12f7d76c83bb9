/* Bulk actions on a list: a checkbox per row and one to select the whole page, then change one
   field, transfer the owner or delete the rows picked, through the kernel's bulk API (one write
   unit, all or nothing). A refusal lists every reason, by record, and changes nothing. */
"use strict";
(function () {
  const EDITABLE = new Set(["text", "long_text", "phone", "email", "url", "integer", "number", "currency",
    "percent", "rating", "date", "datetime", "select", "boolean"]);
  let list, items = [], total = 0, people = null;
  // Every record the filter matches, across pages (the bulk API takes the filter itself); not
  // offered with a search text, which the bulk API cannot take.
  let allMatching = false;
  const selected = new Set();

  const recordsPath = (...more) => TG.apiPath("apps", list.app, "records", list.entity, ...more);
  const editable = () => list.er.fields.filter(f => EDITABLE.has(f.type) && !f.readonly);

  function valueInput(f) {
    if (f.type === "select") return TG.el("select", { id: "bulk-value", "aria-label": TG.label(f.label) },
      TG.el("option", { value: "" }, TG.t("blank")), f.options.map(o => TG.el("option", { value: o.value }, TG.label(o.label))));
    if (f.type === "boolean") return TG.el("select", { id: "bulk-value", "aria-label": TG.label(f.label) },
      TG.el("option", { value: "true" }, TG.t("yes")), TG.el("option", { value: "false" }, TG.t("no")));
    const type = TG.isNumeric(f) ? "number" : f.type === "date" ? "date" : f.type === "datetime" ? "datetime-local" : "text";
    return TG.el("input", { id: "bulk-value", type, step: type === "number" ? "any" : null, "aria-label": TG.label(f.label) });
  }

  function valueOf(f) {
    const raw = document.getElementById("bulk-value").value;
    if (f.type === "boolean") return raw === "true";
    if (raw === "") return null;
    if (f.type === "datetime") return new Date(raw).toISOString();
    return raw;
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
    const picked = allMatching ? { filter: list.state.filter || "" } : { ids: [...selected] };
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

  function buildBar() {
    const fieldSelect = TG.el("select", { id: "bulk-field", "aria-label": TG.t("bulk_field"), onchange: () => {
      document.getElementById("bulk-value").replaceWith(valueInput(list.er.byName[fieldSelect.value]));
    } }, editable().map(f => TG.el("option", { value: f.name }, TG.label(f.label))));
    const owner = TG.el("select", { id: "bulk-owner", "aria-label": TG.t("bulk_new_owner") });
    const bar = TG.el("div", { id: "bulk-bar", class: "bulk-bar toolbar", hidden: true, role: "region", "aria-label": TG.t("bulk_edit") },
      TG.el("strong", { id: "bulk-count" }),
      TG.el("button", { type: "button", class: "link", text: TG.t("clear_selection"), onclick: () => { selected.clear(); allMatching = false; sync(); } }),
      TG.el("button", { type: "button", class: "link", id: "select-matching", hidden: true, onclick: () => { allMatching = true; sync(); } }),
      TG.el("span", { class: "group" }, fieldSelect, editable().length ? valueInput(editable()[0]) : TG.el("input", { id: "bulk-value", hidden: true }),
        TG.el("button", { type: "button", id: "bulk-apply", text: TG.t("bulk_edit"), disabled: !editable().length,
          onclick: () => { const f = list.er.byName[fieldSelect.value]; run("PATCH", recordsPath(), { values: { [f.name]: valueOf(f) } }); } })),
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
    more.hidden = allMatching || !pageAll || total <= items.length || !!list.state.q;
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

  (TG.listHooks ||= []).push((l) => {
    list = l;
    buildBar();
    document.addEventListener("tg:list-rendered", addCheckboxes);
  });
})();
