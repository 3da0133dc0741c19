/// The static part of the HTML report: styles, layout and the script that
/// draws it from the embedded data. Everything the page needs is here; it
/// loads nothing.
extension AnalysisHTML {
    static let pageHead = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
:root { --fg:#1d232b; --muted:#5f6b7a; --line:#d8dde3; --bg:#fff; --panel:#f5f7f9; --waste:#d64545; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 14px 20px; border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { font-size: 18px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 15px; margin: 0 0 8px; }
.muted { color: var(--muted); }
.figures { display: flex; flex-wrap: wrap; gap: 8px 22px; margin-top: 8px; }
.figures b { display: block; font-size: 17px; }
main { padding: 16px 20px; display: grid; gap: 18px; }
section { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
#stack svg { width: 100%; display: block; }
.layer-bar { cursor: pointer; }
.layer-bar:hover .kept, .layer-bar.selected .kept { stroke: #000; stroke-width: 1.5; }
.layer-bar text { font-size: 12px; fill: var(--fg); }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 6px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
#treemap-wrap { position: relative; }
#treemap { width: 100%; height: 520px; display: block; border: 1px solid var(--line); }
#crumbs { margin-bottom: 6px; font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
#crumbs a { color: #1f5fbf; cursor: pointer; text-decoration: underline; }
#tip { position: absolute; pointer-events: none; background: rgba(20,24,30,.92); color: #fff; padding: 5px 8px;
       border-radius: 4px; font-size: 12px; display: none; max-width: 520px; word-break: break-all; }
.controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 8px; }
.controls input[type=search] { flex: 1; min-width: 220px; padding: 5px 8px; border: 1px solid var(--line); border-radius: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.path { font-family: ui-monospace, monospace; word-break: break-all; }
.chg-A { color: #1d7f35; font-weight: 600; } .chg-C { color: #a66a00; font-weight: 600; }
.chg-D { color: var(--waste); font-weight: 600; } .chg-\= { color: #7a4fbf; font-weight: 600; }
.scroll { max-height: 460px; overflow: auto; border: 1px solid var(--line); }
#status { font-size: 11px; color: var(--muted); }
</style>
</head>
<body data-status="loading">
<header>
<h1 id="title"></h1>
<div class="muted" id="subtitle"></div>
<div class="figures" id="figures"></div>
</header>
<main>
<section id="stack"><h2>Layer stack</h2><div class="muted">Bottom layer at the bottom; bar length is the file data a layer holds, red is what the final image no longer shows. Click a layer to list its changes.</div><div id="bars"></div>
<div class="legend"><span><span class="swatch" style="background:#8aa"></span>kept (colour of the layer)</span><span><span class="swatch" style="background:var(--waste)"></span>wasted</span></div></section>
<section><h2>Final file system</h2><div class="muted">Area is file data; colour is the layer that wrote each path. Click a directory to zoom in.</div>
<div id="crumbs"></div><div id="treemap-wrap"><canvas id="treemap"></canvas><div id="tip"></div></div></section>
<section><h2>Changes per layer</h2>
<div class="controls"><label>Layer <select id="layer-select"></select></label>
<input type="search" id="search" placeholder="Filter paths (substring)">
<label><input type="checkbox" class="chg" value="A" checked> added</label>
<label><input type="checkbox" class="chg" value="C" checked> changed</label>
<label><input type="checkbox" class="chg" value="=" checked> unchanged</label>
<label><input type="checkbox" class="chg" value="D" checked> deleted</label></div>
<div class="muted" id="count"></div>
<div class="scroll"><table><thead><tr><th></th><th>path</th><th>kind</th><th class="num">size</th><th>hidden by</th></tr></thead><tbody id="rows"></tbody></table></div></section>
<section><h2>Largest wasted paths</h2><div class="scroll"><table><thead><tr><th class="num">bytes</th><th>path</th><th class="num">written by</th><th class="num">hidden by</th></tr></thead><tbody id="wasted"></tbody></table></div></section>
<div id="status"></div>
</main>

"""#

    static let pageScript = #"""
"use strict";
window.addEventListener("error", function (e) {
  document.body.setAttribute("data-status", "error: " + (e.message || "unknown"));
  var s = document.getElementById("status"); if (s) s.textContent = "error: " + (e.message || "unknown");
});
(function () {
  var D = JSON.parse(document.getElementById("analysis-data").textContent);
  var KIND = { f: "file", d: "dir", l: "symlink", h: "hardlink", p: "fifo", c: "char dev", b: "block dev" };
  var pathCache = new Map();
  function pathOf(id) {
    if (id === 0) return "/";
    var hit = pathCache.get(id); if (hit !== undefined) return hit;
    var parts = [], cur = id, guard = 0;
    while (cur > 0 && guard++ < 4096) { parts.push(D.names[cur]); cur = D.parents[cur]; }
    var p = "/" + parts.reverse().join("/");
    pathCache.set(id, p); return p;
  }
  function size(n) {
    var u = ["B", "kB", "MB", "GB", "TB", "PB"], v = n, i = 0;
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (i === 0 ? String(v) : v.toPrecision(3)) + u[i];
  }
  function pct(r) { return r === null || r === undefined ? "n/a" : (r * 100).toFixed(1) + " %"; }
  function color(layer, light) {
    if (layer < 0) return light ? "#e6e9ed" : "#9aa3ad";
    var h = (layer * 137.508 + 200) % 360;
    return "hsl(" + h.toFixed(1) + "," + (light ? "45%,88%" : "55%,55%") + ")";
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  // Header.
  document.getElementById("title").textContent = D.name;
  document.getElementById("subtitle").textContent = (D.id || "") + "  ·  " + D.layers.length + " layer(s)";
  var T = D.totals, figs = document.getElementById("figures");
  [["total size", size(T.size)], ["stored", size(T.stored)], ["final image", size(T.final) + " in " + T.paths + " paths"],
   ["wasted", size(T.wasted) + " (" + pct(T.size ? T.wasted / T.size : 0) + ")"],
   ["efficiency (dive)", pct(T.efficiency)], ["dive wasted", size(T.diveWasted) + " · " + pct(T.userRatio) + " of user layers"]]
    .forEach(function (f) { var d = el("div"); d.appendChild(el("b", null, f[1])); d.appendChild(el("span", { class: "muted" }, f[0])); figs.appendChild(d); });

  // Layer stack: one bar per layer, top layer first.
  var bars = document.getElementById("bars");
  var maxSize = Math.max(1, Math.max.apply(null, D.layers.map(function (l) { return l.size; })));
  var rowH = 30, labelW = 360, width = 1000, n = D.layers.length;
  var s = svg("svg", { viewBox: "0 0 " + width + " " + Math.max(rowH, n * rowH), role: "img" });
  var barNodes = [];
  for (var r = 0; r < n; r++) {
    var L = D.layers[n - 1 - r], y = r * rowH + 4;
    var g = svg("g", { class: "layer-bar", "data-layer": String(L.i) });
    var full = (width - labelW - 10) * (L.size / maxSize);
    var w = Math.max(2, full), waste = L.size ? w * (L.wasted / L.size) : 0;
    g.appendChild(svg("rect", { class: "kept", x: labelW, y: y, width: Math.max(0, w - waste), height: rowH - 8, fill: color(L.i), rx: 2 }));
    if (waste > 0) g.appendChild(svg("rect", { class: "waste", x: labelW + w - waste, y: y, width: waste, height: rowH - 8, fill: "#d64545", rx: 2 }));
    var label = svg("text", { x: 4, y: y + 15 });
    var by = (L.by || "").replace(/\s+/g, " ");
    label.textContent = "#" + L.i + "  " + size(L.size) + (L.wasted ? " (" + size(L.wasted) + " wasted)" : "") + "  " + (by.length > 34 ? by.slice(0, 33) + "…" : by);
    g.appendChild(label);
    var tt = svg("title", {}); tt.textContent = "layer " + L.i + " " + L.digest + "\n" + (L.by || "") + (L.comment ? "\ncomment: " + L.comment : "") +
      "\nstored " + size(L.stored) + ", data " + size(L.size) + ", wasted " + size(L.wasted) +
      "\nadded " + L.added[0] + ", changed " + L.changed[0] + ", unchanged " + L.unchanged[0] + ", deleted " + L.deleted[0];
    g.appendChild(tt);
    (function (i) { g.addEventListener("click", function () { selectLayer(i); }); })(L.i);
    barNodes[L.i] = g;
    s.appendChild(g);
  }
  bars.appendChild(s);

  // Final tree for the treemap: node per path, sizes summed bottom-up.
  var F = D.final, count = F.p.length;
  var nodeOf = new Map(), nodes = [{ id: 0, kids: [], bytes: 0, layer: -1, kind: "d", dom: -1 }];
  nodeOf.set(0, 0);
  for (var i = 0; i < count; i++) {
    var nd = { id: F.p[i], kids: [], bytes: F.s[i], layer: F.l[i], kind: F.k[i], dom: F.l[i] };
    nodeOf.set(F.p[i], nodes.length); nodes.push(nd);
  }
  for (var j = 1; j < nodes.length; j++) {
    var par = nodeOf.get(D.parents[nodes[j].id]);
    if (par !== undefined) nodes[par].kids.push(j);
  }
  // Final tree order has parents before children: sum in reverse.
  for (var k = nodes.length - 1; k > 0; k--) {
    var nn = nodes[k];
    if (nn.kids.length) {
      var best = -1, bestBytes = -1, sum = nn.bytes;
      for (var q = 0; q < nn.kids.length; q++) { var c = nodes[nn.kids[q]]; sum += c.bytes; if (c.bytes > bestBytes) { bestBytes = c.bytes; best = c.dom; } }
      nn.bytes = sum; if (bestBytes > 0) nn.dom = best;
    }
  }
  var rootBytes = 0; nodes[0].kids.forEach(function (c) { rootBytes += nodes[c].bytes; }); nodes[0].bytes = rootBytes;

  var canvas = document.getElementById("treemap"), tip = document.getElementById("tip"), crumbs = document.getElementById("crumbs");
  var rects = [], zoom = 0, MAX_RECTS = 6000;
  function worst(sum, rmin, rmax, side) { var s2 = side * side, q = sum * sum; return Math.max(s2 * rmax / q, q / (s2 * rmin)); }
  function squarify(items, x, y, w, h, out) {
    var total = 0; items.forEach(function (it) { total += it.v; });
    if (total <= 0 || w <= 0 || h <= 0) return;
    var scale = (w * h) / total, i = 0;
    while (i < items.length) {
      var side = Math.min(w, h), row = [], rs = 0, rmin = Infinity, rmax = 0, cur = Infinity;
      while (i < items.length) {
        var a = items[i].v * scale, nmin = Math.min(rmin, a), nmax = Math.max(rmax, a);
        var wr = worst(rs + a, nmin, nmax, side);
        if (row.length && wr > cur) break;
        row.push(items[i]); rs += a; rmin = nmin; rmax = nmax; cur = wr; i++;
      }
      if (w >= h) {
        var rw = rs / h, yy = y;
        row.forEach(function (it) { var hh = it.v * scale / rw; out.push([it, x, yy, rw, hh]); yy += hh; });
        x += rw; w -= rw;
      } else {
        var rh = rs / w, xx = x;
        row.forEach(function (it) { var ww = it.v * scale / rh; out.push([it, xx, y, ww, rh]); xx += ww; });
        y += rh; h -= rh;
      }
    }
  }
  function layout(index, x, y, w, h, depth) {
    var nd = nodes[index];
    var items = [], small = 0, smallCount = 0, minArea = 6;
    var area = w * h, total = nd.bytes || 1;
    nd.kids.map(function (c) { return nodes[c]; }).sort(function (a, b) { return b.bytes - a.bytes; }).forEach(function (c) {
      if (c.bytes <= 0) return;
      if (c.bytes / total * area < minArea || rects.length + items.length > MAX_RECTS) { small += c.bytes; smallCount++; }
      else items.push({ v: c.bytes, node: c });
    });
    if (small > 0) items.push({ v: small, node: null, count: smallCount, parent: nd });
    var placed = [];
    squarify(items, x, y, w, h, placed);
    placed.forEach(function (p) {
      var it = p[0], rx = p[1], ry = p[2], rw = p[3], rh = p[4];
      if (!it.node) { rects.push({ x: rx, y: ry, w: rw, h: rh, node: null, parent: it.parent, count: it.count, bytes: it.v, depth: depth }); return; }
      var c = it.node, isDir = c.kind === "d" && c.kids.length > 0;
      rects.push({ x: rx, y: ry, w: rw, h: rh, node: c, bytes: c.bytes, depth: depth, dir: isDir });
      if (isDir && rw > 14 && rh > 24 && depth < 24 && rects.length < MAX_RECTS) layout(nodeOf.get(c.id), rx + 2, ry + 14, rw - 4, rh - 16, depth + 1);
    });
  }
  function drawTreemap() {
    var ratio = window.devicePixelRatio || 1, cw = canvas.clientWidth || 900, ch = canvas.clientHeight || 520;
    canvas.width = Math.round(cw * ratio); canvas.height = Math.round(ch * ratio);
    var ctx = canvas.getContext("2d"); ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cw, ch); ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "top";
    rects = [];
    if (nodes[zoom].bytes > 0) layout(zoom, 0, 0, cw, ch, 0);
    else { ctx.fillStyle = "#5f6b7a"; ctx.fillText("no file data", 10, 10); }
    rects.forEach(function (r) {
      var layer = r.node ? r.node.dom : (r.parent ? r.parent.dom : -1);
      // Merged small entries take the colour of their directory's main layer, a little faded.
      ctx.globalAlpha = r.node ? 1 : 0.6;
      ctx.fillStyle = r.dir ? color(r.node.dom, true) : color(layer, false);
      ctx.fillRect(r.x, r.y, r.w, r.h);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 1; ctx.strokeRect(r.x + 0.5, r.y + 0.5, Math.max(0, r.w - 1), Math.max(0, r.h - 1));
      if (r.w > 44 && r.h > 12) {
        var name = r.node ? D.names[r.node.id] + (r.dir ? "/" : "") : "(" + r.count + " smaller)";
        ctx.fillStyle = r.dir ? "#1d232b" : "#fff";
        var maxChars = Math.floor((r.w - 6) / 6.2);
        ctx.fillText(name.length > maxChars ? name.slice(0, Math.max(1, maxChars - 1)) + "…" : name, r.x + 3, r.y + 2);
      }
    });
    crumbs.textContent = "";
    var chain = [], cur = zoom;
    while (cur !== undefined) { chain.push(cur); if (cur === 0) break; cur = nodeOf.get(D.parents[nodes[cur].id]); }
    chain.reverse().forEach(function (idx, pos) {
      var a = el("a", null, idx === 0 ? "/" : D.names[nodes[idx].id] + "/");
      a.addEventListener("click", function () { zoom = idx; drawTreemap(); });
      crumbs.appendChild(a);
    });
    crumbs.appendChild(el("span", { class: "muted" }, "  " + size(nodes[zoom].bytes) + ", " + rects.length + " boxes"));
  }
  function hit(ev) {
    var b = canvas.getBoundingClientRect(), x = ev.clientX - b.left, y = ev.clientY - b.top, found = null;
    for (var i = rects.length - 1; i >= 0; i--) { var r = rects[i]; if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h) { found = r; break; } }
    return { r: found, x: x, y: y };
  }
  canvas.addEventListener("mousemove", function (ev) {
    var h = hit(ev);
    if (!h.r) { tip.style.display = "none"; return; }
    var r = h.r;
    tip.textContent = r.node ? pathOf(r.node.id) + (r.dir ? "/" : "") + "  ·  " + size(r.bytes) + "  ·  layer " + r.node.layer
      : r.count + " smaller entries in " + pathOf(r.parent.id) + "  ·  " + size(r.bytes);
    tip.style.display = "block"; tip.style.left = Math.min(h.x + 12, canvas.clientWidth - 300) + "px"; tip.style.top = (h.y + 12) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  canvas.addEventListener("click", function (ev) {
    var h = hit(ev); if (!h.r) return;
    var target = h.r.dir ? h.r.node : (h.r.node ? null : h.r.parent);
    if (target && target.kids.length) { zoom = nodeOf.get(target.id); drawTreemap(); }
  });
  window.addEventListener("resize", function () { drawTreemap(); });

  // Change list per layer.
  var select = document.getElementById("layer-select"), search = document.getElementById("search");
  var rowsEl = document.getElementById("rows"), countEl = document.getElementById("count"), MAX_ROWS = 1000, current = n - 1;
  D.layers.forEach(function (L) { select.appendChild(el("option", { value: String(L.i) }, "#" + L.i + "  " + (L.by || L.digest).slice(0, 70))); });
  function renderRows() {
    var L = D.layers[current]; if (!L) { countEl.textContent = "no layers"; return; }
    var f = L.files, q = search.value.toLowerCase(), shown = 0, matched = 0, want = {};
    document.querySelectorAll("input.chg").forEach(function (c) { want[c.value] = c.checked; });
    var frag = document.createDocumentFragment();
    for (var i = 0; i < f.p.length; i++) {
      var ch = f.c[i]; if (!want[ch]) continue;
      var p = pathOf(f.p[i]); if (q && p.toLowerCase().indexOf(q) < 0) continue;
      matched++;
      if (shown >= MAX_ROWS) continue;
      shown++;
      var tr = el("tr");
      tr.appendChild(el("td", { class: "chg-" + ch }, ch));
      tr.appendChild(el("td", { class: "path" }, p));
      tr.appendChild(el("td", null, KIND[f.k[i]] || f.k[i]));
      tr.appendChild(el("td", { class: "num" }, size(f.s[i])));
      tr.appendChild(el("td", null, ch === "D" ? "deleted here" : (f.l[i] >= 0 ? "layer " + f.l[i] : "")));
      frag.appendChild(tr);
    }
    rowsEl.textContent = ""; rowsEl.appendChild(frag);
    countEl.textContent = "layer " + L.i + ": " + matched + " of " + f.p.length + " change(s)" + (matched > shown ? ", first " + shown + " shown; refine the filter" : "");
    barNodes.forEach(function (g, i) { if (g) g.setAttribute("class", "layer-bar" + (i === current ? " selected" : "")); });
  }
  function selectLayer(i) { current = i; select.value = String(i); renderRows(); }
  select.addEventListener("change", function () { current = parseInt(select.value, 10); renderRows(); });
  search.addEventListener("input", renderRows);
  document.querySelectorAll("input.chg").forEach(function (c) { c.addEventListener("change", renderRows); });

  // Wasted list.
  var wastedEl = document.getElementById("wasted");
  if (!D.wasted.length) { var tr0 = el("tr"); tr0.appendChild(el("td", { colspan: "4" }, "Nothing wasted: every file a layer wrote is in the final image.")); wastedEl.appendChild(tr0); }
  D.wasted.forEach(function (w) {
    var tr = el("tr");
    tr.appendChild(el("td", { class: "num" }, size(w[1])));
    tr.appendChild(el("td", { class: "path" }, pathOf(w[0])));
    tr.appendChild(el("td", { class: "num" }, String(w[2])));
    tr.appendChild(el("td", { class: "num" }, String(w[3])));
    wastedEl.appendChild(tr);
  });

  drawTreemap();
  if (n > 0) selectLayer(n - 1);
  document.getElementById("status").textContent = "rendered " + n + " layer bar(s), " + count + " path(s), " + rects.length + " treemap box(es)";
  document.body.setAttribute("data-status", "ok");
  document.body.setAttribute("data-layers", String(n));
  document.body.setAttribute("data-boxes", String(rects.length));
})();
"""#
}
