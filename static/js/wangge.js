/* The pages' few behaviours, from a file: the Content Security Policy allows no inline script. */
(function () {
  "use strict";

  /* The language switch submits itself (a button remains for browsers without script). */
  function languageSwitch() {
    var select = document.querySelector("#language-form select[name=language]");
    if (select) { select.addEventListener("change", function () { select.form.submit(); }); }
  }

  /* One tap, one step: a second tap on a slow connection would only be refused, or log twice. */
  function oneTap(selector) {
    document.querySelectorAll(selector).forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("button[type=submit]");
        if (button) { button.disabled = true; }
      });
    });
  }

  /* Suggest the households of the chosen grid in the household box. */
  function householdSuggestions() {
    var grid = document.getElementById("id_grid"), input = document.getElementById("id_household");
    if (!grid || !input || !document.getElementById("register-form")) { return; }
    function link() {
      var list = document.getElementById("households-" + grid.value);
      if (list) { input.setAttribute("list", list.id); } else { input.removeAttribute("list"); }
    }
    grid.addEventListener("change", link);
    link();
  }

  /* The header's menu: open on a wide screen (links inline); on a phone it opens on a tap. */
  function siteMenu() {
    var menu = document.getElementById("site-menu");
    if (!menu || !window.matchMedia) { return; }
    var wide = window.matchMedia("(min-width: 1024px)");
    function fit() { menu.open = wide.matches; }
    if (wide.addEventListener) { wide.addEventListener("change", fit); }
    fit();
  }

  /* "Use my position": the phone's browser fills the point (WGS-84, as browsers report it), and the
     grid whose boundary holds it is chosen when it is one of the user's (GET /api/v1/grids/?point=). */
  function locate() {
    var button = document.getElementById("locate"), status = document.getElementById("locate-status");
    var lat = document.getElementById("id_latitude"), lng = document.getElementById("id_longitude");
    var system = document.getElementById("id_coordinate_system"), grid = document.getElementById("id_grid");
    if (!button || !lat || !lng || !system || !navigator.geolocation) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lng.value = position.coords.longitude.toFixed(6);
        system.value = "wgs84";
        status.textContent = "";
        fetch("/api/v1/grids/?point=" + lat.value + "," + lng.value, {credentials: "same-origin"})
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (body) {
            var found = body && (body.results || body)[0];
            if (found && grid && grid.querySelector("option[value='" + found.code + "']")) {
              grid.value = found.code;
              grid.dispatchEvent(new Event("change"));
              status.textContent = button.dataset.gridFound + " " + found.name;
            }
          });
      }, function () { status.textContent = button.dataset.failed; }, {enableHighAccuracy: true, timeout: 15000});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    languageSwitch();
    siteMenu();
    locate();
    oneTap("#actions form");
    oneTap("#register-form");
    householdSuggestions();
  });
  /* Coming back to the page (the browser's back button) makes the buttons usable again. */
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("#actions button[type=submit], #register-form button[type=submit]").forEach(function (b) {
      b.disabled = false;
    });
  });
})();
