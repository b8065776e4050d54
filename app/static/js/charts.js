/* Charts of the roll-up and pilot pages, drawn with the vendored Apache ECharts
   (static/vendor/echarts-6.1.0). No inline script (CSP): each chart is an element with a
   data-chart attribute holding its spec as JSON:
     {"kind": "line" | "bar" | "hbar", "labels": [...], "unit": "%",
      "series": [{"name": "...", "values": ["1.50", ...]}]}
   Values are decimal strings; the table beside each chart has the exact figures. */
(function () {
  "use strict";
  var COLORS = ["#c8102e", "#4a4a4a", "#d4a017", "#2f6f9f"];

  function option(spec) {
    var horizontal = spec.kind === "hbar";
    var series = spec.series.map(function (s) {
      return {
        name: s.name,
        type: spec.kind === "line" ? "line" : "bar",
        data: s.values.map(Number),
        barMaxWidth: 32,
        label: horizontal ? { show: true, position: "right" } : undefined
      };
    });
    var many = !horizontal && spec.labels.length > 6;
    var category = { type: "category", data: spec.labels,
                     axisLabel: { interval: 0, rotate: many ? 35 : 0 } };
    var value = { type: "value", axisLabel: { formatter: "{value}" + (spec.unit || "") } };
    if (horizontal) {
      category.inverse = true;
      if (spec.unit === "%") { value.max = 100; }
    }
    return {
      color: COLORS,
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: series
    };
  }

  function draw() {
    if (!window.echarts) { return; }
    var locale = document.documentElement.lang === "en" ? "EN" : "ZH";
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec;
      try { spec = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
      var chart = window.echarts.init(el, null, { locale: locale, renderer: "svg" });
      chart.setOption(option(spec));
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
