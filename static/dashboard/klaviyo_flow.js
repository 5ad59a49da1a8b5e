/* The Klaviyo flow panel: "Check again" and "Create the flow for me" POST with a fresh ID token,
   then the panel fragment is fetched again and swapped in (the server renders it, escaped).
   An error shows its sentence as text. */
(function () {
  "use strict";

  function call(method, url) {
    return window.notifymeIdToken().then(function (token) {
      var init = { method: method, headers: { Authorization: "Bearer " + token, Accept: "application/json" } };
      if (method === "POST") { init.headers["Content-Type"] = "application/json"; init.body = "{}"; }
      return fetch(url, init);
    });
  }

  function panel() { return document.getElementById("klaviyo-flow-panel"); }

  function reload() {
    var current = panel();
    return call("GET", current.getAttribute("data-flow-url")).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (!html) return;
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var fresh = holder.querySelector("#klaviyo-flow-panel");
      if (fresh) { current.replaceWith(fresh); fresh.querySelector("#flow-title").focus(); }
    });
  }

  function act(button, urlAttribute) {
    var current = panel();
    var error = current.querySelector("[data-flow-error]");
    button.disabled = true;
    error.hidden = true;
    call("POST", current.getAttribute(urlAttribute)).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok) return reload();
        error.textContent = (data.error && data.error.message) || "Something went wrong. Please try again.";
        error.hidden = false;
        button.disabled = false;
      });
    }).catch(function () { button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !panel()) return;
    if (target.closest("[data-flow-check]")) act(target.closest("button"), "data-flow-check-url");
    if (target.closest("[data-flow-create]")) act(target.closest("button"), "data-flow-create-url");
  });
})();
