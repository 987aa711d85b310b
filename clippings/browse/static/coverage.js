// Coverage over time on the articles page: the chart is the SVG the plugin draws for the page's
// filters (/DB/articles/-/coverage.svg, the file the "SVG" link gives), placed in the page, with
// a tooltip per bar (day, outlet, count) on hover, keyboard focus or tap.
(function () {
  "use strict";

  function label(bar) {
    var count = Number(bar.getAttribute("data-count"));
    return bar.getAttribute("data-day") + " · " + bar.getAttribute("data-outlet") + ": " + count + (count === 1 ? " article" : " articles");
  }

  function addTooltips(box) {
    var tip = document.createElement("div");
    tip.className = "clippings-tooltip";
    tip.setAttribute("role", "tooltip");
    tip.hidden = true;
    box.appendChild(tip);
    box.querySelectorAll("rect[data-count]").forEach(function (bar) {
      var title = bar.querySelector("title");
      if (title) { bar.removeChild(title); }  // the page's tooltip replaces the SVG's own
      bar.setAttribute("aria-label", label(bar));
    });
    function show(event) {
      var bar = event.target.closest && event.target.closest("rect[data-count]");
      if (!bar) { return; }
      var place = bar.getBoundingClientRect(), frame = box.getBoundingClientRect();
      tip.textContent = label(bar);
      tip.hidden = false;
      var left = place.left - frame.left + box.scrollLeft + place.width / 2 - tip.offsetWidth / 2;
      tip.style.left = Math.max(0, Math.min(left, box.scrollWidth - tip.offsetWidth)) + "px";
      tip.style.top = Math.max(0, place.top - frame.top - tip.offsetHeight - 6) + "px";
    }
    function hide(event) {
      if (event.target.closest && event.target.closest("rect[data-count]")) { tip.hidden = true; }
    }
    box.addEventListener("mouseover", show);
    box.addEventListener("focusin", show);
    box.addEventListener("click", show);
    box.addEventListener("mouseout", hide);
    box.addEventListener("focusout", hide);
  }

  function place(box, text) {
    var chart = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    if (chart.namespaceURI !== "http://www.w3.org/2000/svg" || chart.localName !== "svg") {
      throw new Error("the server did not answer with an SVG");
    }
    box.textContent = "";
    box.appendChild(document.importNode(chart, true));
    addTooltips(box);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("clippings-coverage-chart");
    if (!box) { return; }
    fetch(box.dataset.svg).then(function (response) {
      return response.text().then(function (text) {
        if (!response.ok) { throw new Error("HTTP " + response.status + ": " + text.trim()); }
        return text;
      });
    }).then(function (text) { place(box, text); }).catch(function (error) {
      box.textContent = "The chart could not be drawn (" + error.message + ").";
    });
  });
})();
