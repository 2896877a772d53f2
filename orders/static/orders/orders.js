// Order entry: after a line is added (picked or scanned), clear the search and keep the cursor there,
// so a scanner can add the next product at once. The totals refresh on the same event (htmx trigger).
// Handlers live here, not in hx-on attributes: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  document.body.addEventListener("lines-changed", function () {
    var search = document.getElementById("product-search");
    var results = document.getElementById("product-results");
    if (results) results.innerHTML = "";
    if (search) { search.value = ""; search.focus(); }
  });
  // Enter in a search field never submits the order form; in the product search it adds the exact match.
  document.body.addEventListener("keydown", function (e) {
    var field = e.target.closest && e.target.closest("[data-enter]");
    if (!field || e.key !== "Enter") return;
    e.preventDefault();
    if (field.dataset.enter !== "ignore") htmx.trigger("#" + field.dataset.enter, "scan");
  });
  document.body.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-remove-line]");
    if (!button) return;
    button.closest("tr").remove();
    htmx.trigger(document.body, "lines-changed");
  });
})();
