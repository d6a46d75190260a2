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

  document.addEventListener("DOMContentLoaded", function () {
    languageSwitch();
    siteMenu();
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
