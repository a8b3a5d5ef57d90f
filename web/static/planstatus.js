/* Polls a running plan's status and reloads the page when it has finished. */
(function () {
  "use strict";
  var box = document.querySelector("[data-plan-status-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-plan-status-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-plan-status-text]");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (bar) { bar.value = data.progress; }
        if (text) { text.textContent = data.status_label + " · " + Math.round(data.progress * 100) + "%"; }
        if (data.status === "queued" || data.status === "running") { setTimeout(poll, 2000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1500);
}());
