// Table and row pages of a clippings archive: each column header says what its column holds
// (a tooltip from the description in metadata.yml), and an article's page keeps its reading view
// first, with the raw row folded below it. Without JavaScript, both stay as Datasette shows them.
(function () {
  "use strict";

  function describeColumns() {
    document.querySelectorAll("th[data-column-description]").forEach(function (header) {
      header.title = header.dataset.columnDescription;
      header.classList.add("clippings-described");
    });
  }

  function foldRawRow() {
    var reading = document.querySelector(".clippings-article");
    var table = document.querySelector("body.row .table-wrapper");
    if (!reading || !table) { return; }
    var fold = document.createElement("details"), summary = document.createElement("summary");
    fold.className = "clippings-raw-row";
    summary.textContent = "The stored row: all " + table.querySelectorAll("th").length + " columns";
    fold.appendChild(summary);
    table.parentNode.insertBefore(fold, table);
    fold.appendChild(table);
  }

  document.addEventListener("DOMContentLoaded", function () {
    describeColumns();
    foldRawRow();
  });
})();
