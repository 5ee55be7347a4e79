// Starts the vendored ReDoc on /redoc (a static file: the site's CSP allows no inline script).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("redoc");
    if (!root || !window.Redoc) return;
    // disableSearch: ReDoc's search runs in a blob: worker, which script-src 'self' forbids.
    window.Redoc.init(root.getAttribute("data-openapi-url"), { disableSearch: true, hideDownloadButton: false }, root);
  });
})();
