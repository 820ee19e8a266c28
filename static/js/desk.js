/* The desk: ask the server for its sections every few seconds and swap them in.
   A section holding a form the user is filling in (focus, or a typed reason) is left alone this round. */
(function () {
  "use strict";
  var root = document.getElementById("desk");
  if (!root) return;
  var url = root.getAttribute("data-state-url");
  var every = parseInt(root.getAttribute("data-poll-ms"), 10) || 3000;

  function busy(el) {
    if (el.contains(document.activeElement) && document.activeElement !== document.body) return true;
    var inputs = el.querySelectorAll("input[name=reason]");
    for (var i = 0; i < inputs.length; i++) if (inputs[i].value) return true;
    return false;
  }

  function swap(html) {
    Object.keys(html).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && !busy(el)) el.innerHTML = html[id];
    });
  }

  function unreachable(detail) {
    var el = document.getElementById("desk-venue");
    if (el && !el.querySelector(".page-down")) {
      var p = document.createElement("p");
      p.className = "venue-down page-down";
      p.textContent = "This server did not answer at " + new Date().toTimeString().slice(0, 8) +
        " (" + detail + "): the figures below are stale.";
      el.appendChild(p);
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) { swap(data.html); root.setAttribute("data-venue-ok", data.venue_ok ? "1" : "0"); })
      .catch(function (err) { unreachable(String(err.message || err)); })
      .then(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
})();
