/* "Use my location": fills latitude and longitude from the phone's GPS (navigator.geolocation).
   Without it (or if refused) the fields stay blank and the server uses the region's point. */
(function () {
  "use strict";
  var button = document.querySelector("[data-geo-button]");
  if (!button || !("geolocation" in navigator)) { return; }
  var lat = document.querySelector("[data-geo-lat]");
  var lon = document.querySelector("[data-geo-lon]");
  var source = document.querySelector("[data-geo-source]");
  var status = document.querySelector("[data-geo-status]");
  // The words come from the page (data- attributes, in the page's language); the browser's own
  // error text is English whatever the page says, so only its code is used.
  var say = status.dataset;
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = say.finding;
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lon.value = pos.coords.longitude.toFixed(6);
      if (source) { source.value = "gps"; }
      var metres = Math.round(pos.coords.accuracy || 0);
      status.textContent = say.found.replace("{m}", String(metres));
    }, function (err) {
      status.textContent = err.code === 1 ? say.denied : (err.code === 3 ? say.timeout : say.unavailable);
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
  [lat, lon].forEach(function (input) {
    input.addEventListener("input", function () { if (source) { source.value = "typed"; } });
  });
}());
