/* Tangram browser app: the page shell (header, navigation, language, sign-in) and the helpers
   every page script uses. Everything a page shows comes from the kernel's HTTP API. */
"use strict";
const TG = JSON.parse(document.getElementById("tg-boot").textContent);
const CSRF_COOKIE = "tg_csrf"; // set by POST /api/auth/session, sent back as X-CSRF-Token

TG.t = function (key, params) {
  let text = TG.messages[key] ?? key;
  for (const [k, v] of Object.entries(params || {})) text = text.replaceAll("{" + k + "}", v);
  return text;
};
TG.label = (l) => (l == null ? "" : typeof l === "string" ? l : l[TG.locale] ?? l.en ?? l.zh ?? "");
TG.url = (...parts) => TG.prefix + "/" + parts.map(encodeURIComponent).join("/");
TG.apiPath = (...parts) => "/api/" + parts.map(encodeURIComponent).join("/");

TG.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
};

function csrfToken() {
  const m = document.cookie.match(new RegExp("(?:^|; )" + CSRF_COOKIE + "=([^;]*)"));
  return m ? decodeURIComponent(m[1]) : "";
}

/* One call to the kernel's API: JSON in and out, the session cookie, the CSRF header on changes,
   answers in the user's language. Resolves {ok, status, data, error, headers}; extra: more
   request headers (If-Match). */
TG.api = async function (method, path, body, params, extra) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const headers = { "Accept": "application/json", "Accept-Language": TG.locale };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  Object.assign(headers, extra || {});
  const resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  if (resp.status === 401 && TG.user) { location.href = TG.prefix + "/login?next=" + encodeURIComponent(location.pathname + location.search); }
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  return { ok: resp.ok, status: resp.status, data, error: data && data.error ? data.error : null, headers: resp.headers };
};

TG.flash = function (text, ok) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = text || "";
  box.classList.toggle("ok", !!ok);
  box.hidden = !text;
};
TG.errorText = (error) => (error ? [error.message, ...(error.problems || []).filter(p => p.message !== error.message).map(p => p.message)].join("；") : TG.t("error"));

/* The app's package as the caller may read it (GET /api/apps/{app}), once per page. */
const metaCache = {};
TG.appMeta = function (app) {
  if (!metaCache[app]) metaCache[app] = TG.api("GET", TG.apiPath("apps", app)).then(r => {
    if (!r.ok) throw r.error;
    const meta = r.data;
    meta.byName = {};
    for (const e of meta.entities || []) {
      e.byName = Object.fromEntries(e.fields.map(f => [f.name, f]));
      e.title = e.title_field || (e.fields.find(f => f.type === "text") || {}).name || "id";
      meta.byName[e.name] = e;
    }
    // An entity saved inside its parent (a sub-table's rows) has no menu item of its own.
    meta.children = new Set();
    for (const e of meta.entities || []) for (const f of e.fields) if (f.type === "sub_table" && f.entity) meta.children.add(f.entity);
    return meta;
  });
  return metaCache[app];
};

/* A rich-text value for reading: the kernel cleaned it when it was written; the same tags and
   attributes are kept here again, so nothing else reaches the page even from an old row. */
const RICH_TAGS = new Set(["a", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
  "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr",
  "u", "ul"]);
TG.richText = function (html) {
  const box = TG.el("div", { class: "rich-text" });
  const copy = (from, to) => {
    for (const n of from.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) { to.append(n.textContent); continue; }
      if (n.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = n.tagName.toLowerCase();
      if (!RICH_TAGS.has(tag)) { copy(n, to); continue; }
      const el = document.createElement(tag);
      const href = tag === "a" ? n.getAttribute("href") || "" : "";
      if (/^(https?:|mailto:|tel:)/i.test(href.trim())) { el.href = href; el.target = "_blank"; el.rel = "noopener"; }
      copy(n, el);
      to.append(el);
    }
  };
  copy(new DOMParser().parseFromString(html || "", "text/html").body, box);
  return box;
};

/* Whether a select field's options have colours: then its values read as tags. */
TG.colouredOptions = (f) => (f.type === "select" || f.type === "multi_select") && (f.options || []).some(o => o.color);
/* A value of such a field (one option or several) as tags: each label on a tint of its colour. */
TG.optionTags = (f, value) => (Array.isArray(value) ? value : [value]).map(v => {
  const o = f.options.find(x => x.value === v);
  return TG.el("span", { class: "option-tag", style: o && o.color ? `--choice:${o.color}` : null, text: o ? TG.label(o.label) : v });
});

const NUMERIC = new Set(["integer", "number", "currency", "percent", "rating", "rollup"]);
TG.isNumeric = (f) => NUMERIC.has(f.type) || (f.type === "formula" && ["number", "integer"].includes(f.result_type));

