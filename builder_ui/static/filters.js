/* The filter builder: field / operator / value rows in and/or groups that write the rule DSL
   into the list's filter box, which stays editable as text (the server checks it and list.js
   shows its errors at their line and column). Operators follow the field's type. Text in the box
   (a saved view's, the address's, typed) is read back into rows when it is of the shapes the
   builder writes; anything else (hand-written rules the rows cannot show) leaves them empty. */
"use strict";
(function () {
  const TEXT = new Set(["text", "long_text", "phone", "email", "url", "auto_number"]);
  const NUMBER = new Set(["integer", "number", "currency", "percent", "rating"]);
  const OPS = {
    text: ["contains", "starts", "eq", "ne", "empty", "not_empty"],
    number: ["eq", "ne", "gt", "ge", "lt", "le", "empty", "not_empty"],
    date: ["eq", "gt", "ge", "lt", "le", "empty", "not_empty"],
    select: ["in", "not_in", "empty", "not_empty"],
    multi: ["contains", "empty", "not_empty"],
    boolean: ["true", "false"],
    other: ["empty", "not_empty"],
  };
  const COMPARE = { eq: "==", ne: "!=", gt: ">", ge: ">=", lt: "<", le: "<=" };
  const NO_VALUE = new Set(["empty", "not_empty", "true", "false"]);
  let er, root;

  function kind(f) {
    if (TEXT.has(f.type)) return "text";
    if (NUMBER.has(f.type) || (f.type === "formula" && ["number", "integer"].includes(f.result_type))) return "number";
    if (f.type === "date" || f.type === "datetime") return "date";
    if (f.type === "select") return "select";
    if (f.type === "multi_select" || f.type === "tags") return f.options ? "multi" : "other";
    if (f.type === "boolean") return "boolean";
    return "other";
  }
  const fieldsFor = () => er.fields.filter(f => f.type !== "sub_table");

  const quote = (s) => "'" + String(s).replaceAll("\\", "\\\\").replaceAll("'", "\\'").replaceAll("\n", "\\n") + "'";
  const number = (s) => (/^-?\d+(\.\d+)?$/.test(String(s).trim()) ? String(s).trim() : quote(s));

  /* One condition as DSL, or null while it is incomplete. */
  function conditionDsl(c) {
    const f = er.byName[c.field];
    if (!f) return null;
    const k = kind(f);
    if (c.op === "empty") return `is_blank(${f.name})`;
    if (c.op === "not_empty") return `not is_blank(${f.name})`;
    if (c.op === "true" || c.op === "false") return `${f.name} == ${c.op}`;
    const values = [].concat(c.value ?? []).filter(v => String(v).trim() !== "");
    if (!values.length) return null;
    if (c.op === "in" || c.op === "not_in") return `${f.name} ${c.op === "in" ? "in" : "not in"} [${values.map(quote).join(", ")}]`;
    if (c.op === "contains") return `contains(${f.name}, ${quote(values[0])})`;
    if (c.op === "starts") return `starts_with(${f.name}, ${quote(values[0])})`;
    if (k === "date") {
      const left = f.type === "datetime" ? `date(${f.name})` : f.name;
      return `${left} ${COMPARE[c.op]} date(${quote(values[0])})`;
    }
    return `${f.name} ${COMPARE[c.op]} ${k === "number" ? number(values[0]) : quote(values[0])}`;
  }

  function groupDsl(g, nested) {
    const parts = g.items.map(i => (i.items ? groupDsl(i, true) : conditionDsl(i))).filter(Boolean);
    if (!parts.length) return null;
    const text = parts.join(` ${g.join} `);
    return nested && parts.length > 1 ? `(${text})` : text;
  }

  function write() {
    const box = document.getElementById("filter");
    box.value = groupDsl(root, false) || "";
    box.dataset.builder = box.value;
  }

  function newCondition() {
    const f = fieldsFor()[0];
    return { field: f.name, op: OPS[kind(f)][0], value: "" };
  }

  function valueInput(c, f) {
    const k = kind(f);
    const label = TG.t("fb_value");
    const set = (v) => { c.value = v; write(); };
    if (NO_VALUE.has(c.op)) return "";
    if (k === "select" || k === "multi") {
      const multiple = k === "select";
      const select = TG.el("select", { class: "fb-value", multiple, "aria-label": label,
        onchange: (ev) => set(multiple ? [...ev.target.selectedOptions].map(o => o.value) : ev.target.value) },
        multiple ? "" : TG.el("option", { value: "" }, TG.t("choose")),
        f.options.map(o => TG.el("option", { value: o.value, selected: [].concat(c.value).includes(o.value) }, TG.label(o.label))));
      return select;
    }
    const type = k === "number" ? "number" : k === "date" ? "date" : "text";
    return TG.el("input", { class: "fb-value", type, step: type === "number" ? "any" : null, value: c.value || "",
      "aria-label": label, oninput: (ev) => set(ev.target.value) });
  }

  function conditionRow(c, parent) {
    const f = er.byName[c.field];
    const row = TG.el("div", { class: "fb-row" });
    const fieldSelect = TG.el("select", { class: "fb-field", "aria-label": TG.t("fb_field"), onchange: (ev) => {
      const nf = er.byName[ev.target.value];
      Object.assign(c, { field: nf.name, op: OPS[kind(nf)][0], value: "" }); render();
    } }, fieldsFor().map(x => TG.el("option", { value: x.name, selected: x.name === c.field }, TG.label(x.label))));
    const opSelect = TG.el("select", { class: "fb-op", "aria-label": TG.t("fb_operator"), onchange: (ev) => {
      c.op = ev.target.value; if (NO_VALUE.has(c.op)) c.value = ""; render();
    } }, OPS[kind(f)].map(op => TG.el("option", { value: op, selected: op === c.op }, TG.t("fop_" + op))));
    row.append(fieldSelect, opSelect, valueInput(c, f),
      TG.el("button", { type: "button", class: "link fb-remove", "aria-label": TG.t("fb_remove"), text: "✕",
        onclick: () => { parent.items.splice(parent.items.indexOf(c), 1); render(); } }));
    return row;
  }

  function groupBox(g, parent) {
    const box = TG.el("div", { class: "fb-group" + (parent ? " nested" : "") });
    const join = TG.el("select", { class: "fb-join", "aria-label": TG.t("fb_title"), onchange: (ev) => { g.join = ev.target.value; write(); } },
      TG.el("option", { value: "and", selected: g.join === "and" }, TG.t("fb_all")),
      TG.el("option", { value: "or", selected: g.join === "or" }, TG.t("fb_any")));
    const head = TG.el("div", { class: "fb-head" }, join);
    if (parent) head.append(TG.el("button", { type: "button", class: "link fb-remove", "aria-label": TG.t("fb_remove"), text: "✕",
      onclick: () => { parent.items.splice(parent.items.indexOf(g), 1); render(); } }));
    box.append(head, ...g.items.map(i => (i.items ? groupBox(i, g) : conditionRow(i, g))),
      TG.el("div", { class: "fb-actions" },
        TG.el("button", { type: "button", class: "fb-add", text: "+ " + TG.t("fb_add"), onclick: () => { g.items.push(newCondition()); render(); } }),
        parent ? "" : TG.el("button", { type: "button", class: "fb-add-group", text: "+ " + TG.t("fb_add_group"),
          onclick: () => { g.items.push({ join: "or", items: [newCondition()] }); render(); } })));
    return box;
  }

  function render() {
    document.getElementById("fb-root").replaceChildren(groupBox(root, null));
    write();
  }

  function reset() { root = { join: "and", items: [] }; document.getElementById("fb-root").replaceChildren(groupBox(root, null)); }

  /* --- reading DSL back into rows ------------------------------------------------------------ */
  const TOKEN = /\s+|'(?:\\.|[^'\\])*'|-?\d+(?:\.\d+)?|==|!=|>=|<=|>|<|[()[\],]|[A-Za-z_][A-Za-z0-9_]*|./gy;
  const UNESCAPE = { n: "\n", "\\": "\\", "'": "'" };
  const OP_OF = Object.fromEntries(Object.entries(COMPARE).map(([op, sym]) => [sym, op]));

  /* The rows ``text`` was written from, or null when the builder did not (could not) write it. */
  function parse(text) {
    const toks = [...text.matchAll(TOKEN)].map(m => m[0]).filter(t => !/^\s+$/.test(t));
    let i = 0;
    const peek = () => toks[i];
    const take = (want) => { const t = toks[i]; if (want !== undefined && t !== want) throw 0; i += 1; if (t === undefined) throw 0; return t; };
    const str = () => { const t = take(); if (t[0] !== "'") throw 0; return t.slice(1, -1).replace(/\\(.)/g, (_, c) => UNESCAPE[c] ?? c); };
    const field = () => { const f = er.byName[take()]; if (!f) throw 0; return f; };
    const cond = (f, op, value) => { if (!OPS[kind(f)].includes(op)) throw 0; return { field: f.name, op, value }; };
    const call = (name) => { take(name); take("("); const f = field(); return f; };
    function condition() {
      const t = peek();
      if (t === "not" && toks[i + 1] === "is_blank") { take("not"); const f = call("is_blank"); take(")"); return cond(f, "not_empty", ""); }
      if (t === "is_blank") { const f = call("is_blank"); take(")"); return cond(f, "empty", ""); }
      if (t === "contains" || t === "starts_with") { const f = call(t); take(","); const v = str(); take(")"); return cond(f, t === "contains" ? "contains" : "starts", v); }
      let f;
      if (t === "date") { f = call("date"); take(")"); if (f.type !== "datetime") throw 0; } else f = field();
      let op = take();
      if (op === "not") { take("in"); op = "not_in"; } else if (op === "in") op = "in";
      if (op === "in" || op === "not_in") {
        take("["); const values = [str()]; while (peek() === ",") { take(","); values.push(str()); } take("]");
        return cond(f, op, values);
      }
      if (!OP_OF[op]) throw 0;
      const k = kind(f);
      if (k === "boolean") { const v = take(); if (op !== "==" || (v !== "true" && v !== "false")) throw 0; return cond(f, v, ""); }
      if (k === "date") { take("date"); take("("); const v = str(); take(")"); return cond(f, OP_OF[op], v); }
      const v = peek() && peek()[0] === "'" ? str() : take();
      return cond(f, OP_OF[op], v);
    }
    function group(nested) {
      const g = { join: "and", items: [] };
      let join = null;
      for (;;) {
        if (peek() === "(") { if (nested) throw 0; take("("); g.items.push(group(true)); take(")"); } else g.items.push(condition());
        const t = peek();
        if (t !== "and" && t !== "or") break;
        if (join && t !== join) throw 0;
        join = take();
      }
      g.join = join || "and";
      return g;
    }
    try {
      if (!text.trim()) return { join: "and", items: [] };
      const g = group(false);
      if (i !== toks.length) return null;
      return groupDsl(g, false) === text.trim() ? g : null; // only what the builder itself writes
    } catch (e) { return null; }
  }

  /* The box's text as rows (when it has the builder's shapes), else empty rows. */
  function load(text) {
    const parsed = parse(text);
    if (!parsed) { reset(); return; }
    root = parsed;
    document.getElementById("fb-root").replaceChildren(groupBox(root, null));
    document.getElementById("filter").dataset.builder = text;
  }

  (TG.listHooks ||= []).push((list) => {
    er = list.er;
    const box = document.getElementById("filter");
    const builder = TG.el("details", { id: "filter-builder", class: "filter-builder" },
      TG.el("summary", { text: TG.t("fb_title") }), TG.el("div", { id: "fb-root" }));
    box.before(builder);
    load(box.value);
    // Text that the builder did not write (typed, cleared, a saved view's): its rows, if it has any.
    const external = () => { if (box.value !== box.dataset.builder) load(box.value); };
    box.addEventListener("input", external);
    box.addEventListener("tg:filter-set", external);
    document.getElementById("filter-clear").addEventListener("click", external);
  });
})();
