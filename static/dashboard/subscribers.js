/* The Subscribers page: list (search, filters, "Load more" by cursor), remove, CSV export,
   waitlist import with live progress. Every call carries a fresh ID token; everything the
   server sends is inserted as text, never as HTML. */
(function () {
  "use strict";
  var root = document.getElementById("subscribers");
  if (!root) return;
  var listUrl = root.getAttribute("data-list-url");
  var exportUrl = root.getAttribute("data-export-url");
  var importsUrl = root.getAttribute("data-imports-url");
  var form = root.querySelector("[data-filters]");
  var rows = root.querySelector("[data-rows]");
  var count = root.querySelector("[data-count]");
  var empty = root.querySelector("[data-empty]");
  var more = root.querySelector("[data-more]");
  var emptyText = empty.textContent;
  var flash = document.getElementById("flash");
  var cursor = root.getAttribute("data-next-cursor") || null, generation = 0, timer = null;

  function say(text, tone) {
    flash.textContent = text;
    flash.className = "toast toast--visible" + (tone === "critical" ? " toast--critical" : "");
    clearTimeout(say.timer);
    say.timer = setTimeout(function () { flash.className = "toast"; }, 6000);
  }

  function call(url, options) {
    options = options || {};
    return window.notifymeIdToken().then(function (token) {
      options.headers = Object.assign({ Authorization: "Bearer " + token }, options.headers || {});
      return fetch(url, options);
    });
  }

  function errorText(response) {
    return response.json().then(function (body) {
      return (body && body.error && body.error.message) || "Something went wrong.";
    }, function () { return "Something went wrong (" + response.status + ")."; });
  }

  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) params.set(key, value); });
    return params;
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  function when(iso) { return new Date(iso).toLocaleString(); }

  function badge(text, tone) {
    var span = document.createElement("span");
    span.className = "badge" + (tone ? " badge--" + tone : "");
    span.textContent = text;
    return span;
  }

  function row(s) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-subscriber", s.id);
    var who = cell(tr, s.email || s.phone || "(redacted)");
    if (s.email && s.phone) {
      var phone = document.createElement("div");
      phone.className = "subdued";
      phone.textContent = s.phone;
      who.appendChild(phone);
    }
    cell(tr, s.product + (s.variant && s.variant !== "Default Title" ? " — " + s.variant : "") +
             (s.sku ? " (" + s.sku + ")" : ""));
    var status = cell(tr, "");
    status.appendChild(badge(s.status_label, s.status === "notified" ? "success" : ""));
    var sync = cell(tr, "");
    sync.appendChild(badge(s.sync_label, s.sync_state === "failed" ? "critical" :
                                         s.sync_state === "synced" ? "success" : ""));
    if (s.sync_error) {
      var why = document.createElement("div");
      why.className = "sub-error";
      why.textContent = s.sync_error;
      sync.appendChild(why);
    }
    cell(tr, s.created_at ? when(s.created_at) : "—");
    var actions = cell(tr, "");
    if (s.removable) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn--critical-plain";
      button.textContent = "Remove";
      button.setAttribute("aria-label", "Remove " + (s.email || s.phone));
      button.setAttribute("data-remove", s.id);
      actions.appendChild(button);
    }
    return tr;
  }

  function load(reset) {
    var mine = ++generation;
    var params = query();
    if (!reset && cursor) params.set("cursor", cursor);
    call(listUrl + "?" + params.toString()).then(function (response) {
      if (!response.ok) return errorText(response).then(function (t) { throw new Error(t); });
      return response.json();
    }).then(function (body) {
      if (mine !== generation) return;
      if (reset) rows.textContent = "";
      body.subscribers.forEach(function (s) { rows.appendChild(row(s)); });
      cursor = body.next_cursor;
      more.hidden = !cursor;
      empty.hidden = rows.children.length > 0;
      if (params.toString().replace(/(^|&)cursor=[^&]*/, "")) empty.textContent = "No subscribers match these filters.";
      else empty.textContent = emptyText;
      count.textContent = body.total.toLocaleString() + (body.total === 1 ? " subscriber" : " subscribers");
    }).catch(function (error) { if (mine === generation) say(error.message, "critical"); });
  }

  function confirmRemove(id, tr) {
    var dialog = document.getElementById("remove-dialog");
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "confirm") return;
      call(listUrl + "/" + id, { method: "DELETE" }).then(function (response) {
        if (!response.ok) return errorText(response).then(function (t) { say(t, "critical"); });
        return response.json().then(function (body) {
          tr.replaceWith(row(body.subscriber));
          say(body.removed ? "Subscriber removed." : "This subscriber was already removed.");
        });
      });
    };
    dialog.showModal();
  }

  function download(url, filename) {
    return call(url).then(function (response) {
      if (!response.ok) {
        return errorText(response).then(function (t) { say(t, "critical"); return false; });
      }
      return response.blob().then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = filename;
        document.body.appendChild(link);
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
        return true;
      });
    });
  }

  /* Imports */
  var importsBody = document.querySelector("[data-imports]");
  var importsTable = document.querySelector("[data-imports-table]");
  var importsEmpty = document.querySelector("[data-imports-empty]");
  var dialog = document.getElementById("import-dialog");
  var importForm = document.querySelector("[data-import-form]");
  var importError = document.querySelector("[data-import-error]");

  function importRow(i) {
    var tr = document.createElement("tr");
    cell(tr, i.filename || "upload #" + i.id);
    cell(tr, i.state === "done" ? "Done" : i.state_label + " — " + i.processed.toLocaleString() +
             " / " + i.total.toLocaleString());
    cell(tr, i.created.toLocaleString());
    cell(tr, i.existing.toLocaleString());
    var failed = cell(tr, i.failed.toLocaleString() + " ");
    if (i.has_errors) {
      var link = document.createElement("button");
      link.type = "button";
      link.className = "btn";
      link.textContent = "Download error report";
      link.setAttribute("data-report", i.id);
      failed.appendChild(link);
    }
    return tr;
  }

  function loadImports() {
    call(importsUrl).then(function (r) { return r.ok ? r.json() : { imports: [] }; })
      .then(function (body) {
        importsBody.textContent = "";
        body.imports.forEach(function (i) { importsBody.appendChild(importRow(i)); });
        importsTable.hidden = body.imports.length === 0;
        importsEmpty.hidden = body.imports.length > 0;
        var running = body.imports.some(function (i) { return i.state === "queued" || i.state === "running"; });
        if (running) setTimeout(function () { loadImports(); load(true); }, 2000);
      });
  }

  importForm.addEventListener("submit", function (event) {
    event.preventDefault();
    importError.hidden = true;
    call(importsUrl, { method: "POST", body: new FormData(importForm) }).then(function (response) {
      if (!response.ok) {
        return errorText(response).then(function (t) { importError.textContent = t; importError.hidden = false; });
      }
      return response.json().then(function (body) {
        var i = body.import;
        dialog.close();
        importForm.reset();
        say(i.state === "done" ? i.created + " added, " + i.existing + " already there, " +
            i.failed + " not imported." : "Importing " + i.total.toLocaleString() + " rows…");
        loadImports();
        load(true);
      });
    });
  });

  document.querySelector("[data-open-import]").addEventListener("click", function () { dialog.showModal(); });
  document.querySelector("[data-close-import]").addEventListener("click", function () { dialog.close(); });
  document.querySelector("[data-export]").addEventListener("click", function () {
    say("Preparing your export…");
    download(exportUrl + "?" + query().toString(), "subscribers.csv").then(function (ok) {
      if (ok) say("Export downloaded.");
    });
  });
  more.addEventListener("click", function () { load(false); });
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { load(true); }, 250); });
  form.addEventListener("submit", function (event) { event.preventDefault(); load(true); });
  rows.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove]");
    if (button) confirmRemove(button.getAttribute("data-remove"), button.closest("tr"));
  });
  importsBody.addEventListener("click", function (event) {
    var button = event.target.closest("[data-report]");
    if (!button) return;
    var id = button.getAttribute("data-report");
    download(importsUrl + "/" + id + "/errors.csv", "import-" + id + "-errors.csv");
  });
  // The first page and the recent imports came with the document (no layout shift); only
  // the times are put in the merchant's own locale, and a running import is polled.
  document.querySelectorAll("time[data-local]").forEach(function (t) {
    t.textContent = when(t.getAttribute("datetime"));
  });
  if (importsBody.querySelector("[data-running]")) loadImports();
})();