TG.money = function (value) {
  if (value == null || value === "") return "";
  const n = Number(value);
  if (Number.isNaN(n)) return String(value);
  return "¥" + n.toLocaleString(TG.locale === "zh" ? "zh-CN" : "en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
};

/* A field's value as text for reading: option labels in the user's language, titles of what ids
   point at (?expand=titles), money with ¥. Masked values arrive masked and are shown as they are. */
TG.display = function (field, value, titles) {
  if (field && titles && Object.prototype.hasOwnProperty.call(titles, field.name)) {
    const title = titles[field.name];
    return Array.isArray(title) ? title.join("、") : title ?? "";
  }
  if (value == null || value === "") return "";
  const type = field ? field.type : "text";
  if ((type === "select" || type === "multi_select") && field.options) {
    const label = (v) => { const o = field.options.find(o => o.value === v); return o ? TG.label(o.label) : v; };
    return Array.isArray(value) ? value.map(label).join("、") : label(value);
  }
  if (type === "boolean") return value ? TG.t("yes") : TG.t("no");
  if (type === "currency") return TG.money(value);
  if (type === "percent") return (Number(value) * 100).toFixed(field.scale ? Math.max(0, field.scale - 2) : 0) + "%";
  if (type === "datetime" || type === "created_at" || type === "updated_at") return new Date(value).toLocaleString(TG.locale === "zh" ? "zh-CN" : "en-GB");
  if (type === "address" || type === "region") { // as the kernel's display: 上海市浦东新区世纪大道100号
    const parts = [value.province, value.city, value.district];
    if (parts[0] && parts[0] === parts[1]) parts[1] = null;
    return parts.filter(Boolean).join("") + (value.detail || "");
  }
  if (type === "geolocation") return `${value.lat}, ${value.lng}`;
  if (Array.isArray(value)) return value.map(v => (typeof v === "object" ? v.name ?? JSON.stringify(v) : v)).join("、");
  if (typeof value === "object") return value.name ?? value.full ?? JSON.stringify(value);
  return String(value);
};

/* Navigation: the app's home, then one item per entity the caller may read. */
TG.renderNav = async function (app, current) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  nav.replaceChildren(TG.el("a", { href: TG.prefix + "/", text: TG.t("apps") }));
  if (TG.user && TG.user.is_admin) nav.append(TG.el("a", { href: TG.prefix + "/public-forms", text: TG.t("public_forms") }));
  if (!app) return;
  let meta;
  try { meta = await TG.appMeta(app); } catch (e) { TG.flash(TG.errorText(e)); return; }
  document.getElementById("app-name").textContent = TG.label(meta.label);
  document.title = TG.label(meta.label) + " · " + TG.t("brand");
  nav.append(TG.el("div", { class: "group", text: TG.label(meta.label) }));
  nav.append(TG.el("a", { href: TG.url(app), "aria-current": current === "" ? "page" : null }, TG.icon("home"), TG.t("home")));
  // the package's menus (groups, order, icons), else one item per entity: GET /ui/api/apps/{app}/menus
  const menus = await TG.api("GET", TG.prefix + "/api/apps/" + encodeURIComponent(app) + "/menus");
  const groups = menus.ok ? menus.data : [{ label: meta.label, items: meta.entities.filter(e => !meta.children.has(e.name)).map(e => ({ entity: e.name, label: e.label })) }];
  for (const g of groups) {
    if (groups.length > 1 || g.name !== "main") nav.append(TG.el("div", { class: "group sub" }, g.icon ? TG.icon(g.icon) : "", TG.label(g.label)));
    for (const item of g.items) {
      const href = item.entity ? TG.url(app, item.entity) : TG.url(app, "dashboards", item.dashboard);
      const here = item.entity ? current === item.entity : current === "dashboard:" + item.dashboard;
      nav.append(TG.el("a", { href, "aria-current": here ? "page" : null, dataset: { entity: item.entity || "" } }, item.icon ? TG.icon(item.icon) : "", TG.label(item.label)));
    }
  }
};

/* Menu icons: a small inline SVG per name the package schema allows (builder_ui/menus.py ICONS). */
const ICON_PATHS = {
  home: "M3 11l9-8 9 8v10h-6v-6H9v6H3z", users: "M8 11a4 4 0 1 1 0-8 4 4 0 0 1 0 8zm8 0a3 3 0 1 1 0-6 3 3 0 0 1 0 6zM1 21c0-4 3-7 7-7s7 3 7 7zm15 0c0-3-1-5-3-6 4-1 9 1 9 6z",
  building: "M4 21V3h10v18zm10 0V9h6v12zM7 6h2v2H7zm0 4h2v2H7zm0 4h2v2H7z", briefcase: "M3 7h18v13H3zm6-3h6v3H9z",
  chart: "M4 20V10h4v10zm6 0V4h4v16zm6 0v-7h4v7z", inbox: "M3 13l3-9h12l3 9v7H3zm2 0h4l1 2h4l1-2h4",
  file: "M6 2h9l5 5v15H6zm8 0v6h6", star: "M12 2l3 7h7l-6 4 2 8-6-5-6 5 2-8-6-4h7z",
  phone: "M6 2h4l2 5-3 2a11 11 0 0 0 6 6l2-3 5 2v4a2 2 0 0 1-2 2A18 18 0 0 1 4 4a2 2 0 0 1 2-2z",
  cart: "M3 3h3l3 12h10l2-8H7M9 19a2 2 0 1 0 0 .1M18 19a2 2 0 1 0 0 .1", list: "M4 5h16v2H4zm0 6h16v2H4zm0 6h16v2H4z",
};
TG.icon = function (name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("class", "icon"); svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICON_PATHS[name] || ICON_PATHS.list);
  svg.append(path);
  return svg;
};

