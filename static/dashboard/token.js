/* Where the page gets its ID token: Shopify App Bridge in the real admin (`shopify.idToken()`),
   otherwise the local admin stand-in, asked over postMessage. Same page code in both. */
(function () {
  "use strict";
  function fromParent() {
    return new Promise(function (resolve, reject) {
      // No parent (the frame was just detached by a reload) or not embedded: no token.
      if (!window.parent || window.parent === window) { reject(new Error("not embedded")); return; }
      var requestId = Math.random().toString(36).slice(2);
      var timer = setTimeout(function () {
        window.removeEventListener("message", onMessage);
        reject(new Error("no ID token from the admin frame"));
      }, 5000);
      function onMessage(event) {
        var data = event.data || {};
        if (event.source !== window.parent || event.origin !== window.location.origin) return;
        if (data.type !== "notifyme:id-token" || data.requestId !== requestId) return;
        clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        resolve(data.token);
      }
      window.addEventListener("message", onMessage);
      var parent = window.parent;
      if (!parent) { clearTimeout(timer); window.removeEventListener("message", onMessage); reject(new Error("detached")); return; }
      parent.postMessage({ type: "notifyme:id-token-request", requestId: requestId }, "*");
    });
  }
  window.notifymeIdToken = function () {
    if (window.shopify && typeof window.shopify.idToken === "function") {
      return window.shopify.idToken();
    }
    return fromParent();
  };
})();
