/* Restock progress: polls GET /app/api/restocks every 2 s with a fresh ID token and redraws
   the table the server drew first (same markup; text only, never HTML from the server).
   Stops polling while the tab is hidden, and slows down once nothing is sending. */
(function () {
  "use strict";
  var panel = document.getElementById("restocks-panel");
  if (!panel) return;
  var url = panel.getAttribute("data-restocks-url");
  var rows = panel.querySelector("[data-restocks-rows]");
  var table = panel.querySelector("[data-restocks-table]");
  var empty = panel.querySelector("[data-restocks-empty]");
  var FAST = 2000, SLOW = 10000;

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return seconds + " s";
    var m = Math.floor(seconds / 60), s = seconds % 60;
    if (m < 60) return m + " min " + s + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function clock(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
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
      tr.setAttribute("data-restock-id", String(r.id));
      cell(tr, r.product_title + (r.variant_title ? " — " + r.variant_title : "") +
               " (restock #" + r.id + ", " + r.quantity + " back)");
      var outcome = cell(tr, "");
      var badge = document.createElement("span");
      badge.className = "badge badge--" + r.state;
      badge.textContent = r.state_label;
      var sentence = document.createElement("div");
      sentence.className = "subdued restocks-outcome";
      sentence.textContent = r.outcome;
      outcome.appendChild(badge);
      outcome.appendChild(sentence);
      // While the restock is still writing its deliveries the total grows: "so far".
      var sent = cell(tr, r.sent.toLocaleString("en-US") + " / " + r.total.toLocaleString("en-US") +
                          (r.materialising ? "+ so far" : "") +
                          (r.failed ? " (" + r.failed.toLocaleString("en-US") + " failed)" : ""));
      var bar = document.createElement("div");
      bar.className = "restocks-bar";
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-label", "Alerts sent");
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      bar.setAttribute("aria-valuenow", String(r.percent));
      var fill = document.createElement("span");
      fill.style.width = r.percent + "%";
      bar.appendChild(fill);
      sent.appendChild(bar);
      var batches = r.send_mode === "batched" ? "Batches of " + (r.batch_size || 0).toLocaleString("en-US") : "All at once";
      if (r.state === "running" && r.next_batch_at) batches += ", next at " + clock(r.next_batch_at);
      cell(tr, batches);
      cell(tr, r.state === "running" ? r.rate_per_second.toLocaleString("en-US") + " /s" : "—");
      cell(tr, r.state === "running" ? duration(r.eta_seconds) : "—");
      rows.appendChild(tr);
    });
  }

  function poll() {
    var next = FAST;
    if (document.hidden || typeof window.notifymeIdToken !== "function") {
      setTimeout(poll, next);
      return;
    }
    window.notifymeIdToken().then(function (token) {
      return fetch(url, { headers: { Authorization: "Bearer " + token, Accept: "application/json" } });
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data || !data.restocks) return;
      draw(data.restocks);
      var sending = data.restocks.some(function (r) { return r.state === "running"; });
      if (!sending) next = SLOW;
    }).catch(function () { /* next poll retries */ }).then(function () {
      setTimeout(poll, next);
    });
  }

  // Deferred scripts (token.js among them) have all run by DOMContentLoaded.
  if (document.readyState === "complete") poll();
  else document.addEventListener("DOMContentLoaded", poll);
})();