/* The header's count of unread notifications (when the flow engine's notification centre is
   installed); pages that change it call it again. */
TG.refreshUnread = async function () {
  const badge = document.getElementById("unread-count");
  if (!badge || !TG.user || !(TG.features || {}).notifications) return;
  const r = await TG.api("GET", "/api/notifications", undefined, { limit: 1 });
  if (!r.ok) return;
  const n = r.data.unread;
  badge.textContent = n > 99 ? "99+" : String(n);
  badge.hidden = !n;
  badge.setAttribute("aria-label", TG.t("unread_count", { n }));
};

function initShell() {
  for (const b of document.querySelectorAll(".lang button")) {
    b.addEventListener("click", async () => {
      const lang = b.dataset.lang;
      if (TG.user) {
        const r = await TG.api("PUT", TG.prefix + "/preferences", { locale: lang });
        if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
        location.reload();
      } else {
        const u = new URL(location.href); u.searchParams.set("lang", lang); location.href = u;
      }
    });
  }
  const out = document.getElementById("sign-out");
  if (out) out.addEventListener("click", async () => {
    await TG.api("POST", "/api/auth/logout");
    location.href = TG.prefix + "/login";
  });
  const toggle = document.querySelector(".nav-toggle");
  if (toggle) toggle.addEventListener("click", () => {
    const open = document.getElementById("nav").classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
}

async function loginPage() {
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const r = await TG.api("POST", "/api/auth/session", { username: form.username.value, password: form.password.value });
    if (!r.ok) { error.textContent = TG.errorText(r.error); error.hidden = false; return; }
    const lang = new URLSearchParams(location.search).get("lang");
    if (lang) await TG.api("PUT", TG.prefix + "/preferences", { locale: lang }); // chosen before signing in
    const next = new URLSearchParams(location.search).get("next");
    location.href = next && next.startsWith(TG.prefix + "/") ? next : TG.prefix + "/";
  });
}

async function appsPage() {
  TG.renderNav(null);
  const box = document.getElementById("apps");
  const r = await TG.api("GET", "/api/apps");
  if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
  box.replaceChildren(...r.data.map(a => TG.el("a", { class: "card app-card", href: TG.url(a.name) },
    TG.el("h2", { text: TG.label(a.label) }), TG.el("div", { class: "muted", text: TG.t("entities_count", { n: a.entities.length }) }))));
  if (!r.data.length) box.append(TG.el("p", { class: "muted", text: TG.t("no_apps") }));
  if (!TG.user.is_admin) return;
  const tr = await TG.api("GET", TG.prefix + "/templates");
  if (!tr.ok || !tr.data.length) return;
  const installed = new Set(r.data.map(a => a.name));
  document.getElementById("templates-section").hidden = false;
  document.getElementById("templates").replaceChildren(...tr.data.map(tpl => {
    const button = TG.el("button", { type: "button", class: "primary", text: TG.t("install"), disabled: installed.has(tpl.name) });
    button.addEventListener("click", async () => {
      button.disabled = true; button.textContent = TG.t("installing");
      const pkg = await TG.api("GET", TG.url("templates", tpl.name));
      const done = pkg.ok ? await TG.api("POST", "/api/apps", pkg.data) : pkg;
      if (!done.ok) { TG.flash(TG.errorText(done.error)); button.disabled = false; button.textContent = TG.t("install"); return; }
      location.href = TG.url(done.data.name);
    });
    return TG.el("div", { class: "card" }, TG.el("h2", { text: TG.label(tpl.label) }),
      TG.el("p", { class: "muted", text: TG.label(tpl.description) }), button);
  }));
}

async function accountPage() {
  TG.renderNav(null);
  const r = await TG.api("GET", "/api/auth/me");
  if (!r.ok) { TG.flash(TG.errorText(r.error)); return; }
  const me = r.data;
  const row = (k, v) => TG.el("div", {}, TG.el("dt", { text: k }), TG.el("dd", { text: v }));
  const roles = Object.entries(me.roles || {}).map(([app, rs]) => app + ": " + rs.join(", ")).join("；");
  document.getElementById("me").replaceChildren(
    row(TG.t("username"), me.username), row(TG.t("display_name"), me.display_name || ""),
    row(TG.t("roles"), (me.is_admin ? TG.t("administrator") + " " : "") + roles));
  const form = document.getElementById("password-form");
  const error = document.getElementById("password-error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const p = await TG.api("POST", "/api/auth/password", { current_password: form.current_password.value, new_password: form.new_password.value });
    if (!p.ok) { error.textContent = TG.errorText(p.error); error.hidden = false; return; }
    location.href = TG.prefix + "/login";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  initShell();
  TG.refreshUnread();
  const kind = TG.page.kind;
  if (kind === "login") loginPage();
  else if (kind === "apps") appsPage();
  else if (kind === "account") accountPage();
});
