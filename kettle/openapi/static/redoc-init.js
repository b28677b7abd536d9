/* Starts ReDoc on a kettle docs page, with the settings the page carries as JSON. */
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("kettle-docs-config").textContent);
  Redoc.init(settings.url, settings.options || {}, document.getElementById("redoc"));
})();
