/* Kanban by a select field: one column per option, cards dragged between columns (SortableJS).
   A drop is an update through the record API; a refused one snaps back and says why. Column
   heads show the count and the sum of the entity's first money (else number) field. */
"use strict";
(function () {
  const { app, entity, field } = TG.page;
  const LIMIT = 500;
  let er, amountField, records = {};

  function head(column) {
    const cards = [...column.querySelectorAll(".kcard")];
    const sum = amountField ? cards.reduce((n, c) => n + Number(records[c.dataset.id][amountField.name] || 0), 0) : null;
    column.querySelector(".count").textContent = String(cards.length);
    if (amountField) column.querySelector(".sum").textContent = TG.label(amountField.label) + " " + (amountField.type === "currency" ? TG.money(sum) : sum);
  }

  function card(rec) {
    return TG.el("div", { class: "kcard", dataset: { id: rec.id }, tabindex: 0 },
      TG.el("a", { href: TG.url(app, entity, rec.id), text: rec[er.title] ?? "#" + rec.id }),
      amountField && rec[amountField.name] != null ? TG.el("div", { class: "amount", text: TG.display(amountField, rec[amountField.name]) }) : "");
  }

  async function moved(ev) {
    const el = ev.item, to = ev.to.closest(".column"), from = ev.from.closest(".column");
    if (to === from) return;
    const rec = records[el.dataset.id];
    const value = to.dataset.value || null;
    el.classList.remove("refused"); TG.flash("");
    head(to); head(from);
    const r = await TG.api("PATCH", TG.apiPath("apps", app, "records", entity, String(rec.id)), { [field]: value, version: rec.version });
    if (r.ok) { records[rec.id] = { ...rec, ...r.data }; return; }
    // snap back to where it was, and say why
    const list = ev.from;
    list.insertBefore(el, list.children[ev.oldIndex] || null);
    head(to); head(from);
    el.classList.add("refused");
    TG.flash(TG.t("move_refused", { reason: TG.errorText(r.error) }));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    TG.renderNav(app, entity);
    let meta;
    try { meta = await TG.appMeta(app); } catch (e) { TG.flash(TG.errorText(e)); return; }
    er = meta.byName[entity];
    const f = er && er.byName[field];
    if (!f || f.type !== "select") { TG.flash(TG.t("not_found")); return; }
    amountField = er.fields.find(x => x.type === "currency") || er.fields.find(x => x.type === "number") || null;
    document.getElementById("title").textContent = TG.label(er.label) + " · " + TG.t("kanban_by", { field: TG.label(f.label) });
    document.getElementById("actions").append(TG.el("a", { class: "button", href: TG.url(app, entity), text: TG.t("list") }));
    const r = await TG.api("GET", TG.apiPath("apps", app, "records", entity), undefined, { limit: LIMIT, sort: "-updated_at" });
    if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
    const options = [...f.options.map(o => ({ value: o.value, label: TG.label(o.label) })), { value: "", label: TG.t("blank") }];
    const board = document.getElementById("board");
    for (const o of options) {
      const list = TG.el("div", { class: "cards-list" });
      board.append(TG.el("section", { class: "column", dataset: { value: o.value }, "aria-label": o.label },
        TG.el("div", { class: "column-head" }, TG.el("span", {}, o.label, " ", TG.el("span", { class: "tag count" })), TG.el("span", { class: "sum" })), list));
    }
    for (const rec of r.data.items) {
      records[rec.id] = rec;
      const col = board.querySelector(`.column[data-value="${CSS.escape(rec[field] ?? "")}"]`);
      if (col) col.querySelector(".cards-list").append(card(rec));
    }
    for (const col of board.querySelectorAll(".column")) {
      head(col);
      new Sortable(col.querySelector(".cards-list"), { group: "board", animation: 0, onEnd: moved });
    }
  });
})();
