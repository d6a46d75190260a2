// The dashboard's charts (Apache ECharts, vendored) and sortable tables. The figures come from the
// page's own JSON; each chart has the same numbers in an accessible table on the page.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-charts").textContent);
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") return;
    var c = echarts.init(el, null, { renderer: "svg" });
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  }
  var pct = function (v) { return v === null ? null : Math.round(v * 1000) / 10; };
  chart("chart-volume", {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: {},
    xAxis: { type: "category", data: data.weeks },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: data.labels.registered, type: "line", data: data.registered },
      { name: data.labels.resolved, type: "line", data: data.resolved }
    ]
  });
  chart("chart-rates", {
    animation: false,
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
    legend: {},
    xAxis: { type: "category", data: data.weeks },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: ["response_rate", "on_time_rate", "satisfaction_rate"].map(function (k) {
      return { name: data.labels[k], type: "line", connectNulls: false, data: data.rates[k].map(pct) };
    })
  });
  chart("chart-status", {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: {},
    xAxis: { type: "category", data: data.areas },
    yAxis: { type: "value", minInterval: 1 },
    series: data.statuses.map(function (s) { return { name: s.name, type: "bar", stack: "status", data: s.data }; })
  });
  // Sort a table by a column on a click of its header; numbers as numbers, "—" last.
  document.querySelectorAll("table.sortable button.sort").forEach(function (button) {
    button.addEventListener("click", function () {
      var table = button.closest("table"), col = +button.dataset.col;
      var desc = button.dataset.dir !== "desc";
      button.dataset.dir = desc ? "desc" : "asc";
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.value, y = b.cells[col].dataset.value;
        var nx = x === "" ? NaN : +x, ny = y === "" ? NaN : +y;
        if (isNaN(nx) || isNaN(ny)) {
          if (isNaN(nx) && isNaN(ny)) return desc ? y.localeCompare(x) : x.localeCompare(y);
          return isNaN(nx) ? 1 : -1;
        }
        return desc ? ny - nx : nx - ny;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
