/* The app's home for a role without a dashboard (or without the report engine): my open tasks
   (when the flow engine is installed) and the latest records of the menu's entities. */
"use strict";
TG.renderHome = async function (app) {
  const home = document.getElementById("home");
  const meta = await TG.appMeta(app);
  const cards = [];
  if ((TG.features || {}).tasks) {
    const r = await TG.api("GET", "/api/tasks", undefined, { app });
    const mine = r.ok ? r.data.filter(t => t.kind !== "cc") : [];
    cards.push(TG.el("section", { class: "card", id: "home-tasks" },
      TG.el("h2", {}, TG.el("a", { href: TG.prefix + "/inbox", text: TG.t("my_tasks") }), " ", TG.el("span", { class: "badge", text: String(mine.length) })),
      mine.length ? TG.el("ul", { class: "inbox-list" }, mine.slice(0, 5).map(t => TG.el("li", {},
        TG.el("a", { href: TG.url(t.app, t.entity, t.record_id), text: (meta.byName[t.entity] ? TG.label(meta.byName[t.entity].label) : t.entity) + " #" + t.record_id }))))
        : TG.el("p", { class: "muted", text: TG.t("no_tasks") })));
  }
  const entities = meta.entities.filter(e => !meta.children.has(e.name)).slice(0, 4);
  for (const e of entities) {
    const r = await TG.api("GET", TG.apiPath("apps", app, "records", e.name), undefined, { limit: 5, sort: "-updated_at" });
    if (!r.ok) continue;
    cards.push(TG.el("section", { class: "card", dataset: { entity: e.name } },
      TG.el("h2", {}, TG.el("a", { href: TG.url(app, e.name), text: TG.label(e.label) }), " · ", TG.t("recent")),
      r.data.items.length ? TG.el("ul", { class: "inbox-list" }, r.data.items.map(x => TG.el("li", {},
        TG.el("a", { href: TG.url(app, e.name, x.id), text: x[e.title] ?? "#" + x.id }))))
        : TG.el("p", { class: "muted", text: TG.t("no_records") })));
  }
  home.replaceChildren(TG.el("h1", { text: TG.t("my_home") }), TG.el("div", { class: "cards" }, cards));
};
