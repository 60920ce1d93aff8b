/* Sortable tables: each header button sorts its column by the cells' data-value. */
(function () {
  "use strict";
  function sortKey(cell, numeric) {
    var raw = cell.getAttribute("data-value");
    if (raw === null || raw === "") return null; // an undefined figure: always last
    return numeric ? parseFloat(raw) : raw.toLowerCase();
  }

  function sortBy(table, index, th) {
    var kind = th.getAttribute("data-type");
    var numeric = kind !== "text";
    var previous = th.getAttribute("aria-sort");
    var direction;
    if (previous === "ascending") direction = "descending";
    else if (previous === "descending") direction = "ascending";
    else direction = kind === "num-desc" ? "descending" : "ascending";
    var sign = direction === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.map.call(body.rows, function (row, position) {
      return { row: row, position: position, key: sortKey(row.cells[index], numeric) };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) return a.position - b.position;
        return a.key === null ? 1 : -1;
      }
      if (a.key < b.key) return -sign;
      if (a.key > b.key) return sign;
      return a.position - b.position;
    });
    rows.forEach(function (entry) { body.appendChild(entry.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
      other.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", direction);
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = th.querySelector("button");
      if (button) button.addEventListener("click", function () { sortBy(table, index, th); });
    });
  });
})();
