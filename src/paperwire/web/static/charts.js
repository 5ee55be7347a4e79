// Charts from the tables the server writes (templates/_charts.html), drawn with the
// vendored uPlot. Progressive enhancement: without this file the tables stay.
(function () {
  "use strict";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function seconds(iso) { return Date.parse(iso + "T00:00:00Z") / 1000; }

  function label(ts, period, long) {
    var d = new Date(ts * 1000);
    if (period === "year") return String(d.getUTCFullYear());
    var text = MONTHS[d.getUTCMonth()];
    if (period === "month" || long) return text + " " + d.getUTCFullYear();
    return text + " " + d.getUTCDate();
  }

  function draw(figure) {
    var data;
    try { data = JSON.parse(figure.getAttribute("data-chart")); } catch (e) { return; }
    if (!data || !data.x || !data.x.length) return;
    var plot = figure.querySelector(".chart-plot");
    var small = figure.classList.contains("small");
    var xs = data.x.map(seconds);
    var long = xs[xs.length - 1] - xs[0] > 300 * 86400;  // over most of a year: ticks name the year
    var half = (xs.length > 1 ? (xs[xs.length - 1] - xs[0]) / (xs.length - 1) : 7 * 86400) / 2;  // edge bars whole
    var ys = data.y.map(function (v) { return v || null; });  // an empty period draws no sliver
    var readout = figure.querySelector(".chart-readout");
    // Ticks on the periods themselves (every n-th, about one per 70 px), never between them.
    function ticksFor(px) {
      var every = Math.max(1, Math.ceil(xs.length / Math.max(1, Math.floor(px / 70))));
      return xs.filter(function (x, i) { return (xs.length - 1 - i) % every === 0; });
    }
    function show(u) {
      var i = u.cursor.idx;
      if (!readout) return;
      readout.textContent = i == null ? "" : (data.period === "week" ? "week of " : "") +
        label(xs[i], data.period, data.period === "week") + ": " + data.y[i] + " paper" + (data.y[i] === 1 ? "" : "s");
    }
    var stroke = getComputedStyle(figure).getPropertyValue("--chart-color").trim() || "#d9480f";
    var width = function () { return Math.max(120, plot.clientWidth || figure.clientWidth); };
    var opts = {
      width: width(),
      height: small ? 70 : figure.classList.contains("compact") ? 120 : 200,
      legend: { show: false },
      cursor: { show: !small, points: { show: false } },
      scales: { x: { time: false, range: function (u, min, max) { return [min - half, max + half]; } }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: [
        { show: !small, values: function (u, ticks) { return ticks.map(function (t) { return label(t, data.period, long); }); },
          splits: function (u) { return ticksFor(u.bbox.width / (window.devicePixelRatio || 1)); }, grid: { show: false } },
        { show: !small, size: 40, grid: { stroke: "#eee" },
          values: function (u, ticks) { return ticks.map(function (t) { return Number.isInteger(t) ? t : ""; }); } }
      ],
      hooks: { setCursor: [show] },
      series: [
        {},
        { label: "papers", stroke: stroke, fill: stroke + "55", width: 1,
          paths: window.uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } }
      ]
    };
    var chart = new window.uPlot(opts, [xs, ys], plot);
    figure.classList.add("charted");
    var table = figure.querySelector("details.chart-table");
    if (table) table.open = false;
    if (window.ResizeObserver) {
      new ResizeObserver(function () { chart.setSize({ width: width(), height: opts.height }); }).observe(figure);
    }
  }

  function start() {
    // The trends picker applies a choice at once (its Show button stays for no-JS readers).
    document.querySelectorAll("form.trend-controls select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    if (!window.uPlot) return;
    document.querySelectorAll("figure.chart[data-chart]").forEach(draw);
    if (window.performance && performance.mark) performance.mark("paperwire:charts-drawn");  // bench/topic_pages.py
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
