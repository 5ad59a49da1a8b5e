/* The settings page's requests: every action calls the JSON API with a fresh ID token, then
   re-renders the server-side status panel. The pasted key is sent once and cleared at once. */
(function () {
  "use strict";
  var API = "/app/api/klaviyo";
  var panel = document.getElementById("klaviyo-panel");
  var flash = document.getElementById("flash");
  var dialog = document.getElementById("disconnect-dialog");

  function announce(text, tone) {
    flash.textContent = text;
    flash.className = "toast toast--visible" + (tone === "critical" ? " toast--critical" : "");
    clearTimeout(announce.timer);
    announce.timer = setTimeout(function () { flash.className = "toast"; }, 6000);
  }

  function call(method, path, body) {
    return window.notifymeIdToken().then(function (token) {
      var init = { method: method, headers: { Authorization: "Bearer " + token, Accept: "application/json" } };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(path, init);
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var parsed = type.indexOf("json") >= 0 ? response.json() : response.text();
      return parsed.then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    });
  }

  function refreshPanel(focusSelector) {
    return call("GET", panel.getAttribute("data-panel-url")).then(function (result) {
      if (!result.ok) return;
      panel.innerHTML = result.data;
      var target = panel.querySelector(focusSelector || "#status-title");
      if (target) target.focus();
    });
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var banner = form.querySelector("[data-form-error]");
    if (banner) { banner.hidden = true; banner.textContent = ""; }
  }

  function errorBlock(error) {
    var block = document.createElement("div");
    var p = document.createElement("p");
    p.textContent = error.message || "Something went wrong. Please try again.";
    block.appendChild(p);
    if (error.missing_scopes && error.missing_scopes.length) {
      var intro = document.createElement("p");
      intro.className = "label";
      intro.textContent = "Missing permissions:";
      var list = document.createElement("ul");
      list.className = "scopes scopes--missing";
      error.missing_scopes.forEach(function (scope) {
        var li = document.createElement("li");
        var code = document.createElement("code");
        code.textContent = scope;
        li.appendChild(code);
        list.appendChild(li);
      });
      block.appendChild(intro);
      block.appendChild(list);
    }
    return block;
  }

  function showError(form, result) {
    var error = (result.data && result.data.error) || { message: "Something went wrong (" + result.status + "). Please try again." };
    if (result.status === 401) error = { message: "Your session expired. Reload the page and try again." };
    var fields = error.fields || {};
    var shown = false;
    Object.keys(fields).forEach(function (name) {
      var slot = form.querySelector('[data-error-for="' + name + '"]');
      var input = form.querySelector('[name="' + name + '"]');
      if (!slot) return;
      slot.innerHTML = "";
      slot.appendChild(errorBlock(error));
      slot.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (input.closest("details")) input.closest("details").open = true;
        input.focus();
      }
      shown = true;
    });
    if (!shown) {
      var banner = form.querySelector("[data-form-error]");
      if (banner) {
        banner.innerHTML = "";
        banner.appendChild(errorBlock(error));
        banner.hidden = false;
      }
    }
    announce(shown ? "Not saved: see the message next to the field." : error.message, "critical");
  }

  function busy(form, on) {
    form.querySelectorAll("button").forEach(function (b) { b.disabled = on; });
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function submitConnect(form) {
    var keyInput = form.querySelector('[name="private_key"]');
    var listInput = form.querySelector('[name="list_id"]');
    var body = { private_key: keyInput.value };
    keyInput.value = "";  // never keep the pasted key in the page
    if (listInput && listInput.value.trim()) body.list_id = listInput.value.trim();
    announce("Checking your key with Klaviyo…");
    return call("POST", API + "/connect", body).then(function (result) {
      if (!result.ok) { showError(form, result); return; }
      announce("Connected to Klaviyo account " + (result.data.account ? result.data.account.name : "") + ". Syncing.");
      return refreshPanel();
    });
  }

  function submitList(form, create) {
    var body = create ? { create_name: form.querySelector('[name="create_name"]').value }
                      : { list_id: form.querySelector('[name="list_id"]').value };
    return call("POST", API + "/list", body).then(function (result) {
      if (!result.ok) { showError(form, result); return; }
      announce("Subscribers now sync to " + (result.data.list ? result.data.list.name : "the chosen list") + ".");
      return refreshPanel();
    });
  }

  function loadLists(button) {
    var form = button.closest("form");
    var select = form.querySelector("select");
    clearErrors(form);
    button.disabled = true;
    return call("GET", API + "/lists").then(function (result) {
      button.disabled = false;
      if (!result.ok) { showError(form, result); return; }
      var current = select.getAttribute("data-current");
      select.innerHTML = "";
      result.data.lists.forEach(function (item) {
        var option = document.createElement("option");
        option.value = item.id;
        option.textContent = item.name + " (" + item.id + ")";
        option.selected = item.id === current;
        select.appendChild(option);
      });
      announce(result.data.lists.length + " lists loaded.");
      select.focus();
    });
  }

  function retest(button) {
    button.disabled = true;
    announce("Re-testing your key with Klaviyo…");
    return call("POST", API + "/retest").then(function (result) {
      if (!result.ok) {
        announce((result.data && result.data.error && result.data.error.message) || "The test failed.", "critical");
      } else {
        announce("Verified: the key has every permission the app needs.");
      }
      return refreshPanel();
    });
  }

  function disconnect() {
    return call("POST", API + "/disconnect").then(function (result) {
      if (!result.ok) { announce("Could not disconnect. Please try again.", "critical"); return; }
      announce("Disconnected. Subscribers wait here until you connect again.");
      return refreshPanel();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var action = form.getAttribute("data-action");
    if (!action) return;
    event.preventDefault();
    clearErrors(form);
    busy(form, true);
    var done = action === "connect" ? submitConnect(form)
      : action === "list" ? submitList(form, false)
      : action === "create-list" ? submitList(form, true) : Promise.resolve();
    done.catch(function () {
      announce("Could not reach the app. Check your connection and try again.", "critical");
    }).then(function () { if (document.body.contains(form)) busy(form, false); });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var action = button.getAttribute("data-action");
    var failed = function () { button.disabled = false; announce("Could not reach the app. Please try again.", "critical"); };
    if (action === "retest") retest(button).catch(failed);
    if (action === "load-lists") loadLists(button).catch(failed);
    if (action === "disconnect") {
      if (dialog && typeof dialog.showModal === "function") {
        dialog.returnValue = "";
        dialog.showModal();
      } else if (window.confirm("Disconnect Klaviyo? Subscribers are kept and sync when you reconnect.")) {
        disconnect().catch(failed);
      }
    }
  });

  if (dialog) {
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "confirm") disconnect().catch(function () {
        announce("Could not reach the app. Please try again.", "critical");
      });
    });
  }
})();
