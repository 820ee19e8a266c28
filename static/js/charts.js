/* Charts for the agent page and the panel, drawn with uPlot (static/vendor/uplot). No build step, no CDN.
 *
 * AcademyCharts.agentPage(box): fetch box.dataset.url (monitoring/charts.py agent_chart_data) and draw one
 *   chart per metric: a time axis (UTC), the unit on the value axis, the paging threshold as a dashed red
 *   line with its value, and the value under the pointer (hover, or tap on a phone) in the line above.
 * AcademyCharts.activity(box, data): the panel's runs per bucket with the halts marked; its add(event)
 *   keeps it live from the websocket's run_end and halt events, replace(data) resets it.
 * What the server sends goes in as textContent or canvas text, never as HTML.
 */
(function () {
  "use strict";

  var BLUE = "#174ea6", RED = "#b3261e", GRID = "#e6e8eb", MUTED = "#5b6470";
  var FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

  // --- formatting ------------------------------------------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function num(v) {
    // 0.0042, 12.5, 1200: at most 4 decimals under 1, 2 under 1000, none above; never an exponent
    if (v === null || v === undefined || isNaN(v)) return "—";
    var a = Math.abs(v);
    var s = a >= 1000 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toFixed(4);
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s === "-0" ? "0" : s;
  }
  function withUnit(v, unit) {
    if (unit === "halted") return v ? "halted" : "trading";
    return num(v) + " " + unit;
  }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function clock(t) { var d = new Date(t * 1000); return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()); }
  function stamp(t) {
    var d = new Date(t * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + clock(t);
  }
  function date(t) { var d = new Date(t * 1000); return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()); }
  // The time axis in 24-hour UTC, with the date under the first tick of each day.
  function timeTicks(u, splits) {
    return splits.map(function (t, i) {
      return i === 0 || date(t) !== date(splits[i - 1]) ? clock(t) + "\n" + date(t) : clock(t);
    });
  }
  var TIME_AXIS = { font: FONT, stroke: MUTED, grid: { stroke: GRID }, ticks: { stroke: GRID }, values: timeTicks,
    space: 60 };
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function chartHeight() { return window.matchMedia("(max-width: 640px)").matches ? 190 : 220; }
  function utc(ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); }

  // Keep every chart as wide as its box (phones rotate, windows resize).
  var live = [];
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      live.forEach(function (c) { c.u.setSize({ width: c.box.clientWidth, height: chartHeight() }); });
    }, 100);
  });
  function track(u, box) { live.push({ u: u, box: box }); box.uplot = u; }

  // A tap on a phone puts the cursor where the finger is, like a hover (uPlot follows the mouse only).
  function touchable(u) {
    function at(ev) {
      var t = ev.touches && ev.touches[0];
      if (!t) return;
      var r = u.over.getBoundingClientRect();
      u.setCursor({ left: t.clientX - r.left, top: t.clientY - r.top });
    }
    u.over.addEventListener("touchstart", at, { passive: true });
    u.over.addEventListener("touchmove", at, { passive: true });
  }

  // A dashed horizontal line across the plot with its label above it (below it near the top edge).
  function hline(u, value, color, text) {
    var ctx = u.ctx, r = uPlot.pxRatio, box = u.bbox;
    var y = Math.round(u.valToPos(value, "y", true)) + 0.5;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = 2 * r;
    ctx.setLineDash([6 * r, 4 * r]);
    ctx.beginPath();
    ctx.moveTo(box.left, y);
    ctx.lineTo(box.left + box.width, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.font = (12 * r) + "px system-ui, sans-serif";
    var w = ctx.measureText(text).width, h = 14 * r;
    var x = Math.max(box.left + 4 * r, box.left + box.width - w - 6 * r); // never over the value axis
    var top = y - h - 3 * r < box.top ? y + 3 * r : y - h - 3 * r;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(x - 3 * r, top, w + 6 * r, h);
    ctx.fillStyle = color;
    ctx.textBaseline = "top";
    ctx.fillText(text, x, top + 1 * r);
    ctx.restore();
  }

  // --- the agent page ----------------------------------------------------------------------------
  function agentPage(box) {
    box.replaceChildren(el("p", "muted", "Loading charts…"));
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.redirected) return { error: "Your session has ended: reload the page to log in again." };
        return r.json().catch(function () { return {}; }).then(function (d) {
          if (!r.ok && !d.error) d.error = "HTTP " + r.status;
          return d;
        });
      })
      .then(function (data) {
        if (data.error) { failed(box, data.error); return; }
        try { drawAll(box, data); } catch (err) { failed(box, "Charts could not be drawn: " + err.message + "."); }
      }, function (err) { failed(box, "Charts unavailable: the server did not answer (" + err.message + ")."); });
  }

  function failed(box, message) {
    box.replaceChildren(el("p", "errors chart-error", message));
  }

  function drawAll(box, data) {
    var figures = data.charts.map(function (c) { return figure(c, data); });
    box.replaceChildren.apply(box, figures);
    figures.forEach(function (fig, i) { if (data.charts[i].x.length) plot(fig, data.charts[i], data); });
  }

  function lineLabel(l, unit) {
    // On the canvas, short: "pages > 12 per hour", "halts < 9700 USDC" (the line above the chart says it all)
    var words = l.label.split(" ");
    return words[0] + (words[1] === "below" ? " < " : " > ") + withUnit(l.value, unit);
  }

  function thresholdText(c) {
    var t = c.threshold;
    if (!t.lines.length) return t.note ? "Threshold: " + t.note + "." : "";
    var lines = t.lines.map(function (l) { return l.label + " " + withUnit(l.value, c.unit); }).join(", ");
    return lines.charAt(0).toUpperCase() + lines.slice(1) + (t.rule ? " (rule: " + t.rule + ")" : "") + ".";
  }

  function figure(c, data) {
    var fig = el("figure", "chart");
    fig.dataset.metric = c.name;
    fig.dataset.samples = String(c.samples);
    if (c.threshold.lines.length) fig.dataset.threshold = String(c.threshold.lines[0].value);
    var caption = el("figcaption");
    caption.append(el("span", "chart-title", c.title), " ", el("span", "chart-unit", c.unit === "halted" ? "" : c.unit));
    fig.append(caption, el("p", "chart-threshold", thresholdText(c)));
    if (!c.x.length) {
      fig.append(el("p", "chart-empty", "No samples yet in the last " + plural(data.hours, "hour", "hours") + "."));
      return fig;
    }
    var readout = el("p", "chart-readout");
    readout.setAttribute("aria-live", "polite");
    fig.append(readout, el("div", "chart-plot"));
    var notes = [];
    if (c.downsampled) notes.push(c.samples + " samples drawn as " + c.x.length + " points (each stretch's low and high)");
    if (c.truncated) notes.push("the newest " + c.samples + " samples only");
    if (notes.length) fig.append(el("p", "muted chart-note", notes.join("; ") + "."));
    return fig;
  }

  function yRange(c) {
    var all = c.y.filter(function (v) { return v !== null; })
      .concat(c.threshold.lines.map(function (l) { return l.value; }));
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    if (c.from_zero) lo = Math.min(0, lo);
    if (hi === lo) hi = lo + (lo === 0 ? 1 : Math.abs(lo) * 0.01); // all zero: 0..1, not -1..1
    var room = (hi - lo) * 0.12;
    return [c.from_zero && lo >= 0 ? lo : lo - room, hi + room];
  }

  function plot(fig, c, data) {
    var box = fig.querySelector(".chart-plot"), readout = fig.querySelector(".chart-readout");
    var last = c.x.length - 1, range = yRange(c), state = c.unit === "halted";
    var latest = "Latest " + withUnit(c.y[last], c.unit) + " (" + stamp(c.x[last]) + " UTC), " +
      plural(c.samples, "sample", "samples") + ". Hover or tap for values.";
    readout.textContent = latest;
    var opts = {
      width: box.clientWidth, height: chartHeight(), tzDate: utc,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 9 } },
      scales: { x: { time: true, range: function () { return [data.from, data.to]; } },
                y: { range: function () { return range; } } },
      axes: [
        TIME_AXIS,
        { font: FONT, labelFont: FONT, stroke: MUTED, grid: { stroke: GRID }, ticks: { stroke: GRID }, size: 64,
          label: state ? "" : c.unit, labelSize: 20, splits: state ? function () { return [0, 1]; } : undefined,
          values: function (u, splits) {
            return splits.map(function (v) { return state ? (v === 1 ? "halted" : v === 0 ? "trading" : "") : num(v); });
          } },
      ],
      series: [{}, { label: c.title, stroke: BLUE, width: 2, fill: "rgba(23,78,166,0.06)",
        paths: state ? uPlot.paths.stepped({ align: 1 }) : undefined, points: { show: c.x.length <= 48, size: 5 } }],
      hooks: {
        draw: [function (u) {
          c.threshold.lines.forEach(function (l) { hline(u, l.value, RED, lineLabel(l, c.unit)); });
        }],
        setCursor: [function (u) {
          var i = u.cursor.idx;
          readout.textContent = i === null || i === undefined ? latest
            : stamp(u.data[0][i]) + " UTC: " + withUnit(u.data[1][i], c.unit);
        }],
      },
    };
    var u = new uPlot(opts, [c.x, c.y], box);
    touchable(u);
    track(u, box);
  }

  // --- the panel: runs per bucket and halts, kept live from the websocket -------------------------
  function activity(box, initial) {
    var data = null, u = null, counted = {}, countedMax = 0, lastId = 0;
    var readout = el("p", "chart-readout"), plotBox = el("div", "chart-plot");
    readout.setAttribute("aria-live", "polite");
    box.replaceChildren(readout, plotBox);

    function totals() {
      var runs = 0, bad = 0;
      data.runs.forEach(function (n, i) { runs += n; bad += data.failed[i]; });
      return "Last " + plural(Math.round((data.to - data.from) / 3600), "hour", "hours") + ": " +
        plural(runs, "run", "runs") + " ended, " + bad + " failed, " + plural(data.halts.length, "halt", "halts") +
        ". Hover or tap a bar for its figures.";
    }
    function bucketText(i) {
      var t = data.x[i], end = t + data.bucket_s;
      var halts = data.halts.filter(function (h) { return h.ts >= t && h.ts < end; });
      return clock(t) + "–" + clock(end) + " UTC: " + plural(data.runs[i], "run", "runs") + " ended, " +
        data.failed[i] + " failed" + (halts.length ? "; HALT: " + halts.map(function (h) { return h.reason; }).join("; ") : "");
    }
    function roll(now) {
      // Slide the window: add empty buckets up to `now`, drop as many from the start.
      var changed = false;
      while (data.x[data.x.length - 1] + data.bucket_s <= now) {
        data.x.push(data.x[data.x.length - 1] + data.bucket_s);
        data.runs.push(0);
        data.failed.push(0);
        data.x.shift(); data.runs.shift(); data.failed.shift();
        changed = true;
      }
      data.from = data.x[0];
      data.to = Math.max(data.to, now);
      data.halts = data.halts.filter(function (h) { return h.ts >= data.from; });
      return changed;
    }
    function redraw() {
      u.setData([data.x, data.runs, data.failed]);
      if (u.cursor.idx === null || u.cursor.idx === undefined) readout.textContent = totals();
    }
    function draw() {
      var bars = uPlot.paths.bars({ size: [0.85, 40], align: 1 });
      var opts = {
        width: plotBox.clientWidth, height: chartHeight(), tzDate: utc,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: false } },
        scales: { x: { time: true, range: function () { return [data.from, data.x[data.x.length - 1] + data.bucket_s]; } },
                  y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.15]; } } },
        axes: [
          TIME_AXIS,
          { font: FONT, labelFont: FONT, stroke: MUTED, grid: { stroke: GRID }, ticks: { stroke: GRID }, size: 50,
            label: "runs / " + Math.round(data.bucket_s / 60) + " min", labelSize: 20,
            values: function (u, splits) { return splits.map(function (v) { return v % 1 ? "" : String(v); }); } },
        ],
        series: [{}, { label: "runs ended", stroke: BLUE, fill: "rgba(23,78,166,0.35)", width: 1, paths: bars,
                       points: { show: false } },
                 { label: "failed", stroke: RED, fill: RED, width: 0, paths: bars, points: { show: false } }],
        hooks: {
          draw: [function (u) {
            var ctx = u.ctx, r = uPlot.pxRatio, b = u.bbox;
            data.halts.forEach(function (h) {
              var x = Math.round(u.valToPos(h.ts, "x", true)) + 0.5;
              ctx.save();
              ctx.strokeStyle = RED; ctx.lineWidth = 2 * r;
              ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
              ctx.fillStyle = RED; ctx.font = "bold " + (12 * r) + "px system-ui, sans-serif"; ctx.textBaseline = "top";
              var w = ctx.measureText("HALT").width; // on the line's left when its right is off the plot
              ctx.fillText("HALT", x + 3 * r + w > b.left + b.width ? x - w - 3 * r : x + 3 * r, b.top + 2 * r);
              ctx.restore();
            });
          }],
          setCursor: [function (u) {
            var i = u.cursor.idx;
            readout.textContent = i === null || i === undefined ? totals() : bucketText(i);
          }],
        },
      };
      u = new uPlot(opts, [data.x, data.runs, data.failed], plotBox);
      touchable(u);
      track(u, plotBox);
    }
    function replace(next) {
      data = next;
      lastId = next.last_id || 0;
      counted = {};
      countedMax = lastId;
      if (u) redraw(); else draw();
    }
    function add(e) {
      // Count each run end and halt once, and only those after the history the page was given.
      if (e.id <= lastId || counted[e.id] || (e.kind !== "run_end" && e.kind !== "halt")) return;
      counted[e.id] = true;
      countedMax = Math.max(countedMax, e.id);
      if (countedMax - lastId > 20000) { // forget ids far below the newest: they will not come again
        Object.keys(counted).forEach(function (k) { if (k < countedMax - 10000) delete counted[k]; });
        lastId = Math.max(lastId, countedMax - 10000);
      }
      var p = e.payload || {}, ts = Date.parse(p.at || p.ts || e.ts) / 1000;
      if (isNaN(ts)) return;
      roll(ts);
      if (e.kind === "halt") {
        data.halts.push({ ts: ts, source: p.source || "", reason: p.reason || "" });
      } else {
        var i = Math.floor((ts - data.x[0]) / data.bucket_s);
        if (i < 0 || i >= data.x.length) return;
        data.runs[i] += 1;
        if (data.failed_statuses.indexOf(p.status) >= 0) data.failed[i] += 1;
      }
      redraw();
    }
    replace(initial);
    setInterval(function () { if (roll(Date.now() / 1000)) redraw(); }, 30000);
    return { add: add, replace: replace };
  }

  window.AcademyCharts = { agentPage: agentPage, activity: activity, withUnit: withUnit, num: num };
  document.querySelectorAll("[data-charts=agent]").forEach(agentPage);
})();
