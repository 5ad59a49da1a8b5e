/* The bounce page: App Bridge (real admin) fetches a fresh ID token and reloads `shopify-reload`
   by itself. In the local admin stand-in there is no App Bridge, so ask the frame for a token. */
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var target = params.get("shopify-reload") || "/app/";
  if (target.charAt(0) !== "/" || target.charAt(1) === "/") target = "/app/";
  if (window.shopify) return;  // App Bridge handles the reload
  if (window.parent === window) {
    // Opened outside the Shopify admin: say where the app lives instead of a blank page.
    var p = document.createElement("p");
    p.style.cssText = "max-width:480px;margin:15vh auto;padding:20px 24px;background:#fff;border-radius:12px";
    p.textContent = "notifyme runs inside your Shopify admin. Open it from Apps in the admin.";
    var dev = document.body.getAttribute("data-dev-admin-url");
    if (dev) {
      var a = document.createElement("a");
      a.href = dev;
      a.textContent = " Locally: open the admin stand-in.";
      p.appendChild(a);
    }
    document.body.appendChild(p);
    return;
  }
  var requestId = Math.random().toString(36).slice(2);
  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (event.source !== window.parent || event.origin !== window.location.origin) return;
    if (data.type !== "notifyme:id-token" || data.requestId !== requestId) return;
    var url = new URL(target, window.location.origin);
    url.searchParams.set("id_token", data.token);
    window.location.replace(url.pathname + url.search);
  });
  window.parent.postMessage({ type: "notifyme:id-token-request", requestId: requestId }, "*");
})();
