/* mouseface report.html: draws the plotly figures, filters them and the trials table by
   animal / emotion / state, shows the face crop of a hovered frame, sorts the trials table.
   Plain JS, no framework; plotly.js is embedded once above this script. */
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }
  function readJson(id) {
    var el = byId(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var CONFIG = readJson("plot-config") || { displaylogo: false, responsive: true };
  var filters = { animal: "", emotion: "", state: "" };
  var plots = {};

  function matches(meta) {
    if (!meta) { return true; }
    for (var key in filters) {
      var want = filters[key];
      if (want && meta[key] !== undefined && meta[key] !== "" && String(meta[key]) !== want) {
        return false;
      }
    }
    return true;
  }

  /* ---------------------------------------------------------------- drawing */
  function draw() {
    if (typeof Plotly === "undefined") { return; }
    var divs = document.querySelectorAll("div.plotly-fig");
    for (var i = 0; i < divs.length; i++) {
      var div = divs[i];
      var spec = readJson(div.id + "-json");
      if (!spec) { continue; }
      Plotly.newPlot(div, spec.data, spec.layout, CONFIG);
      plots[div.id] = div;
    }
  }

  /* ------------------------------------------------- stimulus-locked means */
  var locked = readJson("locked-data");

  function meanSem(rows, nBins) {
    var mean = [], hi = [], lo = [];
    for (var b = 0; b < nBins; b++) {
      var s = 0, n = 0;
      for (var r = 0; r < rows.length; r++) {
        var v = rows[r][b];
        if (v !== null) { s += v; n += 1; }
      }
      if (n === 0) { mean.push(null); hi.push(null); lo.push(null); continue; }
      var m = s / n, ss = 0;
      for (var q = 0; q < rows.length; q++) {
        var w = rows[q][b];
        if (w !== null) { ss += (w - m) * (w - m); }
      }
      var sem = n > 1 ? Math.sqrt(ss / (n - 1) / n) : 0;
      mean.push(m); hi.push(m + sem); lo.push(m - sem);
    }
    return { mean: mean, hi: hi, lo: lo };
  }

  function updateLocked() {
    var div = plots["fig-traces-locked"];
    if (!div || !locked) { return; }
    var ys = [], vis = [], counts = {};
    for (var i = 0; i < div.data.length; i++) {
      var meta = div.data[i].meta || {};
      var rows = [];
      var table = locked[meta.column] || [];
      for (var k = 0; k < locked.trials.length; k++) {
        var tr = locked.trials[k];
        if (tr.emotion === meta.panel && matches({ animal: tr.animal, state: tr.state })
            && table[k]) {
          rows.push(table[k]);
        }
      }
      if (meta.column === "strength") { counts[meta.panel] = rows.length; }
      var st = meanSem(rows, locked.t.length);
      ys.push(st[meta.role] || div.data[i].y);
      vis.push(matches({ emotion: meta.emotion }));
    }
    Plotly.restyle(div, { y: ys, visible: vis });
    var ann = div.layout.annotations || [];
    var update = {};
    for (var a = 0; a < ann.length; a++) {
      var m = /^(.*) trials \(n = \d+\)$/.exec(ann[a].text || "");
      if (m && counts[m[1]] !== undefined) {
        update["annotations[" + a + "].text"] = m[1] + " trials (n = " + counts[m[1]] + ")";
      }
    }
    if (Object.keys(update).length) { Plotly.relayout(div, update); }
  }

  /* ------------------------------------------- per-frame strength + crops */
  var crops = readJson("crops-data") || {};

  function stimulusShapes(div, session) {
    var meta = div.layout.meta || {};
    var rows = (meta.stimuli || {})[session] || [];
    var colours = meta.colours || {};
    var shapes = [];
    for (var i = 0; i < rows.length; i++) {
      if (!matches({ emotion: rows[i][2] })) { continue; }
      shapes.push({ type: "rect", xref: "x", yref: "y domain", x0: rows[i][0], x1: rows[i][1],
                    y0: 0, y1: 1, fillcolor: colours[rows[i][2]] || "#999999", opacity: 0.18,
                    line: { width: 0 }, layer: "below", name: rows[i][2] });
    }
    return shapes;
  }

  function updateSessions() {
    var div = plots["fig-strength-frames"];
    var select = byId("session-select");
    if (!div || !select) { return; }
    var first = "";
    for (var i = 0; i < select.options.length; i++) {
      var opt = select.options[i];
      var ok = matches({ animal: opt.dataset.animal, state: opt.dataset.state });
      opt.hidden = !ok;
      opt.disabled = !ok;
      if (ok && !first) { first = opt.value; }
    }
    if (select.selectedOptions.length === 0 || select.selectedOptions[0].disabled) {
      select.value = first;
    }
    var session = select.value;
    var vis = [];
    for (var k = 0; k < div.data.length; k++) {
      var meta = div.data[k].meta || {};
      vis.push(meta.session === session && matches({ emotion: meta.emotion }));
    }
    Plotly.restyle(div, { visible: vis });
    Plotly.relayout(div, { shapes: stimulusShapes(div, session) });
    var none = byId("session-none");
    if (none) { none.hidden = Boolean(session); }
  }

  function nearest(list, value) {
    var lo = 0, hi = list.length - 1;
    if (hi < 0) { return -1; }
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (list[mid] < value) { lo = mid + 1; } else { hi = mid; }
    }
    if (lo > 0 && Math.abs(list[lo - 1] - value) <= Math.abs(list[lo] - value)) { lo -= 1; }
    return lo;
  }

  function showCrop(ev) {
    var box = byId("hover-crop");
    if (!box || !ev.points || !ev.points.length) { return; }
    var pt = ev.points[0];
    var meta = pt.data.meta || {};
    var frame = pt.customdata;
    var set = crops[meta.session];
    var img = byId("hover-crop-img");
    var cap = byId("hover-crop-caption");
    if (!set || !set.frames.length) {
      img.hidden = true;
      cap.textContent = "session " + meta.session + ", frame " + frame + ": no face crop";
      return;
    }
    var j = nearest(set.frames, frame);
    img.src = "data:image/jpeg;base64," + set.jpeg[j];
    img.width = set.size[0] * 2;
    img.height = set.size[1] * 2;
    img.hidden = false;
    cap.textContent = "session " + meta.session + ", frame " + set.frames[j]
      + (set.frames[j] !== frame ? " (nearest crop to frame " + frame + ")" : "");
  }

  /* ------------------------------------------------------- generic filters */
  function updateGeneric() {
    var ids = ["fig-dose-response"];
    for (var i = 0; i < ids.length; i++) {
      var div = plots[ids[i]];
      if (!div) { continue; }
      var vis = [];
      for (var k = 0; k < div.data.length; k++) { vis.push(matches(div.data[k].meta)); }
      Plotly.restyle(div, { visible: vis });
    }
  }

  function updateTable() {
    var table = byId("trials-table");
    if (!table) { return; }
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var ok = matches({ animal: rows[i].dataset.animal, emotion: rows[i].dataset.emotion,
                         state: rows[i].dataset.state });
      rows[i].hidden = !ok;
      if (ok) { shown += 1; }
    }
    var count = byId("trials-count");
    if (count) { count.textContent = shown + " of " + rows.length + " trials shown"; }
  }

  function applyFilters() {
    var keys = ["animal", "emotion", "state"];
    for (var i = 0; i < keys.length; i++) {
      var el = byId("filter-" + keys[i]);
      filters[keys[i]] = el ? el.value : "";
    }
    if (typeof Plotly !== "undefined") {
      updateLocked();
      updateSessions();
      updateGeneric();
    }
    updateTable();
  }

  /* ------------------------------------------------------------ table sort */
  function cellValue(row, col) {
    var cell = row.cells[col];
    var text = cell ? (cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent) : "";
    var num = parseFloat(text);
    return { text: text.trim(), num: isNaN(num) || !/^\s*[-+]?[\d.]/.test(text) ? null : num };
  }

  function sortTable(table, col) {
    var th = table.tHead.rows[0].cells[col];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var h = 0; h < heads.length; h++) { heads[h].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, col), y = cellValue(b, col), c;
      if (x.num !== null && y.num !== null) { c = x.num - y.num; }
      else if (x.num !== null) { c = -1; }
      else if (y.num !== null) { c = 1; }
      else { c = x.text.localeCompare(y.text); }
      return asc ? c : -c;
    });
    for (var i = 0; i < rows.length; i++) { body.appendChild(rows[i]); }
  }

  function initTables() {
    var tables = document.querySelectorAll("table.sortable");
    for (var t = 0; t < tables.length; t++) {
      (function (table) {
        var heads = table.tHead.rows[0].cells;
        for (var i = 0; i < heads.length; i++) {
          (function (col) {
            heads[col].addEventListener("click", function () { sortTable(table, col); });
          })(i);
        }
      })(tables[t]);
    }
  }

  /* ------------------------------------------------------------------ init */
  function init() {
    draw();
    initTables();
    var keys = ["animal", "emotion", "state"];
    for (var i = 0; i < keys.length; i++) {
      var el = byId("filter-" + keys[i]);
      if (el) { el.addEventListener("change", applyFilters); }
    }
    var reset = byId("filter-reset");
    if (reset) {
      reset.addEventListener("click", function () {
        for (var k = 0; k < keys.length; k++) {
          var el = byId("filter-" + keys[k]);
          if (el) { el.value = ""; }
        }
        applyFilters();
      });
    }
    var select = byId("session-select");
    if (select) { select.addEventListener("change", applyFilters); }
    var frames = plots["fig-strength-frames"];
    if (frames) { frames.on("plotly_hover", showCrop); }
    applyFilters();
    document.body.dataset.ready = "true";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
