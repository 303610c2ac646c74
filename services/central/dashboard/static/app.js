// Anshin dashboard glue (no build step): server push, local times, CSRF header for htmx.
// Pages work without this file; it only makes them live.
(function () {
  "use strict";

  // Times arrive as UTC in <time datetime>; show them in the viewer's own zone and language.
  function localiseTimes(root) {
    var lang = document.documentElement.lang || undefined;
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) {
        el.textContent = d.toLocaleString(lang, { dateStyle: "short", timeStyle: "medium" });
        el.title = el.getAttribute("datetime");
      }
    });
  }

  // Server-sent events: the server says which kind of thing changed ("queue", "events");
  // elements listening with hx-trigger="anshin:queue from:body" reload their part.
  function connect(url) {
    var status = document.getElementById("live-status");
    function show(online) {
      if (!status) return;
      status.textContent = online ? status.dataset.live : status.dataset.offline;
      status.className = online ? "live online" : "live offline";
    }
    var source = new EventSource(url);
    source.onopen = function () { show(true); };
    source.onerror = function () { show(false); };  // the browser reconnects by itself
    ["queue", "events"].forEach(function (kind) {
      source.addEventListener(kind, function (e) {
        document.body.dispatchEvent(new CustomEvent("anshin:" + kind, { detail: JSON.parse(e.data) }));
      });
    });
  }

  // Never replace a form someone is filling in (a colleague's decision still shows on the next refresh).
  function editing(el) {
    if (el.contains(document.activeElement) && document.activeElement !== document.body) return true;
    return Array.prototype.some.call(el.querySelectorAll("textarea, select"), function (f) { return f.value !== ""; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localiseTimes(document);
    var url = document.body.dataset.stream;
    if (url && window.EventSource) connect(url);
    document.body.addEventListener("htmx:afterSwap", function (e) { localiseTimes(e.target); });
    document.body.addEventListener("htmx:beforeRequest", function (e) {
      var el = e.detail.elt;
      if (el && el.hasAttribute && el.hasAttribute("data-keep-while-editing") && editing(el)) e.preventDefault();
    });
  });
})();
