/* Restock progress: polls GET /app/api/restocks every 2 s with a fresh ID token and redraws
   the table (text only, never HTML from the server). Stops polling while the tab is hidden. */
(function () {
  "use strict";
  var panel = document.getElementById("restocks-panel");
  if (!panel) return;
  var url = panel.getAttribute("data-restocks-url");
  var rows = panel.querySelector("[data-restocks-rows]");
  var table = panel.querySelector("[data-restocks-table]");
  var empty = panel.querySelector("[data-restocks-empty]");
  var INTERVAL = 2000;

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return seconds + " s";
    var m = Math.floor(seconds / 60), s = seconds % 60;
    if (m < 60) return m + " min " + s + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function draw(items) {
    empty.hidden = items.length > 0;
    table.hidden = items.length === 0;
    rows.textContent = "";
    items.forEach(function (r) {
      var tr = document.createElement("tr");
      cell(tr, r.product_title + (r.variant_title ? " — " + r.variant_title : "") +
               " (restock #" + r.id + ", " + r.quantity + " back)");
      cell(tr, r.state_label);
      // While the restock is still writing its deliveries the total grows: "so far".
      var sent = cell(tr, r.sent.toLocaleString() + " / " + r.total.toLocaleString() +
                          (r.materialising ? "+ so far" : "") +
                          (r.failed ? " (" + r.failed + " failed)" : ""));
      var bar = document.createElement("div");
      bar.className = "restocks-bar";
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      bar.setAttribute("aria-valuenow", String(r.percent));
      var fill = document.createElement("span");
      fill.style.width = r.percent + "%";
      bar.appendChild(fill);
      sent.appendChild(bar);
      cell(tr, r.state === "running" ? r.rate_per_second.toLocaleString() + " /s" : "—");
      cell(tr, r.state === "running" ? duration(r.eta_seconds) : "—");
      rows.appendChild(tr);
    });
  }

  function poll() {
    if (document.hidden || typeof window.notifymeIdToken !== "function") {
      setTimeout(poll, INTERVAL);
      return;
    }
    window.notifymeIdToken().then(function (token) {
      return fetch(url, { headers: { Authorization: "Bearer " + token, Accept: "application/json" } });
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data && data.restocks) draw(data.restocks);
    }).catch(function () { /* next poll retries */ }).then(function () {
      setTimeout(poll, INTERVAL);
    });
  }

  document.addEventListener("DOMContentLoaded", poll);
})();
