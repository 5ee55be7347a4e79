// Starts the vendored Swagger UI on /docs (a static file: the site's CSP allows no inline script).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") return;
    window.SwaggerUIBundle({
      url: root.getAttribute("data-openapi-url"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  });
})();
