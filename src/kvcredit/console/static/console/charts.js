/* Draw the console's charts with Plotly (served from the plotly pip package, no CDN).
   Each chart is a <div data-chart="ID-of-a-json_script"> with data-kind bar | line | pie | points;
   its data is also in a table for screen readers and for browsers without script. */
(function () {
  "use strict";
  var palette = ["#1f4e79", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#8d6e63", "#546e7a"];
  function draw(el) {
    var data = JSON.parse(document.getElementById(el.dataset.chart).textContent);
    if (!data.x || !data.x.length) {  // the page says there is nothing to show: no empty axes
      el.classList.add("drawn");
      return;
    }
    var kind = el.dataset.kind, traces, layout = {
      margin: {l: 48, r: 16, t: 8, b: 80}, height: 320, font: {size: 13},
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", showlegend: kind === "pie" || kind === "points"
    };
    if (kind === "pie") {
      traces = [{type: "pie", labels: data.x, values: data.y, hole: 0.45, sort: false, textposition: "inside",
                 marker: {colors: palette}}];
    } else if (kind === "points") {
      // the maximum first, so the points are drawn over it
      traces = [
        {type: "bar", orientation: "h", y: data.x, x: data.max, name: data.names[1], marker: {color: "#c5d3e0"}},
        {type: "bar", orientation: "h", y: data.x, x: data.y, name: data.names[0], marker: {color: palette[0]}}
      ];
      layout.barmode = "overlay";
      layout.margin.l = 160;
      layout.height = Math.max(240, 44 * data.x.length + 80);
      layout.yaxis = {autorange: "reversed", automargin: true};
      layout.legend = {orientation: "h", y: -0.2};
    } else if (kind === "series") {
      // several lines over dates (a breaker's ratios) and flat dashed lines (its thresholds)
      traces = data.series.map(function (s, i) {
        return {type: "scatter", mode: "lines", name: s.name, x: data.x, y: s.y.map(Number),
                line: {color: palette[i % palette.length]}};
      });
      (data.lines || []).forEach(function (l, i) {
        traces.push({type: "scatter", mode: "lines", name: l.name, x: [data.x[0], data.x[data.x.length - 1]],
                     y: [Number(l.y), Number(l.y)], line: {dash: "dash", color: palette[(i + 2) % palette.length]}});
      });
      layout.showlegend = true;
      layout.legend = {orientation: "h", y: -0.25};
      layout.yaxis = {ticksuffix: "%", rangemode: "tozero", automargin: true};
    } else if (kind === "line") {
      traces = [{type: "scatter", mode: "lines+markers", x: data.x, y: data.y,
        line: {color: palette[0]}}];
      // months are labels ("2025-03"), not instants: one month must not become a time axis
      layout.xaxis = {automargin: true, type: "category"};
    } else {
      traces = [{type: "bar", x: data.x, y: data.y, marker: {color: palette[0]}}];
      layout.xaxis = {automargin: true};
    }
    if (kind === "bar" || kind === "line") {
      // whole numbers with thousands separators (yuan, counts), not "6M"; counts from zero
      layout.yaxis = {tickformat: ",~f", rangemode: "tozero", automargin: true};
    }
    window.Plotly.newPlot(el, traces, layout, {displaylogo: false, responsive: true});
    el.classList.add("drawn");
  }
  function drawAll() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-chart]").forEach(draw);
    document.body.dataset.chartsDrawn = "true";
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
