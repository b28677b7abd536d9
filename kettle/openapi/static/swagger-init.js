/* Starts Swagger UI on a kettle docs page.
 *
 * The page carries its settings as JSON in <script id="kettle-docs-config">, so this file
 * is the same for every app and the page needs no inline script (its Content-Security-
 * Policy allows scripts from the app only). */
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("kettle-docs-config").textContent);
  var options = {};
  var defaults = settings.parameters || {};
  Object.keys(defaults).forEach(function (key) {
    options[key] = defaults[key];
  });
  options.url = settings.url;
  options.dom_id = "#swagger-ui";
  options.presets = [SwaggerUIBundle.presets.apis];
  options.layout = "BaseLayout";
  if (settings.oauth2RedirectUrl) {
    // Swagger UI hands this to the identity provider: it must be an absolute URL.
    options.oauth2RedirectUrl = new URL(settings.oauth2RedirectUrl, window.location.href).href;
  }
  var ui = SwaggerUIBundle(options);
  if (settings.initOAuth) {
    ui.initOAuth(settings.initOAuth);
  }
  window.ui = ui;
})();
