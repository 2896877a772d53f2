// "Back" links that return to the form the user came from (with its edits), as history.back() does;
// without history they follow their href. Static, so the Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a[data-history-back]");
    if (!link || window.history.length < 2) return;
    e.preventDefault();
    window.history.back();
  });
})();
