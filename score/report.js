/* The report page's script (score/report.c puts it inline): sortable tables. The page
 * reads complete without it; body's data-ready says it ran. */
"use strict";
(function () {
	function sortBy(table, col, th) {
		var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
		var asc = th.classList.contains("desc"); /* the first click: highest first */
		var key = function (r) { return r.cells[col].getAttribute("data-v") || ""; };
		var numeric = rows.every(function (r) { return key(r) === "" || !isNaN(Number(key(r))); });
		rows.sort(function (a, b) {
			var x = key(a), y = key(b);
			var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
			return asc ? c : -c;
		});
		rows.forEach(function (r) { body.appendChild(r); });
		Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
			h.classList.remove("asc", "desc");
		});
		th.classList.add(asc ? "asc" : "desc");
	}
	Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (t) {
		Array.prototype.forEach.call(t.tHead.rows[0].cells, function (th, col) {
			th.addEventListener("click", function () { sortBy(t, col, th); });
		});
	});
	document.body.setAttribute("data-ready", "1");
})();
