/* The page an OAuth2 provider sends the browser back to after Swagger UI's "Authorize".
 *
 * Swagger UI opened this page's window and left, on itself (the opener), an object
 * `swaggerUIRedirectOauth2` with the flow's state and two callbacks. This script reads the
 * provider's answer from the URL (the fragment for the implicit flow, the query string for
 * the authorization-code flow), hands it to those callbacks and closes the window. */
(function () {
  "use strict";

  function answerFrom(location) {
    var fragment = location.hash.replace(/^#/, "");
    var raw = /(^|&)(code|token|access_token|error)=/.test(fragment)
      ? fragment
      : location.search.replace(/^\?/, "");
    var answer = {};
    raw.split("&").forEach(function (pair) {
      if (!pair) {
        return;
      }
      var at = pair.indexOf("=");
      var key = at < 0 ? pair : pair.slice(0, at);
      var value = at < 0 ? "" : pair.slice(at + 1);
      answer[decodeURIComponent(key.replace(/\+/g, " "))] = decodeURIComponent(
        value.replace(/\+/g, " ")
      );
    });
    return answer;
  }

  function finish() {
    var pending = window.opener && window.opener.swaggerUIRedirectOauth2;
    if (!pending) {
      document.body.textContent = "No authorization is waiting for this page.";
      return;
    }
    var answer = answerFrom(window.location);
    var auth = pending.auth;
    var stateMatches = answer.state === pending.state;
    var flow = auth.schema.get("flow");
    var codeFlow =
      flow === "accessCode" || flow === "authorizationCode" || flow === "authorization_code";

    if (codeFlow && !auth.code) {
      if (!stateMatches) {
        pending.errCb({
          authId: auth.name,
          source: "auth",
          level: "warning",
          message:
            "The authorization server did not return the state this page sent: " +
            "the authorization may be unsafe.",
        });
      }
      if (answer.code) {
        delete pending.state;
        auth.code = answer.code;
        pending.callback({ auth: auth, redirectUrl: pending.redirectUrl });
      } else {
        var reason = answer.error
          ? "[" + answer.error + "]: " +
            (answer.error_description || "no description") +
            (answer.error_uri ? " More info: " + answer.error_uri : "")
          : "The authorization server returned no code.";
        pending.errCb({ authId: auth.name, source: "auth", level: "error", message: reason });
      }
    } else {
      pending.callback({
        auth: auth,
        token: answer,
        isValid: stateMatches,
        redirectUrl: pending.redirectUrl,
      });
    }
    window.close();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", finish);
  } else {
    finish();
  }
})();
