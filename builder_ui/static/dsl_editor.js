/* The list page's DSL editor: CodeMirror 6 (static/vendor/codemirror, window.TGCodeMirror) over
   the filter box, with rule-DSL highlighting, completion of the entity's fields and the DSL's
   functions, and the server's error underlined at its line and column. The textarea #filter
   stays the source of truth: the editor writes into it on every edit, and whatever sets its value
   (the filter builder, a saved view, "clear") is shown in the editor. Without CodeMirror the plain
   box works as before. */
"use strict";
(function () {
  const CM = window.TGCodeMirror;
  if (!CM) return;
  // rule_engine.FUNCTIONS, in registry order (tests/builder_ui/test_dsl_editor.py compares them).
  const FUNCTIONS = ["len", "lower", "upper", "trim", "contains", "starts_with", "ends_with", "matches",
    "today", "now", "date", "datetime", "year", "month", "day", "days_between", "add_days", "add_workdays",
    "workdays_between", "abs", "round", "floor", "ceil", "amount_in_words", "min", "max", "coalesce",
    "is_blank", "if", "changed", "old"];
  const KEYWORDS = new Set(["and", "or", "not", "in", "is", "via"]);
  const ATOMS = new Set(["true", "false", "null"]);
  const NAME = /^[\p{L}_][\p{L}\p{N}_]*/u;
  const STYLE = CM.HighlightStyle.define([
    { tag: CM.tags.keyword, color: "#7a1fa2", fontWeight: "600" },
    { tag: CM.tags.atom, color: "#0b5cad" },
    { tag: CM.tags.string, color: "#a31515" },
    { tag: CM.tags.number, color: "#116644" },
    { tag: CM.tags.propertyName, color: "#0f766e" },
    { tag: CM.tags.function(CM.tags.variableName), color: "#1d4ed8" },
    { tag: CM.tags.operator, color: "#666" },
  ]);

  function language(fields) {
    const known = new Set(FUNCTIONS);
    return CM.StreamLanguage.define({
      name: "tangram-rule",
      tokenTable: { dslField: CM.tags.propertyName, dslFunction: CM.tags.function(CM.tags.variableName) },
      token(stream) {
        if (stream.eatSpace()) return null;
        if (stream.match(/^'(?:[^'\\\n]|\\.)*'?/) || stream.match(/^"(?:[^"\\\n]|\\.)*"?/)) return "string";
        if (stream.match(/^[0-9]+(\.[0-9]+)?/)) return "number";
        const word = stream.match(NAME);
        if (word) {
          const w = word[0];
          if (KEYWORDS.has(w)) return "keyword";
          if (ATOMS.has(w)) return "atom";
          if (known.has(w) && stream.match(/^\s*\(/, false)) return "dslFunction";
          return fields.has(w) ? "dslField" : "variableName";
        }
        if (stream.match(/^(==|!=|<=|>=|<|>|\+|-|\*|\/|%)/)) return "operator";
        stream.next();
        return null;
      },
    });
  }

  const fieldOption = (f) => ({ label: f.name, detail: TG.label(f.label), type: "variable", boost: 1 });
  const ruleFields = (entity) => entity.fields.filter(f => f.type !== "sub_table");

  /* The field a path names (``stage``, or ``account.grade`` one lookup away, as far as the DSL
     follows), or null. */
  function fieldAt(er, meta, path) {
    const [first, second, ...more] = path.split(".");
    if (more.length) return null;
    if (second === undefined) return er.byName[first] || null;
    const target = pointedAt(er, meta, first);
    return target ? target.byName[second] || null : null;
  }

  /* The entity a lookup field of ``er`` points at, or null. */
  function pointedAt(er, meta, name) {
    const f = er.byName[name];
    return (f && f.type === "lookup" && meta && meta.byName[f.entity]) || null;
  }

  /* Completion: the entity's fields, the DSL's functions and keywords; after a lookup and a dot,
     the fields of the record it points at (``account.gr`` -> ``grade``); inside a string compared
     with a select field, its option values, labelled (``stage == 'pr`` -> ``proposal`` 方案). */
  function completions(er, meta) {
    const options = [
      ...ruleFields(er).map(fieldOption),
      ...FUNCTIONS.map(name => ({ label: name, type: "function", apply: name + "(", detail: TG.t("dsl_function") })),
      ...[...KEYWORDS, ...ATOMS].map(k => ({ label: k, type: "keyword" })),
    ];
    return (context) => {
      const before = context.state.sliceDoc(0, context.pos);
      // the last quote before the cursor opens a string when an even number of its kind precede it
      const open = before.match(/'[^'\\]*$|"[^"\\]*$/);
      const inString = !!open && before.slice(0, open.index).split(open[0][0]).length % 2 === 1;
      if (inString) {
        const lhs = before.slice(0, open.index).match(/([\p{L}\p{N}_.]+)\s*(?:==|!=|in\s*\[[^\]]*)\s*$/u);
        const f = lhs && fieldAt(er, meta, lhs[1]);
        if (!f || !(f.options || []).length) return null;
        return { from: open.index + 1, validFor: /^[^'"]*$/,
          options: f.options.map(o => ({ label: o.value, detail: TG.label(o.label), type: "constant" })) };
      }
      const dotted = context.matchBefore(/[\p{L}\p{N}_]+\.[\p{L}\p{N}_]*/u);
      if (dotted) {
        const [lookup, part] = dotted.text.split(".");
        const target = pointedAt(er, meta, lookup);
        if (!target) return null;
        return { from: dotted.to - part.length, options: ruleFields(target).map(fieldOption), validFor: /^[\p{L}\p{N}_]*$/u };
      }
      const word = context.matchBefore(/[\p{L}\p{N}_]*/u);
      if (!word || (word.from === word.to && !context.explicit)) return null;
      return { from: word.from, options, validFor: /^[\p{L}\p{N}_]*$/u };
    };
  }

  (TG.listHooks ||= []).push(async (list) => {
    const meta = await TG.appMeta(list.app).catch(() => null);
    const box = document.getElementById("filter");
    const native = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value");
    const fields = list.er.fields.filter(f => f.type !== "sub_table");
    let quiet = false;  // a change made from the box's side is not written back to it
    const view = new CM.EditorView({
      parent: TG.el("div", { class: "dsl-editor" }),
      state: CM.EditorState.create({
        doc: native.get.call(box),
        extensions: [
          CM.history(), CM.drawSelection(), CM.highlightSpecialChars(), CM.bracketMatching(), CM.closeBrackets(),
          language(new Set(fields.map(f => f.name))),
          CM.syntaxHighlighting(STYLE),
          CM.autocompletion({ override: [completions(list.er, meta)], icons: false }),
          CM.placeholder(box.getAttribute("placeholder") || ""),
          CM.EditorView.lineWrapping,
          CM.EditorView.contentAttributes.of({ "aria-labelledby": "filter-label", "aria-multiline": "true", spellcheck: "false" }),
          CM.keymap.of([
            { key: "Mod-Enter", run: () => { document.getElementById("filter-form").requestSubmit(); return true; } },
            ...CM.closeBracketsKeymap, ...CM.completionKeymap, ...CM.defaultKeymap, ...CM.historyKeymap, ...CM.lintKeymap,
          ]),
          CM.EditorView.updateListener.of((u) => {
            if (!u.docChanged || quiet) return;
            native.set.call(box, u.state.doc.toString());
            box.dispatchEvent(new Event("input", { bubbles: true }));
          }),
        ],
      }),
    });
    const show = (text) => {
      if (text === view.state.doc.toString()) return;
      quiet = true;
      try { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }); } finally { quiet = false; }
    };
    // Scripts set box.value (the builder, saved views, clear): show it in the editor as well.
    Object.defineProperty(box, "value", { configurable: true, get() { return native.get.call(box); },
      set(v) { native.set.call(box, v); show(native.get.call(box)); } });
    box.addEventListener("input", () => show(native.get.call(box)));

    // The server's error at its line and column (list.js sends it with tg:filter-error; null clears).
    box.addEventListener("tg:filter-error", (ev) => {
      const e = ev.detail;
      if (!e) { view.dispatch(CM.setDiagnostics(view.state, [])); view.contentDOM.removeAttribute("aria-invalid"); return; }
      const doc = view.state.doc.toString();
      const lead = doc.length - doc.trimStart().length;  // the server saw the trimmed text
      const lines = (e.text ?? doc.trim()).split("\n");
      let from = doc.length, to = doc.length;
      if (e.line) {
        from = Math.min(doc.length, lead + lines.slice(0, e.line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, e.column - 1));
        const word = /^[\p{L}\p{N}_]+/u.exec(doc.slice(from));
        to = Math.min(doc.length, from + (word ? word[0].length : 1));
        if (from === to && from > 0) from -= 1;
      } else { from = 0; }
      const place = e.line ? TG.t("line_column", { line: e.line, column: e.column }) : "";
      const where = place && !e.message.includes(place) ? place + " " : "";  // the kernel's message may name it
      view.dispatch(CM.setDiagnostics(view.state, [{ from, to, severity: "error", message: where + e.message }]),
        { selection: { anchor: from }, scrollIntoView: true });
      view.contentDOM.setAttribute("aria-invalid", "true");
      view.focus();
    });

    const label = document.querySelector("label[for=filter]");
    if (label) { label.id = "filter-label"; label.addEventListener("click", (ev) => { ev.preventDefault(); view.focus(); }); }
    box.classList.add("dsl-source");
    box.tabIndex = -1;
    box.setAttribute("aria-hidden", "true");
    box.after(view.dom.parentNode);
    TG.dslEditor = { view, get: () => box.value, set: (v) => { box.value = v; }, focus: () => view.focus() };
  });
})();
