/* Global Privacy Control on the consent page (requests_app/gpc.py).
 * Browsers that expose navigator.globalPrivacyControl without sending Sec-GPC (or pages opened
 * before the header existed) report the signal here: every consent form says so (the server then
 * asks before a conflicting "I agree"), and a live sale/sharing consent is withdrawn once. */
(function () {
  "use strict";
  if (navigator.globalPrivacyControl !== true) {
    return;
  }
  document.querySelectorAll("input[data-gpc-field]").forEach(function (field) {
    field.value = "1";
  });
  var form = document.getElementById("gpc-form");
  if (form && form.dataset.gpcPending === "true") {
    var key = "gpc-reported:" + window.location.pathname;
    if (!window.sessionStorage.getItem(key)) {
      window.sessionStorage.setItem(key, "1");
      form.submit();
    }
  }
})();
