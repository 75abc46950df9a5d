// The request page's live section: while the request is unfinished, fetch
// the section again every few seconds and swap it in. Without JavaScript the
// page reloads itself (a <noscript> refresh) instead.
(function () {
  "use strict";
  var box = document.getElementById("live-box");
  if (!box) { return; }
  var url = location.pathname + "?live=1";
  function done() {
    var live = document.getElementById("live");
    return live && live.getAttribute("data-done") === "true";
  }
  function tick() {
    if (done()) { return; }
    fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("status " + r.status); } return r.text(); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* a missed poll: the next one retries */ })
      .then(function () { if (!done()) { setTimeout(tick, 2000); } });
  }
  setTimeout(tick, 2000);
})();
