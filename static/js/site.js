// Small behaviours shared by every page, kept out of the HTML so the
// Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  // A filter <select data-autosubmit> applies as soon as it changes.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
})();
