/**
 * The dashboard page: one HTML document with its CSS and script inline (no CDN, no build step).
 * The script fetches `/api/status`, shows the newest events, then follows `/api/stream` and
 * re-fetches the status (debounced) on every event.
 *
 * @module
 */

/** The page's style sheet. */
export const pageCss = `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --dim: #6b7385; --line: #e2e5eb;
  --green: #2f9e5b; --blue: #2f6fd6; --amber: #d08a10; --red: #d0453a; --grey: #aab1bf; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: #1d2330; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
header .project { color: #b8c0d0; font-size: 13px; }
header .live { margin-left: auto; font-size: 13px; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; background: var(--grey); }
.live.on .dot { background: #4cd67f; }
#banner { display: none; padding: 10px 20px; background: var(--red); color: #fff; font-weight: 600; }
#banner.show { display: block; }
main { display: grid; grid-template-columns: minmax(0, 2fr) minmax(320px, 1fr); gap: 16px; padding: 16px 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 16px; }
section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim); margin: 0 0 10px; }
.pilots { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; }
.pilot { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.pilot .name { font-weight: 600; }
.badge { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 10px; color: #fff; margin-left: 6px; vertical-align: 1px; }
.badge.active { background: var(--green); } .badge.quiet { background: var(--grey); } .badge.lost { background: var(--red); }
.small { font-size: 12px; color: var(--dim); }
.board { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px; }
.column h3 { font-size: 13px; margin: 0 0 6px; }
.column .items { display: flex; flex-direction: column; gap: 6px; max-height: 340px; overflow: auto; }
.sortie { border-left: 4px solid var(--grey); background: #fafbfc; border-radius: 4px; padding: 5px 8px; }
.sortie.blocked { border-color: var(--amber); } .sortie.in_progress { border-color: var(--blue); } .sortie.closed { border-color: var(--green); }
.mission { margin-bottom: 8px; }
.bar { display: flex; height: 12px; border-radius: 6px; overflow: hidden; background: var(--line); margin-top: 3px; }
.bar span { display: block; height: 100%; }
.bar .closed { background: var(--green); } .bar .in_progress { background: var(--blue); } .bar .blocked { background: var(--amber); }
table { width: 100%; border-collapse: collapse; }
td, th { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); font-size: 13px; }
th { color: var(--dim); font-weight: 500; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; }
#feed { list-style: none; margin: 0; padding: 0; max-height: 900px; overflow: auto; }
#feed li { padding: 4px 0; border-bottom: 1px solid var(--line); font-size: 13px; }
#feed .seq, #feed .time { color: var(--dim); font: 12px ui-monospace, Menlo, Consolas, monospace; margin-right: 6px; }
#feed .actor { font-weight: 600; margin-right: 6px; }
.empty { color: var(--dim); font-style: italic; }
`

