/* The live kill-switch panel. Vanilla JS, no build step, no CDN.
 *
 * 1. Render the snapshot embedded in the page at once.
 * 2. Open /ws/panel/?last_id=N: the server sends a fresh snapshot, the events after N, then live ones.
 * 3. On a lost connection say so plainly, reconnect with backoff, and catch up from the last id seen.
 *    The server sends a snapshot every 5 s, so STALE_MS without any message means the connection is
 *    dead even if the socket never closed (a frozen server, a dropped NAT mapping): same treatment.
 * lastId only advances from events actually delivered (and from the page's own snapshot, whose feed is
 * complete up to its last_id), never from a live snapshot: an event committed while a snapshot was
 * computed would otherwise be skipped by the next ?last_id catch-up.
 * Everything from the server is inserted as text (textContent), never as HTML.
 * The feed keeps the newest FEED_SIZE halts and alerts apart from the newest RUN_END_SIZE run ends (a fleet's
 * run ends never push a halt out), shows all, "halts and alerts" or "run ends" (the choice is remembered in
 * localStorage), and folds consecutive run ends into one line ("12 runs ended, 0 failed") that opens.
 * The activity chart (charts.js) starts from the page's history and counts the run ends and halts delivered.
 */
(function () {
  "use strict";

  var root = document.getElementById("panel");
  if (!root) return;
  var cfg = {
    ws: root.dataset.ws,
    haltUrl: root.dataset.haltUrl,
    resumeUrl: root.dataset.resumeUrl,
    runUrl: root.dataset.runUrl,
    agentUrl: root.dataset.agentUrl,
    activityUrl: root.dataset.activityUrl,
    canToggle: root.dataset.canToggle === "1",
  };
  var state = { lastId: 0, from: 0, opened: 0, feed: [], seen: {}, retry: 0, socket: null, timer: null, snapshot: null,
    lastMessageAt: 0, filter: "all", open: {}, chart: null };
  var STALE_MS = 12000; // the server sends a snapshot every 5 s: this much silence is a dead connection
  var WATCH_MS = 1000;
  var FEED_KINDS = { halt: 1, resume: 1, kill_switch: 1, run_end: 1, override: 1, alert: 1 };
  var FEED_SIZE = 30; // halts and alerts kept
  var RUN_END_SIZE = 60; // run ends kept, apart from them
  var FILTERS = { all: 1, alerts: 1, runs: 1 };
  var FILTER_KEY = "academy.panel.feed-filter";
  var FAILED = { error: 1 }; // as monitoring/charts.py FAILED: a budget stop is a stop, not a failure
  var STOPPED = { max_steps: 1, budget_tokens: 1, budget_tool_calls: 1, budget_time: 1, budget_cost: 1,
    kill_switch: 1, paused: 1 };

  // --- small DOM helpers ---------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "cls") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function replace(id, nodes) {
    var box = $(id);
    if (!box) return;
    box.replaceChildren.apply(box, nodes);
  }
  function when(iso) {
    if (!iso) return "";
    return iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", " UTC");
  }
  function link(template, key, value, text) {
    if (!template) return document.createTextNode(text);
    return el("a", { href: template.replace(key, encodeURIComponent(value)), text: text });
  }

  // --- rendering -------------------------------------------------------------------------------
  function render(snap, onConnect) {
    state.snapshot = snap;
    renderKillSwitch(snap.kill_switch, snap.override, snap.chatbot);
    renderAgents(snap.agents);
    renderMetrics(snap.metrics);
    renderList("alerts", snap.alerts, alertItem, "No firing alerts.");
    if (snap.approvals && $("approvals")) renderList("approvals", snap.approvals, approvalItem, "No pending approvals.");
    mergeFeed(snap.feed, onConnect, false); // a snapshot's feed never moves lastId (see the top)
  }

  function renderKillSwitch(ks, override, chatbot) {
    var box = $("ks-state");
    box.className = "state " + ks.state;
    box.textContent = ks.state === "halted" ? "HALTED" : ks.state === "running" ? "TRADING ENABLED"
      : "STATE UNKNOWN — treat as halted";
    var lines = [];
    if (ks.halted && ks.reason) {
      lines.push(el("p", {}, [el("strong", { text: "Reason: " }), ks.reason,
        el("span", { cls: "muted", text: " (" + (ks.source_label || ks.source) + ", since " + when(ks.since) + ")" })]));
    }
    if (ks.hold_in_force) {
      lines.push(el("p", { cls: "hold", id: "ks-hold" }, [el("strong", { text: "Hold in force until " + when(ks.hold_until) }),
        " — resume will be refused until then."]));
    }
    if (ks.needs_reconciliation) {
      lines.push(el("p", { cls: "hold" }, [el("strong", { text: "Chain drift: " }),
        "reconcile the venue with the chain by hand before resuming (manage.py reconcile_chain)."]));
    }
    if (ks.flag_file) lines.push(el("p", { text: "The flag file kill_switch.flag is present." }));
    if (ks.detail) lines.push(el("p", { cls: "errors", text: ks.detail }));
    if (override && (override.pause || override.error)) {
      lines.push(el("p", { cls: "hold" }, [el("strong", { text: "override.json: " }),
        override.error || ("every agent is PAUSED" + (override.note ? " — " + override.note : ""))]));
    }
    if (chatbot && (chatbot.state === "degraded" || chatbot.state === "down")) {
      lines.push(el("p", { cls: "hold", id: "chatbot-state" }, [
        el("strong", { text: "Chat bot " + chatbot.state.toUpperCase() + (chatbot.since ? " since " + when(chatbot.since) : "") + ": " }),
        chatbot.error || ""]));
    }
    replace("ks-detail", lines);
    showActions(ks);
  }

  function showActions(ks) {
    if (!cfg.canToggle) return;
    // Running: offer halt. Halted: offer resume. Unknown: offer both (halting is always safe).
    $("halt-form").hidden = ks.state === "halted";
    $("resume-form").hidden = ks.state === "running";
  }

  function renderAgents(agents) {
    if (!agents.length) { replace("agents", [el("p", { cls: "muted", text: "No agents yet." })]); return; }
    var rows = agents.map(function (a) {
      var run = a.last_run;
      return el("tr", { "data-agent": a.name }, [
        el("td", { "data-label": "Agent" }, [el("strong", {}, [link(cfg.agentUrl, "{name}", a.name, a.name)]),
          a.enabled ? null : el("span", { cls: "pill", text: "disabled" }),
          a.dry_run ? el("span", { cls: "pill", text: "dry run" }) : null]),
        el("td", { "data-label": "Status" }, [el("span", { cls: "pill status-" + a.status, text: a.status })]),
        el("td", { "data-label": "Last run" }, run ? [link(cfg.runUrl, "{id}", run.id, "#" + run.id), " ",
          el("span", { cls: "muted", text: run.status_label + " · " + when(run.started_at) })]
          : [el("span", { cls: "muted", text: "never" })]),
      ]);
    });
    replace("agents", [el("table", { cls: "responsive" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: "Agent" }), el("th", { text: "Status" }), el("th", { text: "Last run" })])]),
      el("tbody", {}, rows)])]);
  }

  function renderMetrics(metrics) {
    if (!metrics.length) { replace("metrics", [el("p", { cls: "muted", text: "No metrics yet." })]); return; }
    replace("metrics", metrics.map(function (m) {
      return el("div", { cls: "metric" + (m.breached ? " breached" : ""), "data-metric": m.name }, [
        el("div", { cls: "metric-name", text: m.name + (m.agent ? " · " + m.agent : "") }),
        el("div", { cls: "metric-value", text: m.value === null ? "—" : (m.shown || m.value) }),
        el("div", { cls: "muted", text: threshold(m) }),
      ]);
    }));
  }

  function threshold(m) {
    // "threshold 1 % (> 1 %)": the figure in its unit, then the rule that set it when it says more
    if (m.label_shown === "pages whenever halted") return m.label_shown;
    var figure = m.threshold_shown || m.threshold || "—";
    var rule = m.label_shown !== undefined ? m.label_shown : m.label;
    return "threshold " + figure + (rule && rule !== "> " + figure ? " (" + rule + ")" : "");
  }

  function renderList(id, items, fn, empty) {
    replace(id, items.length ? items.map(fn) : [el("li", { cls: "muted", text: empty })]);
  }
  function alertItem(a) {
    return el("li", { cls: "alert-" + a.severity }, [el("strong", { text: a.title }),
      el("span", { cls: "muted", text: " ×" + a.fire_count + " · since " + when(a.first_fired_at) })]);
  }
  function approvalItem(r) {
    return el("li", {}, [el("strong", { text: r.side + " " + r.size + " " + r.outcome + " " + r.market + " @ " + r.price }),
      " (" + r.notional + " USDC) by ", r.agent, el("span", { cls: "muted", text: " · expires " + when(r.expires_at) + " · " +
      (r.reasons || []).join(", ") })]);
  }

  // --- the feed: outbox events, merged by id (catch-up and live may overlap) ------------------
  function mergeFeed(events, onConnect, delivered) {
    // An event first seen right after a REconnect, newer than what we had, happened while we were away.
    var away = onConnect && state.opened > 1;
    events.forEach(function (e) {
      if (delivered && e.id > state.lastId) state.lastId = e.id;
      if (state.chart) state.chart.add(e); // counts each run end and halt once, whichever way it came
      if (state.seen[e.id] || !FEED_KINDS[e.kind]) return;
      state.seen[e.id] = true;
      e.missed = away && e.id > state.from;
      state.feed.push(e);
    });
    state.feed.sort(function (a, b) { return b.id - a.id; });
    var notable = 0, runs = 0;
    state.feed = state.feed.filter(function (e) {
      return e.kind === "run_end" ? ++runs <= RUN_END_SIZE : ++notable <= FEED_SIZE;
    });
    renderFeed();
  }

  function renderFeed() {
    var shown = state.feed.filter(function (e) {
      return state.filter === "all" || (state.filter === "runs") === (e.kind === "run_end");
    });
    if (!shown.length) {
      var empty = { all: "Nothing yet.", alerts: "No halts or alerts yet.", runs: "No run ends yet." }[state.filter];
      replace("feed", [el("li", { cls: "muted", text: empty })]);
      return;
    }
    replace("feed", state.filter === "all" ? folded(shown) : shown.map(feedItem));
  }

  function folded(events) {
    // Consecutive run ends (two or more) become one line that opens; a halt stands on its own line.
    var out = [], run = [];
    function flush() {
      if (run.length === 1) out.push(feedItem(run[0]));
      else if (run.length > 1) out.push(runGroup(run));
      run = [];
    }
    events.forEach(function (e) {
      if (e.kind === "run_end") { run.push(e); return; }
      flush();
      out.push(feedItem(e));
    });
    flush();
    return out;
  }

  function runGroup(events) {
    var key = String(events[events.length - 1].id); // its oldest event: newer run ends join at the top
    var failed = 0, stopped = 0;
    events.forEach(function (e) {
      var status = (e.payload || {}).status;
      if (FAILED[status]) failed += 1;
      else if (STOPPED[status]) stopped += 1;
    });
    var summary = el("summary", {}, [el("strong", { text: events.length + " runs ended, " + failed + " failed" +
      (stopped ? ", " + stopped + " stopped early" : "") }),
      el("span", { cls: "muted", text: " · " + when(events[events.length - 1].ts) + " – " +
        when(events[0].ts).replace(/^\S+ /, "") })]); // the newest: its time only
    var details = el("details", {}, [summary, el("ol", { cls: "plain" }, events.map(feedItem))]);
    details.open = !!state.open[key];
    details.addEventListener("toggle", function () {
      if (details.open) state.open[key] = true; else delete state.open[key];
    });
    return el("li", { cls: "feed-group" + (failed ? " has-failed" : ""), "data-group": key }, [details]);
  }

  function wireFilter() {
    var saved = null;
    try { saved = window.localStorage.getItem(FILTER_KEY); } catch (e) { /* storage blocked: default */ }
    setFilter(FILTERS[saved] ? saved : "all", false);
    document.querySelectorAll("[data-feed-filter]").forEach(function (button) {
      button.addEventListener("click", function () { setFilter(button.dataset.feedFilter, true); });
    });
  }

  function setFilter(name, remember) {
    state.filter = name;
    document.querySelectorAll("[data-feed-filter]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.feedFilter === name));
    });
    if (remember) {
      try { window.localStorage.setItem(FILTER_KEY, name); } catch (e) { /* storage blocked: this page only */ }
    }
    renderFeed();
  }

  function feedItem(e) {
    var p = e.payload || {};
    var parts = [el("span", { cls: "muted", text: when(e.ts) + " " }), el("span", { cls: "pill kind-" + e.kind, text: feedLabel(e) }), " "];
    if (e.kind === "run_end") {
      parts.push(link(cfg.runUrl, "{id}", p.run, "run #" + p.run), " of " + p.agent + " ended: " + p.status +
        " (" + p.steps + " steps, " + p.cost + " USD)");
    } else if (e.kind === "alert") {
      parts.push(p.title || p.key || "", el("span", { cls: "muted", text: p.count > 1 ? " ×" + p.count : "" }));
    } else {
      parts.push((p.actor ? p.actor + " via " : "") + (p.source || "") + ": " + (p.reason || p.note || ""));
      if (p.orders_cancelled) parts.push(" — " + p.orders_cancelled + " order(s) cancelled");
      if (p.errors && p.errors.length) parts.push(el("span", { cls: "errors", text: " — errors: " + p.errors.join("; ") }));
    }
    if (e.missed) parts.push(el("span", { cls: "pill", text: "missed while disconnected" }));
    return el("li", { "data-event": e.id }, parts);
  }
  function feedLabel(e) {
    if (e.kind === "kill_switch") return (e.payload.action || "kill switch").toUpperCase();
    if (e.kind === "alert") return e.payload.state === "resolved" ? "ALERT RESOLVED" : "ALERT";
    return e.kind.replace("_", " ").toUpperCase();
  }

  // --- the connection ------------------------------------------------------------------------
  function setConn(text, ok) {
    var box = $("conn");
    box.textContent = text;
    box.className = "conn " + (ok ? "live" : "down");
    $("ks-state").classList.toggle("stale", !ok);
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    state.from = state.lastId;
    var ws = new WebSocket(proto + location.host + cfg.ws + "?last_id=" + state.lastId);
    state.socket = ws;
    ws.onopen = function () { state.retry = 0; state.opened += 1; state.lastMessageAt = Date.now(); setConn("live", true); };
    ws.onmessage = function (msg) {
      if (state.socket !== ws) return; // a socket we gave up on: ignore what it still says
      state.lastMessageAt = Date.now();
      handle(JSON.parse(msg.data));
    };
    ws.onclose = function () { if (state.socket === ws) { state.socket = null; scheduleReconnect(); } };
  }

  function watchdog() {
    // An open socket that says nothing for STALE_MS is as good as closed: drop it, say so, reconnect.
    var ws = state.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN || Date.now() - state.lastMessageAt <= STALE_MS) return;
    state.socket = null;
    try { ws.close(); } catch (e) { /* already closing */ }
    scheduleReconnect("no message from the server for " + Math.round(STALE_MS / 1000) + " s");
  }

  function scheduleReconnect(why) {
    // 0.5, 1, 2, 4, 8, 10, 10… seconds with jitter, so a restarted server is not stampeded.
    var delay = Math.min(10, 0.5 * Math.pow(2, state.retry)) * (0.8 + Math.random() * 0.4);
    state.retry += 1;
    setConn("disconnected" + (why ? " (" + why + ")" : "") + " — reconnecting in " + delay.toFixed(1) +
      " s (the state shown may be stale)", false);
    clearTimeout(state.timer);
    state.timer = setTimeout(connect, delay * 1000);
  }

  function handle(msg) {
    if (msg.type === "snapshot") render(msg.snapshot, true);
    else if (msg.type === "events") {
      mergeFeed(msg.events, msg.catchup, true);
      if (msg.truncated) reloadActivity(); // more was missed than the catch-up carries: recount from the server
    }
    else if (msg.type === "error") say(msg.message, false);
  }

  // --- halt and resume: POSTs with the CSRF token in the form ---------------------------------
  function say(text, ok) {
    var box = $("action-message");
    box.textContent = text;
    box.className = ok ? "ok-text" : "errors";
  }

  function post(form) {
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-Panel-Fetch": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.json().catch(function () { return { ok: false, message: "HTTP " + r.status }; }); })
      .then(function (answer) {
        say(answer.message, answer.ok);
        if (answer.ok) { form.reset(); hideConfirm(); }
      })
      .catch(function (err) { say("Not sent: " + err + ". Check the connection and try again.", false); })
      .then(function () { button.disabled = false; });
  }

  function hideConfirm() { if ($("halt-confirm")) { $("halt-confirm").hidden = true; $("halt-button").hidden = false; } }

  function wireActions() {
    if (!cfg.canToggle) return;
    hideConfirm(); // without JS the confirm step is simply visible; with JS it is one tap away
    $("halt-button").addEventListener("click", function () {
      $("halt-button").hidden = true;
      $("halt-confirm").hidden = false;
      $("halt-reason").focus();
    });
    $("halt-cancel").addEventListener("click", hideConfirm);
    ["halt-form", "resume-form"].forEach(function (id) {
      $(id).addEventListener("submit", function (ev) { ev.preventDefault(); post(ev.target); });
    });
  }

  // --- the activity chart (charts.js) ---------------------------------------------------------
  function startActivity() {
    var data = JSON.parse($("panel-activity").textContent);
    if (!data || data.error) return; // the page says why
    try {
      state.chart = window.AcademyCharts.activity($("activity"), data);
    } catch (err) { // the panel must work without its chart
      replace("activity", [el("p", { cls: "errors chart-error", text: "Chart could not be drawn: " + err.message })]);
    }
  }

  function reloadActivity() {
    if (!cfg.activityUrl || !state.chart) return;
    fetch(cfg.activityUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (!data.error) state.chart.replace(data); })
      .catch(function () { /* keep what is drawn; the next reconnect tries again */ });
  }

  var initial = JSON.parse($("panel-snapshot").textContent);
  wireFilter();
  startActivity();
  render(initial, false);
  state.lastId = Math.max(state.lastId, initial.last_id || 0); // the page's feed is complete up to last_id
  wireActions();
  connect();
  setInterval(watchdog, WATCH_MS);
})();
