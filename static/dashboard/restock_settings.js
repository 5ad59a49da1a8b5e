/* The Restocks page's two forms: sending settings (POST /app/api/restocks/settings) and the
   locations that count (POST /app/api/locations), each with a fresh ID token. A refused value
   is shown under its field (the API names it); nothing is saved unless everything is valid. */
(function () {
  "use strict";
  var flash = document.getElementById("flash");

  function announce(text, tone) {
    flash.textContent = text;
    flash.className = "toast toast--visible" + (tone === "critical" ? " toast--critical" : "");
    clearTimeout(announce.timer);
    announce.timer = setTimeout(function () { flash.className = "toast"; }, 5000);
  }

  function post(url, body) {
    return window.notifymeIdToken().then(function (token) {
      return fetch(url, {
        method: "POST", body: JSON.stringify(body),
        headers: { Authorization: "Bearer " + token, Accept: "application/json",
                   "Content-Type": "application/json" }
      });
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var banner = form.querySelector("[data-form-error]");
    banner.hidden = true; banner.textContent = "";
  }

  function showError(form, error) {
    var fields = (error && error.fields) || {};
    var shown = false;
    Object.keys(fields).forEach(function (name) {
      var slot = form.querySelector('[data-error-for="' + name + '"]');
      if (!slot) return;
      slot.textContent = fields[name].join(" ");
      slot.hidden = false;
      shown = true;
      var input = form.querySelector('[name="' + name + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    });
    if (!shown) {
      var banner = form.querySelector("[data-form-error]");
      banner.textContent = (error && error.message) || "Something went wrong. Please try again.";
      banner.hidden = false;
    }
  }

  function submit(form, body, done) {
    var button = form.querySelector('button[type="submit"]');
    clearErrors(form);
    button.disabled = true;
    post(form.getAttribute("data-url"), body).then(function (result) {
      if (result.ok) { announce(done); return; }
      showError(form, result.data && result.data.error);
      announce("Not saved: check the highlighted field.", "critical");
    }).catch(function () {
      showError(form, { message: "Could not reach the app. Check your connection and try again." });
    }).then(function () { button.disabled = false; });
  }

  var settings = document.querySelector("[data-settings-form]");
  if (settings) {
    var batchFields = settings.querySelector("[data-batch-fields]");
    var syncBatch = function () {
      var mode = settings.querySelector('input[name="send_mode"]:checked');
      var batched = mode && mode.value === "batched";
      batchFields.querySelectorAll("input").forEach(function (input) { input.disabled = !batched; });
    };
    settings.addEventListener("change", syncBatch);
    syncBatch();
    settings.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {};
      ["threshold", "cooldown_hours", "subscribers_per_unit", "batch_interval_minutes"].forEach(function (name) {
        var input = settings.querySelector('[name="' + name + '"]');
        if (!input.disabled) body[name] = input.value.trim();
      });
      var mode = settings.querySelector('input[name="send_mode"]:checked');
      if (mode) body.send_mode = mode.value;
      submit(settings, body, "Sending settings saved.");
    });
  }

  var locations = document.querySelector("[data-locations-form]");
  if (locations && locations.querySelector('input[name="mode"]')) {
    var boxes = locations.querySelectorAll('input[name="location_ids"]');
    var syncMode = function () {
      var chosen = locations.querySelector('input[name="mode"]:checked').value === "chosen";
      boxes.forEach(function (box) { box.disabled = !chosen; });
    };
    locations.addEventListener("change", syncMode);
    syncMode();
    locations.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = locations.querySelector('input[name="mode"]:checked').value === "chosen";
      var ids = null;
      if (chosen) {
        ids = [];
        boxes.forEach(function (box) { if (box.checked) ids.push(box.value); });
      }
      submit(locations, { location_ids: ids }, "Locations saved.");
    });
  }
})();
