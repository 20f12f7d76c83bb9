/* A public form (anyone with the link, nobody signed in): the form renderer fed with the
   description the page carries, its live state from the public state route, and a submission
   that answers thanks and never a record. */
"use strict";
(function () {
  const { token, description, challenge, honeypot } = TG.page;
  const base = TG.prefix + "/public/" + encodeURIComponent(token);

  document.addEventListener("DOMContentLoaded", async () => {
    const form = await new TG.FormRenderer(document.getElementById("form-body"), description,
      { app: null, meta: null, recordId: null, stateUrl: base + "/state" }).render({});
    form.original = {};
    const errorBox = document.getElementById("form-error");
    const root = document.getElementById("public-form");
    root.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = document.getElementById("submit");
      button.disabled = true; errorBox.hidden = true;
      await form.settle();
      const r = await TG.api("POST", base, { values: form.values(false), challenge, [honeypot]: root.elements[honeypot].value });
      button.disabled = false;
      if (r.ok) {
        root.hidden = true;
        document.getElementById("thanks-text").textContent = r.data.message;
        document.getElementById("thanks").hidden = false;
        return;
      }
      const rest = form.setErrors((r.error && r.error.problems) || []);
      errorBox.textContent = rest.length || !(r.error && r.error.problems && r.error.problems.length) ? TG.errorText(r.error) : TG.t("fix_errors");
      errorBox.hidden = false;
    });
  });
})();
