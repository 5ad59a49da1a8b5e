/* Catalog sync panel: polls GET /app/api/catalog/sync every 2 s with a fresh ID token while a
   sync runs (every 30 s otherwise) and draws its progress bar; "Re-sync catalog" POSTs a full
   re-sync (409: one is already running). Text only, never HTML from the server. */
(function () {
  "use strict";
  var panel = document.getElementById("catalog-sync-panel");
  if (!panel) return;
  var url = panel.getAttribute("data-catalog-sync-url");
  var status = panel.querySelector("[data-catalog-sync-status]");
  var bar = panel.querySelector("[data-catalog-sync-bar]");
  var fill = bar.querySelector("span");
  var error = panel.querySelector("[data-catalog-sync-error]");
  var button = panel.querySelector("[data-catalog-sync-start]");
  var FAST = 2000, SLOW = 30000, timer = null;

  function count(n) { return n === null || n === undefined ? "?" : n.toLocaleString(); }

  function draw(s) {
    if (!s) { status.textContent = "Not synced yet."; bar.hidden = true; button.disabled = false; return false; }
    var running = s.state === "queued" || s.state === "running";
    var what = count(s.done_variants) + " of " + count(s.total_variants) + " variants (" +
               count(s.done_products) + " of " + count(s.total_products) + " products)";
    status.textContent = s.state_label + (s.mode && s.mode !== "auto" ? " · " + s.mode : "") +
                         " · " + what + " · " + s.percent + "%";
    bar.hidden = false;
    bar.setAttribute("aria-valuenow", String(s.percent));
    fill.style.width = s.percent + "%";
    error.hidden = !s.error;
    error.textContent = s.error || "";
    button.disabled = running;
    return running;
  }

  function call(method) {
    return window.notifymeIdToken().then(function (token) {
      var init = { method: method, headers: { Authorization: "Bearer " + token, Accept: "application/json" } };
      if (method === "POST") { init.headers["Content-Type"] = "application/json"; init.body = "{}"; }
      return fetch(url, init);
    }).then(function (response) { return response.json(); });
  }

  function schedule(ms) { clearTimeout(timer); timer = setTimeout(poll, ms); }

  function poll() {
    if (document.hidden || typeof window.notifymeIdToken !== "function") { schedule(FAST); return; }
    call("GET").then(function (data) {
      schedule(draw(data && data.sync) ? FAST : SLOW);
    }).catch(function () { schedule(FAST); });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    call("POST").then(function (data) {
      draw(data.sync || (data.error && data.error.sync) || null);
      schedule(FAST);
    }).catch(function () { button.disabled = false; });
  });

  document.addEventListener("DOMContentLoaded", poll);
})();
