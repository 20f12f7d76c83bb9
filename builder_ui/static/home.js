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
      mine.length ? TG.el("ul", { class: "inbox-list" }, await Promise.all(mine.slice(0, 5).map(async t => {
        // the record as submitted (an approver may not read the record itself)
        const inst = await TG.api("GET", TG.apiPath("flow-instances", String(t.instance_id)));
        const er = meta.byName[t.entity];
        const title = (inst.ok && er && (inst.data.snapshot || {})[er.title]) || "#" + t.record_id;
        return TG.el("li", {}, er ? TG.label(er.label) + " · " : "", TG.el("a", { href: TG.url(t.app, t.entity, t.record_id), text: title }));
      }))) : TG.el("p", { class: "muted", text: TG.t("no_tasks") })));
  }
  // in the menu's order (GET /ui/api/apps/{app}/menus), the first four entities
  const menus = await TG.api("GET", TG.prefix + "/api/apps/" + encodeURIComponent(app) + "/menus");
  const named = menus.ok ? menus.data.flatMap(g => g.items).filter(i => i.entity).map(i => meta.byName[i.entity]).filter(Boolean) : [];
  const entities = (named.length ? named : meta.entities.filter(e => !meta.children.has(e.name))).slice(0, 4);
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
