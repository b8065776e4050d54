/* The household's points over the last 12 months on its QR page, drawn with the vendored
   ECharts (static/vendor/echarts-6.1.0). The page stays fast on a phone: the 1 MB library is
   fetched only when the chart scrolls into view, and the table beside it shows the same
   figures without scripts (and stays for screen readers). No inline script (CSP). */
(function () {
  "use strict";

  function draw(box) {
    var el = box.querySelector("[data-trend]");
    var spec;
    try { spec = JSON.parse(el.getAttribute("data-trend")); } catch (e) { return; }
    var suffix = document.documentElement.lang === "en" ? "" : "\u6708";  /* 月 */
    var names = {};  /* "YYYY-MM" -> the month as the page's language writes it */
    (spec.months || []).forEach(function (m, i) { names[spec.labels[i]] = m; });
    box.classList.add("has-chart");
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      color: ["#b02a37"],
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: spec.labels,
               axisLabel: { interval: 0, fontSize: 11,
                            formatter: function (v) { return names[v] || Number(v.slice(5)) + suffix; } } },
      yAxis: { type: "value", axisLabel: { fontSize: 12 } },
      series: [{ type: "bar", name: spec.name, data: spec.values.map(Number), barMaxWidth: 18,
                 itemStyle: { color: function (p) { return p.value < 0 ? "#146c43" : "#b02a37"; } } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function load(box) {
    if (window.echarts) { draw(box); return; }
    var script = document.createElement("script");
    script.src = box.getAttribute("data-lib");
    script.onload = function () { draw(box); };
    document.head.appendChild(script);
  }

  function start() {
    var box = document.querySelector(".trend[data-lib]");
    if (!box) { return; }
    if (!("IntersectionObserver" in window)) { load(box); return; }
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { seen.disconnect(); load(box); }
    }, { rootMargin: "200px" });
    seen.observe(box);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