/** The page's script (plain browser JavaScript). */
export const pageJs = `
(function () {
  "use strict";
  var token = new URLSearchParams(location.search).get("token");
  var withToken = function (path) {
    return token ? path + (path.indexOf("?") >= 0 ? "&" : "?") + "token=" + encodeURIComponent(token) : path;
  };
  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  var FEED_MAX = 300;
  var lastSeq = -1;
  var fetchedAt = Date.now();

  var banner = function (text) {
    $("banner").textContent = text || "";
    $("banner").className = text ? "show" : "";
  };
  var setLive = function (on) {
    $("live").className = on ? "live on" : "live";
    $("live-text").textContent = on ? "live" : "reconnecting…";
  };
  var clock = function (iso) { var d = new Date(iso); return d.toLocaleTimeString([], { hour12: false }); };
  var left = function (ms) {
    var s = Math.max(0, Math.round((ms - (Date.now() - fetchedAt)) / 1000));
    return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
  };

  var addEvent = function (e) {
    var li = el("li", "event");
    li.setAttribute("data-seq", String(e.sequence));
    li.appendChild(el("span", "seq", "#" + e.sequence));
    li.appendChild(el("span", "time", clock(e.timestamp)));
    if (e.actor) li.appendChild(el("span", "actor", e.actor));
    li.appendChild(el("span", "text", e.text));
    var feed = $("feed");
    feed.insertBefore(li, feed.firstChild);
    while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
    if (e.sequence > lastSeq) lastSeq = e.sequence;
    var empty = $("feed-empty");
    if (empty) empty.remove();
  };

  var fill = function (id, nodes, emptyText) {
    var box = $(id);
    box.textContent = "";
    if (nodes.length === 0) box.appendChild(el("div", "empty", emptyText));
    nodes.forEach(function (n) { box.appendChild(n); });
  };

  // "… and N more" when a view lists only its first rows of count.
  var more = function (nodes, count) {
    if (count > nodes.length) nodes.push(el("div", "small", "… and " + (count - nodes.length) + " more"));
    return nodes;
  };

  var render = function (s) {
    $("project").textContent = s.project.key + " · " + s.project.database;
    fill("pilots", more(s.pilots.map(function (p) {
      var card = el("div", "pilot");
      card.setAttribute("data-callsign", p.callsign);
      var name = el("div", "name", p.callsign);
      name.appendChild(el("span", "badge " + p.liveness, p.liveness));
      card.appendChild(name);
      if (p.working_on.length) card.appendChild(el("div", "", "working on " + p.working_on.map(function (w) { return w.title; }).join(", ")));
      else if (p.task) card.appendChild(el("div", "", p.task));
      if (p.locks.length) card.appendChild(el("div", "small", "locks: " + p.locks.join(", ")));
      if (p.reservations.length) card.appendChild(el("div", "small", "files: " + p.reservations.join(" ")));
      card.appendChild(el("div", "small", "last seen " + clock(p.last_active_at)));
      return card;
    }), s.counts.pilots), "no pilots yet");

    var columns = [["open", "Open"], ["blocked", "Blocked"], ["in_progress", "In progress"], ["closed", "Closed"]];
    var board = $("board");
    board.textContent = "";
    columns.forEach(function (c) {
      var group = s.sorties[c[0]];
      var col = el("div", "column");
      col.setAttribute("data-status", c[0]);
      col.appendChild(el("h3", "", c[1] + " (" + group.count + ")"));
      var items = el("div", "items");
      group.items.forEach(function (t) {
        var card = el("div", "sortie " + c[0]);
        card.appendChild(el("div", "", t.title));
        var meta = [];
        if (t.assigned_to) meta.push(t.assigned_to);
        if (t.mission) meta.push(t.mission);
        if (meta.length) card.appendChild(el("div", "small", meta.join(" · ")));
        if (t.blocked_reason) card.appendChild(el("div", "small", "blocked: " + t.blocked_reason));
        items.appendChild(card);
      });
      if (group.count > group.items.length) items.appendChild(el("div", "small", "… and " + (group.count - group.items.length) + " more"));
      col.appendChild(items);
      board.appendChild(col);
    });

    fill("missions", more(s.missions.map(function (m) {
      var box = el("div", "mission");
      box.appendChild(el("div", "", m.title + " — " + m.percent + "% (" + m.by_status.closed + "/" + m.total + " closed, " + m.status.replace("_", " ") + ")"));
      var bar = el("div", "bar");
      ["closed", "in_progress", "blocked"].forEach(function (k) {
        var part = el("span", k);
        part.style.width = (m.total ? (100 * m.by_status[k]) / m.total : 0) + "%";
        part.title = m.by_status[k] + " " + k.replace("_", " ");
        bar.appendChild(part);
      });
      box.appendChild(bar);
      return box;
    }), s.counts.missions.total), "no missions");

    var rows = s.locks.map(function (l) { return ["lock", l.key, l.holder, l.ms_left]; })
      .concat(s.reservations.map(function (r) { return [r.exclusive ? "files" : "files (shared)", r.path, r.holder, r.ms_left]; }));
    var table = el("table");
    var head = el("tr");
    ["", "what", "holder", "time left"].forEach(function (h) { head.appendChild(el("th", "", h)); });
    table.appendChild(head);
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("td", "small", r[0]));
      var what = el("td"); what.appendChild(el("code", "", r[1])); tr.appendChild(what);
      tr.appendChild(el("td", "", r[2]));
      var t = el("td", "left", left(r[3])); t.setAttribute("data-ms", String(r[3])); tr.appendChild(t);
      table.appendChild(tr);
    });
    var hidden = s.counts.locks + s.counts.reservations - rows.length;
    var holds = rows.length ? [table] : [];
    if (hidden > 0) holds.push(el("div", "small", "… and " + hidden + " more"));
    fill("holds", holds, "nothing held");

    fill("threads", s.threads.length ? [(function () {
      var t = el("table");
      var h = el("tr");
      ["subject", "participants", "msgs", "unread", "unacked"].forEach(function (x) { h.appendChild(el("th", "", x)); });
      t.appendChild(h);
      s.threads.forEach(function (th) {
        var tr = el("tr");
        tr.appendChild(el("td", "", th.subject));
        tr.appendChild(el("td", "small", th.participants.join(", ")));
        tr.appendChild(el("td", "", th.messages));
        tr.appendChild(el("td", "", th.unread));
        tr.appendChild(el("td", "", th.unacked));
        t.appendChild(tr);
      });
      return t;
    })()] : [], "no messages");
  };

  var loading = false, again = false, timer = null;
  var loadStatus = function () {
    if (loading) { again = true; return; }
    loading = true;
    fetch(withToken("/api/status")).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { banner("database unavailable" + (res.body && res.body.detail ? ": " + res.body.detail : "")); return; }
      banner(null);
      fetchedAt = Date.now();
      render(res.body);
    }).catch(function () { banner("dashboard server unreachable"); }).then(function () {
      loading = false;
      if (again) { again = false; refresh(); }
    });
  };
  // Many events in a burst cost one status read.
  var refresh = function () {
    if (timer !== null) return;
    timer = setTimeout(function () { timer = null; loadStatus(); }, 150);
  };

  var connect = function () {
    var source = new EventSource(withToken("/api/stream?after=" + lastSeq));
    source.onopen = function () { setLive(true); refresh(); };
    source.onmessage = function (m) { addEvent(JSON.parse(m.data)); refresh(); };
    source.onerror = function () {
      setLive(false);
      // The browser retries by itself (with Last-Event-ID) unless the stream failed for good.
      if (source.readyState === 2) { source.close(); setTimeout(connect, 1000); }
    };
  };

  var start = function () {
    fetch(withToken("/api/events?limit=100")).then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.json();
    }).then(function (body) {
      body.events.forEach(addEvent);
      if (lastSeq < 0) lastSeq = 0;
      connect();
    }).catch(function () { banner("database unavailable"); setTimeout(start, 1000); });
    loadStatus();
  };

  setInterval(function () {
    var cells = document.querySelectorAll("td.left");
    for (var i = 0; i < cells.length; i++) cells[i].textContent = left(Number(cells[i].getAttribute("data-ms")));
  }, 1000);
  start();
})();
`

/** The page. */
export const pageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>FleetTools dashboard</title>
<style>${pageCss}</style>
</head>
<body>
<header>
  <h1>FleetTools</h1>
  <span class="project" id="project"></span>
  <span class="live" id="live"><span class="dot"></span><span id="live-text">connecting…</span></span>
</header>
<div id="banner" role="alert"></div>
<main>
  <div>
    <section><h2>Pilots</h2><div class="pilots" id="pilots"></div></section>
    <section><h2>Sorties</h2><div class="board" id="board"></div></section>
    <section><h2>Missions</h2><div id="missions"></div></section>
    <section><h2>Locks and reservations</h2><div id="holds"></div></section>
    <section><h2>Message threads</h2><div id="threads"></div></section>
  </div>
  <div>
    <section><h2>Events, newest first</h2><ul id="feed"><li class="empty" id="feed-empty">no events yet</li></ul></section>
  </div>
</main>
<script>${pageJs}</script>
</body>
</html>
`
