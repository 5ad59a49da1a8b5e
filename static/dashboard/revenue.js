/* Recovered revenue: saves the attribution window (POST /app/api/revenue with a fresh ID
   token), shows the field's error next to it, and re-renders the report fragment. */
(function () {
  "use strict";
  var form = document.getElementById("window-form");
  if (!form) return;
  var input = document.getElementById("window_days");
  var error = document.getElementById("window_days-error");
  var report = document.getElementById("revenue-report");
  var flash = document.getElementById("flash");

  function toast(text, critical) {
    flash.textContent = text;
    flash.className = "toast toast--visible" + (critical ? " toast--critical" : "");
    setTimeout(function () { flash.className = "toast"; }, 4000);
  }

  function showError(text) {
    error.textContent = text || "";
    error.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  function call(url, options) {
    return window.notifymeIdToken().then(function (token) {
      options.headers = Object.assign({ Authorization: "Bearer " + token }, options.headers || {});
      return fetch(url, options);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    var text = input.value.trim();
    var body = JSON.stringify({ window_days: /^\d+$/.test(text) ? parseInt(text, 10) : text });
    call(form.getAttribute("data-api-url"), {
      method: "POST", body: body, headers: { "Content-Type": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok) {
        var fields = (result.data.error || {}).fields || {};
        showError((fields.window_days || [])[0] || (result.data.error || {}).message || "Not saved.");
        return null;
      }
      toast("Saved: " + result.data.window_days + "-day window");
      return call(report.getAttribute("data-panel-url"), { method: "GET" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) report.innerHTML = html; });
    }).catch(function () { toast("Could not reach the app. Try again.", true); });
  });
})();
