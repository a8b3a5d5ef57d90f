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
  var html = document.documentElement;
  var zh = html.lang !== "en";
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = zh ? "正在定位…" : "Finding your position…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lon.value = pos.coords.longitude.toFixed(6);
      if (source) { source.value = "gps"; }
      var metres = Math.round(pos.coords.accuracy || 0);
      status.textContent = zh ? ("已用手机定位（误差约 " + metres + " 米）")
                              : ("Position from this phone (about " + metres + " m accurate)");
    }, function (err) {
      status.textContent = zh ? ("无法定位：" + err.message + "；将使用村的位置。")
                              : ("Could not find the position: " + err.message + "; the village's point will be used.");
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
  [lat, lon].forEach(function (input) {
    input.addEventListener("input", function () { if (source) { source.value = "typed"; } });
  });
}());
