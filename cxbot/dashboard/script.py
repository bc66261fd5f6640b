"""The page's one script (served at /dashboard/static/dashboard.js): plain JavaScript, no
library, no build step. It listens to /dashboard/events and, on a change, re-fetches
/api/dashboard for the same query and swaps the rendered part; without EventSource (or when
the stream is refused) it polls every 2 s instead. Kept in a Python string so serving it
reads no file on the event loop."""

SCRIPT = r"""
(function () {
  "use strict";
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  if (!main) { return; }
  var q = main.getAttribute("data-q") || "";
  var busy = false, again = false, timer = null;
  function say(text) { if (live) { live.textContent = text; } }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch("/api/dashboard?html=1&q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (d) {
        if (d && d.html) {
          main.innerHTML = d.html;
          say("live · " + new Date().toLocaleTimeString());
        }
      })
      .catch(function () { say("offline"); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }
  function poll() {
    if (timer === null) { timer = window.setInterval(refresh, 2000); say("polling"); }
  }
  if (!window.EventSource) { poll(); return; }
  var es = new EventSource("/dashboard/events");
  es.addEventListener("change", refresh);
  es.onopen = function () {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
    say("live");
    refresh();  // what changed between the page's rendering and the stream's opening
  };
  es.onerror = function () { if (es.readyState === EventSource.CLOSED) { poll(); } };
})();
"""
