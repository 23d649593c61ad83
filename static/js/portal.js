// Progressive enhancement only: every page works without this file.
// - Moves focus to an error summary so screen readers read it at once.
// - Disables a submit button after the first click, so a slow network does not send a form twice.
(function () {
  "use strict";
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]:not([name])");
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  });
  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
})();
