// Coverage over time for the articles table page: articles per day, stacked by outlet.
// Reads the same rows the page shows (every filter, facet and search in the URL applies)
// through Datasette's JSON API, a page at a time, and draws an SVG. No external libraries.
(function () {
  "use strict";
  var MAX_PAGES = 100;
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  var SVG = "http://www.w3.org/2000/svg";

  function firstUrl() {
    var params = new URLSearchParams(window.location.search);
    ["_next", "_size", "_col", "_nocol", "_shape", "_labels", "_facet", "_facet_array"].forEach(function (name) { params.delete(name); });
    params.append("_col", "published_day");
    params.append("_col", "outlet_id");
    params.set("_labels", "on");
    params.set("_size", "max");
    params.set("_shape", "objects");
    return window.location.pathname.replace(/\/$/, "") + ".json?" + params.toString();
  }

  function collect(url, counts, pages) {
    return fetch(url).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      data.rows.forEach(function (row) {
        var day = row.published_day;
        if (!day) { return; }
        var outlet = row.outlet_id && typeof row.outlet_id === "object" ? (row.outlet_id.label || row.outlet_id.value) : (row.outlet_id || "unknown outlet");
        counts[day] = counts[day] || {};
        counts[day][outlet] = (counts[day][outlet] || 0) + 1;
      });
      if (data.next_url && pages + 1 < MAX_PAGES) { return collect(data.next_url, counts, pages + 1); }
      return { counts: counts, capped: Boolean(data.next_url) };
    });
  }

  function days(from, to) {
    var out = [], day = new Date(from + "T00:00:00Z"), end = new Date(to + "T00:00:00Z");
    while (day <= end) { out.push(day.toISOString().slice(0, 10)); day.setUTCDate(day.getUTCDate() + 1); }
    return out;
  }

  function element(name, attributes, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function draw(box, result) {
    var known = Object.keys(result.counts).sort();
    box.textContent = "";
    if (!known.length) { box.textContent = "No dated articles match."; return; }
    var totals = {};
    known.forEach(function (day) { Object.keys(result.counts[day]).forEach(function (o) { totals[o] = (totals[o] || 0) + result.counts[day][o]; }); });
    var outlets = Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a] || a.localeCompare(b); });
    var shown = outlets.slice(0, PALETTE.length - 1), others = outlets.slice(PALETTE.length - 1);
    var series = others.length ? shown.concat(["other outlets"]) : shown;
    var span = days(known[0], known[known.length - 1]);
    var peak = Math.max.apply(null, span.map(function (day) {
      var c = result.counts[day] || {}; return Object.keys(c).reduce(function (s, o) { return s + c[o]; }, 0);
    }));
    var width = 900, height = 240, left = 36, bottom = 28, barWidth = (width - left) / span.length;
    var svg = element("svg", { viewBox: "0 0 " + width + " " + (height + 20), role: "img", "class": "clippings-chart" });
    svg.appendChild(element("title", {}, "Articles per day, " + span[0] + " to " + span[span.length - 1]));
    span.forEach(function (day, i) {
      var c = result.counts[day] || {}, y = height - bottom;
      series.forEach(function (name, s) {
        var n = name === "other outlets" ? others.reduce(function (sum, o) { return sum + (c[o] || 0); }, 0) : (c[name] || 0);
        if (!n) { return; }
        var h = n / peak * (height - bottom - 10);
        y -= h;
        var bar = element("rect", { x: left + i * barWidth, y: y, width: Math.max(barWidth - 1, 1), height: h, fill: PALETTE[s], "data-day": day, "data-outlet": name, "data-count": n });
        bar.appendChild(element("title", {}, day + " · " + name + ": " + n));
        svg.appendChild(bar);
      });
    });
    svg.appendChild(element("text", { x: left, y: height - 8, "font-size": 12 }, span[0]));
    svg.appendChild(element("text", { x: width, y: height - 8, "font-size": 12, "text-anchor": "end" }, span[span.length - 1]));
    svg.appendChild(element("text", { x: left - 4, y: 14, "font-size": 12, "text-anchor": "end" }, String(peak)));
    svg.appendChild(element("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#999" }));
    box.appendChild(svg);
    var legend = document.createElement("ul");
    legend.className = "clippings-legend";
    series.forEach(function (name, s) {
      var item = document.createElement("li"), swatch = document.createElement("span");
      swatch.style.background = PALETTE[s];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(" " + name + " (" + (name === "other outlets" ? others.reduce(function (t, o) { return t + totals[o]; }, 0) : totals[name]) + ")"));
      legend.appendChild(item);
    });
    box.appendChild(legend);
    if (result.capped) {
      var note = document.createElement("p");
      note.textContent = "Only the first " + MAX_PAGES + " pages of rows are drawn: narrow the filters for the full picture.";
      box.appendChild(note);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("clippings-coverage-chart");
    if (!box) { return; }
    collect(firstUrl(), {}, 0).then(function (result) { draw(box, result); }).catch(function (error) {
      box.textContent = "The chart could not be drawn (" + error.message + ").";
    });
  });
})();
