/* File fields in a form: attachment and image (a list of descriptors) and signature (one drawn
   PNG). A file goes up at once through the kernel's files API (POST /api/apps/{app}/files, with
   progress), and the record keeps its descriptor {id, name, size, content_type}; images show a
   preview (GET .../files/{id}, which answers the uploader before a record holds the file). */
"use strict";
(function () {
  const fileUrl = (app, id) => TG.apiPath("apps", app, "files", id);
  const csrf = () => { const m = document.cookie.match(/(?:^|; )tg_csrf=([^;]*)/); return m ? decodeURIComponent(m[1]) : ""; };
  const size = (n) => (n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : n >= 1024 ? Math.round(n / 1024) + " KB" : n + " B");
  const idsOf = (v) => JSON.stringify((Array.isArray(v) ? v : v ? [v] : []).map(d => d.id));

  /* Upload one file or blob to ``url`` (a multipart ``file``); onProgress(fraction). Resolves
     {ok, data, error} like TG.api. XMLHttpRequest, because fetch reports no upload progress. */
  TG.uploadTo = function (url, file, name, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.setRequestHeader("Accept-Language", TG.locale);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress?.(e.loaded / e.total); });
      xhr.addEventListener("load", () => {
        let data = null; try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        const ok = xhr.status >= 200 && xhr.status < 300;
        resolve({ ok, status: xhr.status, data, error: !ok && data ? data.error : null });
      });
      xhr.addEventListener("error", () => resolve({ ok: false, status: 0, data: null, error: null }));
      const body = new FormData();
      body.append("file", file, name || file.name);
      xhr.send(body);
    });
  };
  /* For a record's file field: the kernel's files API. */
  TG.upload = (app, entity, field, file, name, onProgress) =>
    TG.uploadTo(TG.apiPath("apps", app, "files") + "?" + new URLSearchParams({ entity, field }), file, name, onProgress);
  TG.fileSize = size;

  /* Why the upload was refused: the problem's own message when there is one. */
  const refusal = (r) => (r.error ? (r.error.problems || []).map(p => p.message).join("；") || r.error.message : TG.t("error"));

  /* Upload every file chosen in ``picker``, each with a progress row in ``status`` (a refusal
     stays there, beside the file's name): ``send(file, onProgress)`` uploads one, ``stored``
     takes each accepted descriptor. False when nothing was chosen. */
  TG.uploadChosen = async function (picker, status, send, stored) {
    const chosen = [...picker.files];
    if (!chosen.length) return false;
    picker.value = "";
    await Promise.all(chosen.map(async (file) => {
      const bar = TG.el("progress", { max: 1, value: 0, "aria-label": file.name });
      const row = TG.el("div", { class: "upload" }, TG.el("span", { text: file.name + " " }), bar);
      status.append(row);
      const r = await send(file, (p) => { bar.value = p; });
      if (r.ok) { row.remove(); stored(r.data); }
      else { row.replaceChildren(TG.el("span", { class: "error", role: "alert", text: `${file.name}：${refusal(r)}` })); }
    }));
    return true;
  };

  function fileList(f, id, renderer) {
    const s = f.settings || {};
    const app = renderer.opts.app; const entity = renderer.desc.entity;
    const images = f.type === "image";
    const max = s.max_files || null;
    let files = []; let original = [];
    const list = TG.el("ul", { class: "files" + (images ? " images" : "") });
    const picker = TG.el("input", { id, type: "file", class: "file-input", multiple: max !== 1,
      accept: (s.accept || (images ? ["image/*"] : [])).join(",") || null });
    const status = TG.el("div", { class: "uploads", "aria-live": "polite" });
    const node = TG.el("div", { class: "file-field" }, list,
      TG.el("label", { class: "button", for: id }, "⇪ ", TG.t(images ? "upload_image" : "upload")), picker, status);
    const paint = () => {
      list.replaceChildren(...files.map(d => TG.el("li", { class: "file", dataset: { id: d.id } },
        d.content_type && d.content_type.startsWith("image/")
          ? TG.el("a", { href: fileUrl(app, d.id), target: "_blank", rel: "noopener" }, TG.el("img", { src: fileUrl(app, d.id), alt: d.name, loading: "lazy" }))
          : "",
        TG.el("a", { class: "file-name", href: fileUrl(app, d.id), target: "_blank", rel: "noopener", text: d.name }),
        TG.el("span", { class: "muted", text: " " + size(d.size || 0) }),
        TG.el("button", { type: "button", class: "link", "aria-label": TG.t("remove_item", { name: d.name }), text: "✕",
          onclick: () => { files = files.filter(x => x.id !== d.id); paint(); picker.dispatchEvent(new Event("change", { bubbles: true })); } }))));
      picker.disabled = !!(max && files.length >= max);
    };
    picker.addEventListener("change", async () => {
      const send = (file, progress) => TG.upload(app, entity, f.name, file, file.name, progress);
      // nothing chosen: our own change event, sent once the uploads are done
      if (await TG.uploadChosen(picker, status, send, (d) => { files.push(d); paint(); })) {
        picker.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    return { node, input: picker, draftable: true,
      set: (v) => { original = v || []; files = [...original]; status.replaceChildren(); paint(); },
      get: () => [...files], same: (v) => idsOf(v) === idsOf(original) };
  }
  TG.widgets.attachment = fileList;
  TG.widgets.image = fileList;

  /* A signature: drawn with a pointer (mouse, pen, finger) on a canvas, uploaded as a PNG when
     the user confirms it; the stored one is shown until they draw again. */
  TG.widgets.signature = (f, id, renderer) => {
    const app = renderer.opts.app; const entity = renderer.desc.entity;
    const canvas = TG.el("canvas", { id, width: 480, height: 160, class: "signature-pad", tabindex: 0, "aria-label": f.label });
    const shown = TG.el("img", { class: "signature-image", alt: f.label, hidden: true });
    const note = TG.el("span", { class: "muted", "aria-live": "polite" });
    const use = TG.el("button", { type: "button", text: TG.t("signature_use"), disabled: true });
    const clear = TG.el("button", { type: "button", class: "link", text: TG.t("clear") });
    const node = TG.el("div", { class: "signature" }, shown, canvas, TG.el("div", { class: "signature-actions" }, use, clear, note));
    const pen = canvas.getContext("2d");
    pen.lineWidth = 2.5; pen.lineCap = "round"; pen.lineJoin = "round"; pen.strokeStyle = "#1d2129";
    let value = null; let original = null; let drawing = false; let drawn = false;
    const at = (e) => { const b = canvas.getBoundingClientRect(); return [(e.clientX - b.left) * canvas.width / b.width, (e.clientY - b.top) * canvas.height / b.height]; };
    canvas.addEventListener("pointerdown", (e) => { drawing = true; canvas.setPointerCapture(e.pointerId); pen.beginPath(); pen.moveTo(...at(e)); });
    canvas.addEventListener("pointermove", (e) => { if (!drawing) return; pen.lineTo(...at(e)); pen.stroke(); drawn = true; use.disabled = false; });
    canvas.addEventListener("pointerup", () => { drawing = false; });
    const wipe = () => { pen.clearRect(0, 0, canvas.width, canvas.height); drawn = false; use.disabled = true; };
    clear.addEventListener("click", () => { wipe(); value = null; shown.hidden = true; canvas.hidden = false; note.textContent = ""; canvas.dispatchEvent(new Event("change", { bubbles: true })); });
    use.addEventListener("click", async () => {
      if (!drawn) return;
      use.disabled = true; note.textContent = TG.t("uploading");
      const blob = await new Promise(res => canvas.toBlob(res, "image/png"));
      const r = await TG.upload(app, entity, f.name, blob, "signature.png");
      if (!r.ok) { note.textContent = refusal(r); use.disabled = false; return; }
      value = r.data; note.textContent = TG.t("signature_saved");
      canvas.dispatchEvent(new Event("change", { bubbles: true }));
    });
    return { node, input: canvas, draftable: true,
      set: (v) => { original = v || null; value = original; wipe();
        shown.hidden = !value; canvas.hidden = !!value; if (value) shown.src = fileUrl(app, value.id); },
      get: () => value, same: (v) => idsOf(v) === idsOf(original) };
  };
})();
