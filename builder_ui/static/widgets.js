/* Form widgets for the field types a plain <input> does not serve: type-ahead pickers (lookup,
   user, department, many-to-many), 省/市/区 cascading selects (address, region), money with ¥ and
   grouping, percent in points, rating stars, choices with their colours, colour, geolocation,
   JSON, files with upload progress and image previews, and a signature pad.

   TG.FormRenderer asks TG.widgets[type](field, id, renderer) first. Each returns the renderer's
   widget shape {node, input?, set(v), get(), same?(v), draftable?}: `same` says whether a value
   equals the stored one (so an edit sends only what changed), `draftable` keeps the widget in the
   drafts sent to the form-state API. The pickers are our own ARIA 1.2 combobox (see README). */
"use strict";
(function () {
  const W = {};
  const once = {};
  const cached = (key, load) => (once[key] = once[key] || load());
  const fire = (node) => node.dispatchEvent(new Event("change", { bubbles: true }));
  const numEq = (a, b) => (a == null || a === "" ? null : Number(a)) === (b == null || b === "" ? null : Number(b));

  /* -- type-ahead combobox ---------------------------------------------------------------- */

  /* search(text) resolves [[value, label, hint?]]; titleOf(value) resolves a label (for a value
     set before any search). multiple: chips of the picked values, the input adds more. */
  function combobox(id, { search, titleOf, multiple, placeholder }) {
    const listId = id + "-list";
    const input = TG.el("input", { id, type: "text", role: "combobox", autocomplete: "off", "aria-autocomplete": "list",
      "aria-expanded": "false", "aria-controls": listId, placeholder: placeholder || TG.t("type_to_search") });
    const list = TG.el("ul", { id: listId, role: "listbox", class: "combo-list", hidden: true });
    const chips = TG.el("span", { class: "chips" });
    const clear = TG.el("button", { type: "button", class: "link combo-clear", "aria-label": TG.t("clear"), text: "✕", hidden: true });
    const node = TG.el("div", { class: "combo" + (multiple ? " multi" : "") }, chips, TG.el("div", { class: "combo-box" }, input, clear), list);
    let picked = [];            // [[value, label]]
    let items = []; let active = -1; let timer = null; let asked = 0;

    const label = () => (!multiple && picked.length ? picked[0][1] : "");
    // closing also drops a search still waiting for its debounce or answer (it would reopen the list)
    const close = () => { clearTimeout(timer); asked++; list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; };
    const paint = () => {
      chips.replaceChildren(...(multiple ? picked.map(([v, l]) => TG.el("span", { class: "chip" }, l,
        TG.el("button", { type: "button", class: "link", "aria-label": TG.t("remove_item", { name: l }), text: "✕",
          onclick: () => { picked = picked.filter(p => p[0] !== v); paint(); fire(input); } }))) : []));
      if (!multiple) input.value = label();
      clear.hidden = multiple || !picked.length;
    };
    const choose = (i) => {
      const [v, l] = items[i];
      if (multiple) { if (!picked.some(p => p[0] === v)) picked.push([v, l]); input.value = ""; }
      else picked = [[v, l]];
      close(); paint(); fire(input);
    };
    const highlight = (i) => {
      active = i;
      [...list.children].forEach((li, k) => li.setAttribute("aria-selected", k === i ? "true" : "false"));
      if (i >= 0 && list.children[i]) { input.setAttribute("aria-activedescendant", list.children[i].id); list.children[i].scrollIntoView({ block: "nearest" }); }
    };
    const show = async (text) => {
      const ticket = ++asked;
      const found = await search(text);
      if (ticket !== asked || document.activeElement !== input) return; // a later keystroke won
      items = found.filter(([v]) => !multiple || !picked.some(p => p[0] === v));
      list.replaceChildren(...(items.length ? items.map(([v, l, hint], i) => TG.el("li", { id: `${listId}-${i}`, role: "option", "aria-selected": "false",
        dataset: { value: v }, onmousedown: (e) => { e.preventDefault(); choose(i); } }, l, hint ? TG.el("span", { class: "muted", text: " " + hint }) : ""))
        : [TG.el("li", { class: "muted", role: "presentation", text: TG.t("no_matches") })]));
      list.hidden = false; input.setAttribute("aria-expanded", "true"); highlight(items.length ? 0 : -1);
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => show(input.value.trim()), 250); });
    input.addEventListener("focus", () => { if (list.hidden) show(multiple ? "" : ""); });
    input.addEventListener("change", (e) => { if (e.isTrusted) e.stopPropagation(); }); // typing alone picks nothing
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { show(input.value.trim()); return; }
        if (items.length) highlight((active + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length);
      } else if (e.key === "Enter" && !list.hidden) {
        e.preventDefault(); if (active >= 0) choose(active);
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault(); e.stopPropagation(); close(); paint();
      } else if (e.key === "Backspace" && multiple && !input.value && picked.length) {
        picked.pop(); paint(); fire(input);
      }
    });
    input.addEventListener("blur", () => {
      close();
      if (multiple) { input.value = ""; return; } // repainting the chips now would eat a click on one
      if (!input.value.trim() && picked.length) { picked = []; fire(input); }
      paint();
    });
    clear.addEventListener("click", () => { picked = []; paint(); fire(input); input.focus(); });
    const set = async (v) => {
      const values = v == null ? [] : multiple ? v : [v];
      picked = values.map(x => [x, "#" + x]); paint();
      const labels = await Promise.all(values.map(x => titleOf(x)));
      picked = values.map((x, i) => [x, labels[i] ?? "#" + x]); paint();
    };
    return { node, input, draftable: true, set,
      get: () => (multiple ? picked.map(p => p[0]) : picked.length ? picked[0][0] : null) };
  }

  const titleFrom = (renderer, f) => (value) => {
    const titles = (renderer.original || {})._titles || {};
    const t = titles[f.name];
    if (t == null) return null;
    if (!Array.isArray(t)) return t;
    const ids = renderer.original[f.name] || [];
    return t[ids.indexOf(value)] ?? null;
  };

  function recordSearch(renderer, f) {
    const meta = renderer.opts.meta; const target = meta && meta.byName[f.settings.entity];
    const title = target ? target.title : "id";
    return async (text) => {
      const r = await TG.api("GET", TG.apiPath("apps", renderer.opts.app, "records", f.settings.entity), undefined,
        { q: text || undefined, limit: 20, sort: title !== "id" ? title : undefined });
      return r.ok ? r.data.items.map(x => [x.id, x[title] ?? "#" + x.id]) : [];
    };
  }

  /* A lookup's title from the record read with ?expand=titles, else (a link filled from the URL
     by a related list's "new") from the target record itself. */
  function recordTitle(renderer, f) {
    const known = titleFrom(renderer, f);
    const meta = renderer.opts.meta; const target = meta && meta.byName[f.settings.entity];
    return async (value) => {
      const title = known(value);
      if (title != null || !target) return title;
      const r = await TG.api("GET", TG.apiPath("apps", renderer.opts.app, "records", f.settings.entity, String(value)));
      return r.ok ? r.data[target.title] ?? null : null;
    };
  }

  function withOriginal(renderer, f, id, multiple) {
    const w = combobox(id, { multiple, search: recordSearch(renderer, f), titleOf: recordTitle(renderer, f) });
    w.same = (v) => JSON.stringify(v ?? (multiple ? [] : null)) === JSON.stringify(renderer.original[f.name] ?? (multiple ? [] : null));
    return w;
  }
  W.lookup = (f, id, r) => withOriginal(r, f, id, false);
  W.many_to_many = (f, id, r) => withOriginal(r, f, id, true);

  const directory = () => cached("users", () => TG.api("GET", "/api/directory/users").then(r => (r.ok ? r.data : [])));
  const departments = () => cached("departments", () => TG.api("GET", "/api/departments").then(r => (r.ok ? r.data : [])));
  const matches = (text, ...names) => !text || names.some(n => n && String(n).toLowerCase().includes(text.toLowerCase()));

  W.user = (f, id, renderer) => {
    const w = combobox(id, {
      search: async (text) => (await directory()).filter(u => u.is_active !== false && matches(text, u.name))
        .slice(0, 20).map(u => [u.id, u.name]),
      titleOf: async (v) => ((await directory()).find(u => u.id === v) || {}).name });
    w.same = (v) => (v ?? null) === (renderer.original[f.name] ?? null);
    return w;
  };
  /* Departments in tree order (depth first, siblings by name), each named by its path from the
     top ("销售中心 › 华东团队"): two teams both called 华东 are told apart, and typing a parent's
     name offers the teams under it. */
  const departmentTree = () => cached("department-tree", async () => {
    const all = await departments();
    const byId = new Map(all.map(d => [d.id, d]));
    const children = new Map();
    for (const d of all) {
      const parent = byId.has(d.parent_id) ? d.parent_id : null;
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(d);
    }
    const out = [];
    const walk = (parent, path) => {
      for (const d of (children.get(parent) || []).sort((a, b) => a.name.localeCompare(b.name, "zh"))) {
        const named = [...path, d.name];
        out.push({ id: d.id, path: named.join(" › "), names: named });
        walk(d.id, named);
      }
    };
    walk(null, []);
    return out;
  });
  W.department = (f, id, renderer) => {
    const w = combobox(id, {
      search: async (text) => (await departmentTree()).filter(d => matches(text, ...d.names)).slice(0, 30).map(d => [d.id, d.path]),
      titleOf: async (v) => ((await departmentTree()).find(d => d.id === v) || {}).path });
    w.same = (v) => (v ?? null) === (renderer.original[f.name] ?? null);
    return w;
  };

  /* -- 省 / 市 / 区 ------------------------------------------------------------------------ */

  /* The bundled list as {tree, byCode: code -> [code, name, children, parentCode]}, fetched once
     per page (and cached by the browser for a day). */
  TG.regions = () => cached("regions", () => fetch(TG.prefix + "/data/regions").then(r => r.json()).then(tree => {
    const byCode = {};
    const walk = (nodes, parent) => { for (const n of nodes) { byCode[n[0]] = [n[0], n[1], n[2] || [], parent]; walk(n[2] || [], n[0]); } };
    walk(tree, null);
    return { tree, byCode };
  }));
  const LEVELS = ["province", "city", "district"];

  /* Three selects, each filled from the one above; depth: how many levels to ask for. */
  async function cascade(id, depth, labelText) {
    const { tree, byCode } = await TG.regions();
    const selects = LEVELS.slice(0, depth).map((level, i) => TG.el("select", { id: i ? `${id}-${level}` : id,
      "aria-label": `${labelText} · ${TG.t(level)}`, dataset: { level } }));
    const fill = (i, nodes) => {
      if (!selects[i]) return;
      selects[i].replaceChildren(TG.el("option", { value: "", text: TG.t(LEVELS[i]) }), ...nodes.map(n => TG.el("option", { value: n[0], text: n[1] })));
      selects[i].disabled = !nodes.length && i > 0;
      fill(i + 1, []);
    };
    selects.forEach((s, i) => s.addEventListener("change", () => fill(i + 1, s.value ? byCode[s.value][2] : [])));
    fill(0, tree);
    const chain = () => selects.map(s => s.value || null);
    const setCode = (code) => {
      const path = [];
      for (let c = code; c && byCode[c]; c = byCode[c][3]) path.unshift(c);
      fill(0, tree);
      path.slice(0, depth).forEach((c, i) => { selects[i].value = c; fill(i + 1, byCode[c][2]); });
    };
    return { selects, chain, setCode, byCode };
  }

  W.address = async (f, id) => {
    const s = f.settings || {};
    const c = await cascade(id, 3, f.label);
    const detail = s.detail === false ? null : TG.el("input", { id: id + "-detail", "aria-label": `${f.label} · ${TG.t("detail_address")}`,
      placeholder: TG.t("detail_address"), maxlength: s.max_detail_length || 200 });
    const node = TG.el("div", { class: "cascade" }, TG.el("div", { class: "cascade-row" }, c.selects), detail);
    const get = () => {
      const codes = c.chain();
      const text = detail ? detail.value.trim() : "";
      if (!codes[0] && !text) return null;
      const out = {};
      LEVELS.forEach((l, i) => { out[l] = codes[i] ? c.byCode[codes[i]][1] : null; out[l + "_code"] = codes[i]; });
      if (detail) out.detail = text || null;
      return out;
    };
    let original = null;
    const key = (v) => (v ? [v.province_code, v.city_code, v.district_code, v.detail || null].join("|") : "");
    return { node, input: c.selects[0], draftable: true, get,
      set: (v) => { original = v; c.setCode(v ? v.district_code || v.city_code || v.province_code : null); if (detail) detail.value = (v && v.detail) || ""; },
      same: (v) => key(v) === key(original) };
  };

  W.region = async (f, id) => {
    const depth = LEVELS.indexOf((f.settings || {}).depth || "district") + 1;
    const c = await cascade(id, depth, f.label);
    const node = TG.el("div", { class: "cascade" }, TG.el("div", { class: "cascade-row" }, c.selects));
    let original = null;
    const codeOf = (v) => (v == null ? null : typeof v === "object" ? v.code ?? null : String(v));
    const get = () => c.chain().filter(Boolean).pop() || null;
    return { node, input: c.selects[0], draftable: true, get,
      set: (v) => { original = codeOf(v); c.setCode(original); }, same: (v) => codeOf(v) === original };
  };

  /* -- numbers ---------------------------------------------------------------------------- */

  const plain = (text) => String(text).replace(/[,，\s¥￥]/g, "");
  const grouped = (text, scale) => {
    const n = plain(text);
    if (!/^-?\d+(\.\d+)?$/.test(n)) return text;
    const [int, frac = ""] = n.split(".");
    const digits = int.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (int.startsWith("-") ? "-" : "") + digits + (scale ? "." + (frac + "0".repeat(scale)).slice(0, Math.max(scale, frac.length)) : frac ? "." + frac : "");
  };

  W.currency = (f, id) => {
    const scale = (f.settings || {}).scale ?? 2;
    const i = TG.el("input", { id, name: f.name, type: "text", inputmode: "decimal", autocomplete: "off" });
    i.addEventListener("blur", () => { if (i.value.trim()) i.value = grouped(i.value.trim(), scale); });
    i.addEventListener("focus", () => { i.value = plain(i.value); });
    const node = TG.el("span", { class: "money" }, TG.el("span", { class: "affix", "aria-hidden": "true", text: "¥" }), i);
    let original = null;
    return { node, input: i, draftable: true,
      set: (v) => { original = v; i.value = v == null ? "" : grouped(String(v), scale); },
      get: () => (i.value.trim() === "" ? null : plain(i.value)), same: (v) => numEq(v, original) };
  };

  /* A fraction shown in points: 0.125 <-> 12.5 (decimal shift on the text, no float error). */
  const shift = (text, places) => {
    let s = plain(text); const neg = s.startsWith("-"); if (neg) s = s.slice(1);
    let [int, frac = ""] = s.split(".");
    if (places > 0) { frac = frac.padEnd(places, "0"); int += frac.slice(0, places); frac = frac.slice(places); }
    else { int = int.padStart(-places + 1, "0"); frac = int.slice(places) + frac; int = int.slice(0, places); }
    int = int.replace(/^0+(?=\d)/, ""); frac = frac.replace(/0+$/, "");
    return (neg ? "-" : "") + (int || "0") + (frac ? "." + frac : "");
  };
  W.percent = (f, id) => {
    const i = TG.el("input", { id, name: f.name, type: "text", inputmode: "decimal", autocomplete: "off" });
    const node = TG.el("span", { class: "money" }, i, TG.el("span", { class: "affix", "aria-hidden": "true", text: "%" }));
    let original = null;
    return { node, input: i, draftable: true,
      set: (v) => { original = v; i.value = v == null || v === "" ? "" : shift(String(v), 2); },
      get: () => { const t = plain(i.value).replace(/%$/, ""); return t === "" ? null : /^-?\d*\.?\d+$/.test(t) ? shift(t, -2) : i.value; },
      same: (v) => numEq(v, original) };
  };

  W.rating = (f, id) => {
    const max = (f.settings || {}).max || 5;
    let value = null;
    const stars = [];
    const node = TG.el("div", { id, class: "rating", role: "radiogroup", "aria-label": f.label });
    const paint = () => stars.forEach((s, k) => { s.classList.toggle("on", value != null && k < value);
      s.setAttribute("aria-checked", value === k + 1 ? "true" : "false"); s.tabIndex = (value || 1) === k + 1 ? 0 : -1; });
    const pick = (n) => { value = n === value ? null : n; paint(); fire(node); };
    for (let k = 1; k <= max; k++) {
      const s = TG.el("button", { type: "button", role: "radio", class: "star", "aria-label": TG.t("stars", { n: k }), text: "★",
        onclick: () => pick(k) });
      s.addEventListener("keydown", (e) => {
        const step = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[e.key];
        if (!step) return;
        e.preventDefault(); value = Math.min(max, Math.max(1, (value || 0) + step)); paint(); stars[value - 1].focus(); fire(node);
      });
      stars.push(s); node.append(s);
    }
    let original = null;
    return { node, draftable: true, set: (v) => { original = v ?? null; value = v ?? null; paint(); }, get: () => value,
      same: (v) => (v ?? null) === original };
  };

  /* -- choices with colours --------------------------------------------------------------- */

  const optionsOf = (f) => f.settings?.options || [];
  const swatch = (colour) => TG.el("span", { class: "swatch", style: colour ? `background:${colour}` : null, "aria-hidden": "true" });

  W.select = (f, id) => {
    const opts = optionsOf(f);
    if (!opts.some(o => o.color)) return null; // the renderer's plain select serves
    const s = TG.el("select", { id, name: f.name }, TG.el("option", { value: "", text: TG.t("choose") }),
      opts.map(o => TG.el("option", { value: o.value, text: o.label })));
    const dot = swatch(null);
    const paint = () => { const o = opts.find(x => x.value === s.value); dot.style.background = o && o.color ? o.color : "transparent"; };
    s.addEventListener("change", paint);
    return { node: TG.el("span", { class: "select-colour" }, dot, s), input: s,
      set: (v) => { s.value = v ?? ""; paint(); }, get: () => s.value || null };
  };

  W.multi_select = (f, id) => {
    const opts = optionsOf(f);
    const boxes = opts.map((o, k) => TG.el("input", { type: "checkbox", id: k ? `${id}-${k}` : id, value: o.value }));
    const node = TG.el("div", { class: "choices", role: "group", "aria-label": f.label }, opts.map((o, k) =>
      TG.el("label", { class: "choice", style: o.color ? `--choice:${o.color}` : null }, boxes[k], swatch(o.color), o.label)));
    let original = [];
    return { node, input: boxes[0], draftable: true,
      set: (v) => { original = v || []; boxes.forEach(b => { b.checked = original.includes(b.value); }); },
      get: () => boxes.filter(b => b.checked).map(b => b.value),
      same: (v) => JSON.stringify([...(v || [])].sort()) === JSON.stringify([...original].sort()) };
  };

  /* -- small ones ------------------------------------------------------------------------- */

  W.colour = (f, id) => {
    const pick = TG.el("input", { id, type: "color", class: "colour-input" });
    const text = TG.el("input", { type: "text", "aria-label": f.label, placeholder: "#RRGGBB", maxlength: 7 });
    pick.addEventListener("input", () => { text.value = pick.value.toUpperCase(); });
    text.addEventListener("change", () => { if (/^#[0-9a-f]{6}$/i.test(text.value)) pick.value = text.value.toLowerCase(); });
    let original = null;
    return { node: TG.el("span", { class: "money" }, pick, text), input: text, draftable: true,
      set: (v) => { original = v ?? null; text.value = v || ""; if (v) pick.value = v.toLowerCase(); },
      get: () => text.value.trim() || null, same: (v) => String(v ?? "").toUpperCase() === String(original ?? "").toUpperCase() };
  };

  W.time = (f, id) => {
    const i = TG.el("input", { id, name: f.name, type: "time", step: 1 });
    let original = null;
    const norm = (v) => (v ? (v.length === 5 ? v + ":00" : v) : null);
    return { node: i, draftable: true, set: (v) => { original = norm(v); i.value = original || ""; },
      get: () => norm(i.value), same: (v) => norm(v) === original };
  };

  W.geolocation = (f, id) => {
    const lat = TG.el("input", { id, type: "number", step: "any", min: -90, max: 90, "aria-label": `${f.label} · ${TG.t("latitude")}`, placeholder: TG.t("latitude") });
    const lng = TG.el("input", { type: "number", step: "any", min: -180, max: 180, "aria-label": `${f.label} · ${TG.t("longitude")}`, placeholder: TG.t("longitude") });
    let original = null;
    const get = () => (lat.value === "" && lng.value === "" ? null : { lat: lat.value === "" ? null : Number(lat.value), lng: lng.value === "" ? null : Number(lng.value) });
    return { node: TG.el("div", { class: "cascade-row" }, lat, lng), input: lat, draftable: true, get,
      set: (v) => { original = v || null; lat.value = v ? v.lat : ""; lng.value = v ? v.lng : ""; },
      same: (v) => JSON.stringify(v ? [Number(v.lat), Number(v.lng)] : null) === JSON.stringify(original ? [Number(original.lat), Number(original.lng)] : null) };
  };

  W.json = (f, id) => {
    const t = TG.el("textarea", { id, name: f.name, rows: 4, class: "mono", spellcheck: "false" });
    let original = null;
    const get = () => { if (!t.value.trim()) return null; try { return JSON.parse(t.value); } catch (e) { return t.value; } };
    return { node: t, draftable: true, get, set: (v) => { original = v ?? null; t.value = v == null ? "" : JSON.stringify(v, null, 2); },
      same: (v) => JSON.stringify(v ?? null) === JSON.stringify(original) };
  };

  /* -- rich text (Trix, vendored) ---------------------------------------------------------- */

  /* Trix's toolbar in Chinese where the page is. Files belong in file fields, so its attach button
     is hidden and dropped or pasted files are refused. */
  if (window.Trix && TG.locale === "zh") Object.assign(window.Trix.config.lang, {
    bold: "粗体", italic: "斜体", strike: "删除线", link: "链接", heading1: "标题", quote: "引用", code: "代码",
    bullets: "项目符号", numbers: "编号", outdent: "减少缩进", indent: "增加缩进", undo: "撤销", redo: "重做",
    attachFiles: "附件", urlPlaceholder: "输入网址…", unlink: "取消链接", remove: "移除", captionPlaceholder: "添加说明…",
  });
  W.rich_text = (f, id) => {
    if (!window.customElements || !customElements.get("trix-editor")) return null; // the textarea serves
    const input = TG.el("input", { type: "hidden", id: id + "-value", name: f.name });
    const editor = document.createElement("trix-editor");
    editor.id = id;
    editor.setAttribute("input", input.id);
    editor.setAttribute("aria-label", f.label || f.name);
    const node = TG.el("div", { class: "rich-text-field" }, input, editor);
    let pending = "";
    editor.addEventListener("trix-initialize", () => editor.editor.loadHTML(pending));
    editor.addEventListener("trix-file-accept", (e) => e.preventDefault());
    editor.addEventListener("trix-change", () => node.dispatchEvent(new Event("change", { bubbles: true })));
    return { node, input: editor,
      set: (v) => { pending = v || ""; input.value = pending; if (editor.editor) editor.editor.loadHTML(pending); },
      get: () => (input.value.trim() === "" ? null : input.value) };
  };

  TG.widgets = W;
  TG.widgetHelpers = { combobox, grouped, shift, cached };
})();
