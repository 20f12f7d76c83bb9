/* Dashboards (the report engine's API) drawn with ECharts: the app's home shows the role's
   default dashboard, else goes to the app's first list. */
"use strict";
(function () {
  const { app } = TG.page;

  function kpi(result) {
    const measure = result.columns.find(c => c.role === "measure");
    const v = measure ? (result.rows[0] || {})[measure.name] : null;
    return TG.el("div", { class: "kpi", text: measure && measure.type === "currency" ? TG.money(v) : v ?? "" });
  }

  function chart(result) {
    const node = TG.el("div", { class: "chart" });
    const hint = result.chart || {};
    const xName = hint.x || (result.columns.find(c => c.role === "dimension") || {}).name;
    const rows = (result.rows || []).filter(r => !r._type || r._type === "group");
    const ys = (hint.y || result.columns.filter(c => c.role === "measure").map(c => c.name));
    const labelOf = (n) => (result.columns.find(c => c.name === n) || {}).label || n;
    const cats = rows.map(r => r[xName + "@label"] ?? r[xName] ?? TG.t("blank"));
    const type = hint.type === "line" || hint.type === "area" ? "line" : hint.type === "pie" ? "pie" : "bar";
    const option = type === "pie"
      ? { animation: false, tooltip: {}, series: [{ type: "pie", data: rows.map((r, i) => ({ name: cats[i], value: Number(r[ys[0]]) })) }] }
      : { animation: false, tooltip: { trigger: "axis" }, legend: { data: ys.map(labelOf) }, grid: { left: 48, right: 16, bottom: 32, top: 32 },
          xAxis: { type: "category", data: cats }, yAxis: ys.map((_, i) => ({ type: "value", show: i < 2 })),
          series: ys.map((y, i) => ({ name: labelOf(y), type, yAxisIndex: Math.min(i, 1), areaStyle: hint.type === "area" ? {} : undefined, data: rows.map(r => Number(r[y] || 0)) })) };
    requestAnimationFrame(() => {
      const c = echarts.init(node);
      c.setOption(option);
      node.dataset.ready = "true";
      window.addEventListener("resize", () => c.resize());
    });
    return node;
  }

  async function show(name) {
    const r = await TG.api("GET", TG.apiPath("apps", app, "dashboards", name));
    const home = document.getElementById("home");
    if (!r.ok) { home.replaceChildren(TG.el("p", { class: "error", text: TG.errorText(r.error) })); return; }
    const d = r.data;
    const grid = TG.el("div", { class: "dash" });
    for (const item of d.items) {
      const cell = TG.el("section", { class: "cell", dataset: { report: item.report }, style: `grid-column: span ${item.w || 6}` });
      if (item.error) cell.append(TG.el("h2", { text: item.report }), TG.el("p", { class: "error", text: TG.errorText(item.error) }));
      else {
        cell.append(TG.el("h2", { text: item.result.label }));
        cell.append(item.result.shape === "kpi" || (item.result.chart || {}).type === "kpi_card" ? kpi(item.result) : chart(item.result));
      }
      grid.append(cell);
    }
    home.replaceChildren(TG.el("h1", { text: d.label }), grid);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    TG.renderNav(app, TG.page.kind === "app_home" ? "" : null);
    if (TG.page.dashboard) { show(TG.page.dashboard); return; }
    const r = (TG.features || {}).dashboards ? await TG.api("GET", TG.apiPath("apps", app, "dashboards")) : { ok: false };
    if (r.ok && r.data.default) { show(r.data.default); return; }
    // no dashboard for this role (or no report engine): my tasks and recent records (home.js)
    try { await TG.renderHome(app); } catch (e) { TG.flash(TG.errorText(e)); }
  });
})();
