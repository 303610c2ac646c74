// Floor page: the store's comfort readings (use case F), fetched from the comfort API and shown as a
// table. No readings, no such API, or no access: the section says "no readings". Text only (textContent).
(function () {
  "use strict";
  var section = document.getElementById("comfort");
  if (!section) { return; }
  var body = document.getElementById("comfort-body");

  function none() {
    var p = document.createElement("p");
    p.className = "empty";
    p.id = "comfort-body";
    p.textContent = section.dataset.none;
    body.replaceWith(p);
    body = p;
  }

  function cell(row, text, tag) {
    var td = document.createElement(tag || "td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    row.appendChild(td);
  }

  function target(r) {
    var unit = r.unit || "";
    if (r.target_low !== null && r.target_low !== undefined && r.target_high !== null && r.target_high !== undefined) {
      return r.target_low + "–" + r.target_high + " " + unit;
    }
    if (r.target_low !== null && r.target_low !== undefined) { return "≥ " + r.target_low + " " + unit; }
    if (r.target_high !== null && r.target_high !== undefined) { return "≤ " + r.target_high + " " + unit; }
    return "";
  }

  function show(data) {
    var readings = data && Array.isArray(data.readings) ? data.readings : [];
    if (!readings.length) { none(); return; }
    var table = document.createElement("table");
    table.id = "comfort-body";
    table.className = "comfort-readings";
    var head = table.createTHead().insertRow();
    ["zone", "quantity", "value", "target", "status"].forEach(function (k) { cell(head, section.dataset[k], "th"); });
    var tbody = table.createTBody();
    readings.forEach(function (r) {
      var row = tbody.insertRow();
      row.dataset.status = r.status || "";
      cell(row, r.zone);
      cell(row, r.quantity);
      cell(row, (r.value === null || r.value === undefined ? "" : r.value) + " " + (r.unit || ""));
      cell(row, target(r));
      cell(row, r.status + (r.out_of_range_s ? " (" + Math.round(r.out_of_range_s) + " s)" : ""));
    });
    body.replaceWith(table);
    body = table;
  }

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : { status: res.status }; });
  }

  // The comfort API first (an integrator's key, if the browser has one); a signed-in dashboard
  // session gets 401 there and reads the same JSON from the floor page's own route.
  function load() {
    get(section.dataset.url)
      .then(function (data) {
        if (data && (data.status === 401 || data.status === 403) && section.dataset.sessionUrl) {
          return get(section.dataset.sessionUrl);
        }
        return data;
      })
      .then(function (data) { if (data && Array.isArray(data.readings)) { show(data); } else { none(); } })
      .catch(none);
  }

  load();
  setInterval(load, 30000);
}());
