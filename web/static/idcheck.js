/* Checks the resident ID number as it is typed, by asking the server (the same check as on submit). */
(function () {
  "use strict";
  var input = document.querySelector("[data-check-url]");
  var out = document.querySelector("[data-id-result]");
  if (!input || !out || !window.fetch) { return; }
  var url = input.getAttribute("data-check-url");
  var timer = null;
  var last = null;
  function check() {
    var value = input.value.trim();
    if (value === last) { return; }
    last = value;
    if (value.length < 15) { out.textContent = ""; out.className = "hint"; return; }
    fetch(url + "?value=" + encodeURIComponent(value), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (input.value.trim() !== value) { return; }
        out.textContent = data.ok ? ("✓ " + data.text) : ("✗ " + data.error);
        out.className = data.ok ? "hint ok" : "error-text";
        input.setAttribute("aria-invalid", data.ok ? "false" : "true");
      })
      .catch(function () { /* offline: the server checks again on submit */ });
  }
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 300); });
  input.addEventListener("blur", check);
  if (input.value) { check(); }
}());
