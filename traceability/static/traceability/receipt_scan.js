// Receiving by scan: keep the cursor in the scan field (a scanner types wherever the focus is) and clear
// the form after each scan. Kept out of the page so the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  function start() {
    var field = document.getElementById("id_raw");
    if (!field) return;
    document.addEventListener("click", function (e) {
      if (!e.target.closest("a, button, input, select, textarea, label, summary")) field.focus();
    });
    document.body.addEventListener("htmx:afterSwap", function () {
      var empty = document.getElementById("scan-empty"); if (empty) empty.remove();
      field.focus();
    });
    document.body.addEventListener("htmx:afterRequest", function (e) {
      var form = e.target.closest && e.target.closest("form[data-reset-after-request]");
      if (form) { form.reset(); if (form.elements.raw) form.elements.raw.focus(); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
