/* The import wizard over the kernel's import API: upload a CSV or XLSX file, see and change the
   guessed column -> field mapping, dry run with every row's problems, run it with a progress bar
   (polling the import job), then download the file of refused rows to fix and import again. */
"use strict";
(function () {
  const { app, entity } = TG.page;
  let er, file = null;

  /* A multipart call: same cookie, CSRF header and language as TG.api, but a FormData body. */
  async function upload(path, fields) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) form.append(k, v);
    const resp = await fetch(path, { method: "POST", body: form, credentials: "same-origin",
      headers: { "Accept": "application/json", "Accept-Language": TG.locale, "X-CSRF-Token": csrfToken() } });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    return { ok: resp.ok, status: resp.status, data, error: data && data.error ? data.error : null };
  }

  function showError(id, error) {
    const box = document.getElementById(id);
    box.textContent = TG.errorText(error);
    box.hidden = false;
  }

  function mapping() {
    const out = {};
    for (const select of document.querySelectorAll("#mapping select")) if (select.value) out[select.dataset.column] = select.value;
    return out;
  }

  function showMapping(preview) {
    document.getElementById("import-rows").textContent = TG.t("import_rows", { n: preview.rows });
    const fields = er.fields.filter(f => !["formula", "rollup", "auto_number", "sub_table"].includes(f.type));
    document.querySelector("#mapping tbody").replaceChildren(...preview.columns.map((column, i) => {
      const guessed = preview.mapping[column] || "";
      const select = TG.el("select", { dataset: { column }, "aria-label": column },
        TG.el("option", { value: "" }, TG.t("import_skip")),
        fields.map(f => TG.el("option", { value: f.name, selected: f.name === guessed }, TG.label(f.label))));
      const sample = preview.sample.map(row => row[i]).filter(v => v !== "" && v != null).slice(0, 2).join("、");
      return TG.el("tr", { dataset: { column } }, TG.el("td", { text: column }), TG.el("td", {}, select), TG.el("td", { class: "muted", text: sample }));
    }));
    document.getElementById("mapping-step").hidden = false;
  }

  function tallyText(tally) {
    return TG.t("import_tally", { created: tally.created, updated: tally.updated, skipped: tally.skipped, failed: tally.failed });
  }

  function showRowErrors(errors) {
    document.getElementById("row-errors").replaceChildren(...errors.map(e => TG.el("li", { dataset: { row: e.row } },
      TG.el("strong", { text: TG.t("colon", { text: TG.t("import_row", { n: e.row }) }) }), e.problems.map(p => p.message).join(" · "))));
  }

  function options() {
    return { file, entity, mapping: JSON.stringify(mapping()), on_duplicate: document.getElementById("on-duplicate").value };
  }

  async function dryRun() {
    document.getElementById("import-error").hidden = true;
    const r = await upload(TG.apiPath("apps", app, "imports"), { ...options(), dry_run: "true" });
    if (!r.ok) { showError("import-error", r.error); return; }
    document.getElementById("result-step").hidden = false;
    document.getElementById("import-progress").hidden = true;
    document.getElementById("import-errors-file").hidden = true;
    document.getElementById("import-status").textContent = TG.t("import_dry_done");
    document.getElementById("import-tally").textContent = tallyText(r.data.tally);
    showRowErrors(r.data.errors);
  }

  function progress(job) {
    const bar = document.getElementById("import-progress");
    const pct = job.total_rows ? Math.round(100 * job.processed_rows / job.total_rows) : (job.status === "done" ? 100 : 0);
    bar.hidden = false;
    bar.setAttribute("aria-valuenow", String(pct));
    bar.firstElementChild.style.width = pct + "%";
    document.getElementById("import-status").textContent = job.status === "done" ? TG.t("import_finished")
      : job.status === "failed" ? TG.t("import_stopped", { error: job.error?.message || "" })
        : TG.t("import_progress", { done: job.processed_rows, total: job.total_rows });
  }

  async function poll(id) {
    const r = await TG.api("GET", TG.apiPath("imports", id));
    if (!r.ok) { showError("import-error", r.error); return; }
    const job = r.data;
    progress(job);
    if (job.status !== "done" && job.status !== "failed") { setTimeout(() => poll(id), 300); return; }
    document.getElementById("result-step").dataset.status = job.status;
    if (job.tally) document.getElementById("import-tally").textContent = tallyText(job.tally);
    if (job.tally && job.tally.failed) {
      const link = document.getElementById("import-errors-file");
      link.href = TG.apiPath("imports", id, "errors");
      link.hidden = false;
    }
    document.getElementById("import-run").disabled = false;
  }

  async function run() {
    document.getElementById("import-error").hidden = true;
    const button = document.getElementById("import-run");
    button.disabled = true;
    const r = await upload(TG.apiPath("apps", app, "imports"), options());
    if (!r.ok) { button.disabled = false; showError("import-error", r.error); return; }
    const result = document.getElementById("result-step");
    result.hidden = false; delete result.dataset.status;
    document.getElementById("row-errors").replaceChildren();
    document.getElementById("import-tally").textContent = "";
    document.getElementById("import-errors-file").hidden = true;
    progress(r.data);
    poll(r.data.id);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    TG.renderNav(app, entity);
    let meta;
    try { meta = await TG.appMeta(app); } catch (e) { TG.flash(TG.errorText(e)); return; }
    er = meta.byName[entity];
    if (!er) { TG.flash(TG.t("not_found")); return; }
    document.getElementById("title").textContent = TG.t("import_title", { entity: TG.label(er.label) });
    document.getElementById("back").href = TG.url(app, entity);
    document.getElementById("upload-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      document.getElementById("upload-error").hidden = true;
      file = document.getElementById("import-file").files[0];
      const r = await upload(TG.apiPath("apps", app, "imports", "preview"), { file, entity });
      if (!r.ok) { showError("upload-error", r.error); return; }
      showMapping(r.data);
    });
    document.getElementById("import-dry-run").addEventListener("click", dryRun);
    document.getElementById("import-run").addEventListener("click", run);
  });
})();
