// Order entry: after a line is added (picked or scanned), clear the search and keep the cursor there,
// so a scanner can add the next product at once. The totals refresh on the same event (htmx trigger).
(function () {
  "use strict";
  document.body.addEventListener("lines-changed", function () {
    var search = document.getElementById("product-search");
    var results = document.getElementById("product-results");
    if (results) results.innerHTML = "";
    if (search) { search.value = ""; search.focus(); }
  });
})();
