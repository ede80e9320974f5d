"use strict";
(function () {
  var names = ["platform", "engine", "service", "verdict"];

  function chosen() {
    var picked = {};
    names.forEach(function (name) {
      picked[name] = document.getElementById("f-" + name).value;
    });
    return picked;
  }

  function applySquare(td, f) {
    var columnHidden = f.service !== "" && td.dataset.service !== f.service;
    td.hidden = columnHidden;
    var empty = td.dataset.verdict === "";
    var match = !columnHidden && !empty &&
      (f.verdict === "" || td.dataset.verdict === f.verdict);
    // Without a verdict filter an empty square stays visible as a dash.
    td.classList.toggle("filtered", !columnHidden && !match && f.verdict !== "");
    return match;
  }

  function applyRow(tr, f) {
    var matches = 0;
    tr.querySelectorAll("td.square").forEach(function (td) {
      if (applySquare(td, f)) { matches += 1; }
    });
    tr.hidden = (f.platform !== "" && tr.dataset.platform !== f.platform) ||
      matches === 0;
    return tr.hidden ? 0 : matches;
  }

  function applyFilters() {
    var f = chosen();
    var shown = 0;
    document.querySelectorAll("section.engine").forEach(function (section) {
      section.querySelectorAll("th[data-service]").forEach(function (th) {
        th.hidden = f.service !== "" && th.dataset.service !== f.service;
      });
      var inSection = 0;
      section.querySelectorAll("tr[data-platform]").forEach(function (tr) {
        inSection += applyRow(tr, f);
      });
      section.hidden = (f.engine !== "" && section.dataset.engine !== f.engine) ||
        inSection === 0;
      if (!section.hidden) { shown += inSection; }
    });
    document.getElementById("shown-count").textContent = String(shown);
  }

  function openEvidence(id) {
    var target = document.getElementById(id);
    if (!target || !target.classList.contains("evidence")) { return; }
    document.querySelectorAll("section.evidence").forEach(function (section) {
      section.hidden = section !== target;
    });
    document.body.classList.add("evidence-open");
    document.getElementById("evidence").scrollTop = 0;
  }

  function closeEvidence() {
    document.body.classList.remove("evidence-open");
    if (location.hash) { history.replaceState(null, "", location.pathname); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    names.forEach(function (name) {
      document.getElementById("f-" + name).addEventListener("change", applyFilters);
    });
    document.querySelectorAll("button.check").forEach(function (button) {
      button.addEventListener("click", function () {
        openEvidence(button.dataset.cell);
      });
    });
    document.getElementById("close-evidence").addEventListener("click", closeEvidence);
    window.addEventListener("hashchange", function () {
      openEvidence(location.hash.slice(1));
    });
    if (location.hash) { openEvidence(location.hash.slice(1)); }
    applyFilters();
  });
})();
