// The operators' dashboard: reads the admin JSON routes with a token kept in sessionStorage,
// and redraws every REFRESH_MS. Text goes in with textContent only: nothing is parsed as HTML.
"use strict";

const TOKEN_KEY = "atelier.adminToken";
const REFRESH_MS = 5000;
const SVG = "http://www.w3.org/2000/svg";
const STATUSES = ["pending", "processing", "completed", "failed", "cancelled", "expired"];
const TOKEN_FIGURES = ["granted", "reserved", "captured", "released"];
const ROUTES = {
  stats: "/api/admin/stats",
  activity: "/api/admin/activity?minutes=60",
  failures: "/api/admin/generations?status=failed&limit=10",
  top: "/api/admin/users/top?hours=24&limit=10",
  nearLimit: "/api/admin/users/near-limit?limit=10",
};

let timer = null;

function byId(id) {
  return document.getElementById(id);
}

function setText(id, value) {
  byId(id).textContent = value === null || value === undefined ? "-" : String(value);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "-";
}

class Refused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function read(path, token) {
  const response = await fetch(path, {
    headers: { Authorization: "Bearer " + token, Accept: "application/json" },
    cache: "no-store",
  });
  let body = null;
  try {
    body = await response.json();
  } catch (ignored) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error : "HTTP " + response.status;
    throw new Refused(response.status, message);
  }
  return body.data;
}

function showSignIn(message) {
  clearTimeout(timer);
  byId("board").hidden = true;
  byId("sign-in").hidden = false;
  byId("sign-out").hidden = true;
  setText("status-line", "Not signed in");
  const alert = byId("auth-message");
  alert.hidden = !message;
  alert.textContent = message || "";
}

function refusalMessage(error) {
  if (error.status === 401) {
    return "That admin token was refused: it is wrong or has expired (" + error.message +
      "). Paste a fresh one from `atelier token NAME --role admin`.";
  }
  if (error.status === 403) {
    return "That token is not an admin token (" + error.message + "). Use one made with --role admin.";
  }
  return null;
}

function rows(tableId, items, cells, empty) {
  const body = byId(tableId).tBodies[0];
  body.replaceChildren();
  if (items.length === 0) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = byId(tableId).tHead ? byId(tableId).tHead.rows[0].cells.length : 2;
    cell.className = "muted";
    cell.textContent = empty;
    return;
  }
  for (const item of items) {
    const row = body.insertRow();
    for (const [value, className] of cells(item)) {
      const cell = row.insertCell();
      cell.textContent = value === null || value === undefined ? "-" : String(value);
      if (className) cell.className = className;
    }
  }
}

function drawQueue(queue) {
  setText("queue-depth", queue.depth);
  setText("queue-capacity", queue.capacity);
  setText("queue-processing", queue.processing);
  setText("queue-oldest", queue.oldestPendingAt ? when(queue.oldestPendingAt) : "none pending");
  const share = queue.capacity > 0 ? Math.min(1, queue.depth / queue.capacity) : 0;
  const meter = byId("queue-meter");
  meter.style.width = (share * 100).toFixed(1) + "%";
  meter.classList.toggle("full", share >= 1);
}

function drawStats(stats) {
  drawQueue(stats.queue);
  rows("status-table", STATUSES, (s) => [[s], [stats.generations[s], "number"]], "");
  rows("tokens-table", TOKEN_FIGURES, (f) => [[f], [stats.tokens[f], "number"]], "");
  rows("projections-table", stats.projections, (p) => [
    [p.name], [p.position, "number"], [p.lag, "number"],
    p.failing ? ["stalled at " + p.failedAtPosition + ": " + p.error, "stalled"] : ["ok"],
  ], "no views");
  const generator = stats.generator;
  setText("generator", generator ? generator.name + ": circuit " + generator.circuit : "unknown");
  byId("generator").classList.toggle("stalled", Boolean(generator && generator.circuit !== "closed"));
  const hooks = stats.webhooks;
  setText("webhooks", hooks
    ? hooks.pending + " pending, " + hooks.succeeded + " succeeded, " + hooks.failed + " failed"
    : "none");
  byId("webhooks").classList.toggle("stalled", Boolean(hooks && hooks.failed > 0));
}

function svg(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function drawActivity(activity) {
  const buckets = activity.buckets;
  const width = 960, height = 180, left = 28, bottom = 18, top = 6;
  const peak = Math.max(1, ...buckets.map((b) => Math.max(b.submitted, b.completed, b.failed)));
  const step = (width - left) / Math.max(1, buckets.length);
  const y = (value) => height - bottom - (value / peak) * (height - bottom - top);
  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img",
    "aria-label": "submissions, completions and failures per minute" });
  chart.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
  for (const value of [0, peak]) {
    const label = svg("text", { class: "tick", x: 0, y: y(value) + 4 });
    label.textContent = String(value);
    chart.append(label);
  }
  buckets.forEach((bucket, i) => {
    if (bucket.submitted > 0) {
      chart.append(svg("rect", { class: "bar submitted", x: left + i * step + 1, y: y(bucket.submitted),
        width: Math.max(1, step - 2), height: height - bottom - y(bucket.submitted) }));
    }
  });
  for (const figure of ["completed", "failed"]) {
    const points = buckets.map((b, i) => (left + (i + 0.5) * step).toFixed(1) + "," + y(b[figure]).toFixed(1));
    chart.append(svg("polyline", { class: "line " + figure, points: points.join(" ") }));
  }
  for (const i of [0, buckets.length - 1]) {
    if (buckets[i] === undefined) continue;
    const label = svg("text", { class: "tick", x: left + i * step, y: height - 4 });
    label.textContent = when(buckets[i].start);
    chart.append(label);
  }
  byId("activity-chart").replaceChildren(chart);
  const sum = (figure) => buckets.reduce((total, b) => total + b[figure], 0);
  setText("activity-totals", "In the hour: " + sum("submitted") + " submitted, " + sum("completed") +
    " completed, " + sum("failed") + " failed, " + sum("cancelled") + " cancelled, " +
    sum("expired") + " expired, " + sum("tokensCaptured") + " tokens captured");
}

function drawLists(failures, top, nearLimit) {
  rows("failures-table", failures, (g) => [
    [when(g.completedAt || g.updatedAt)], [g.userId], [g._id], [g.error, "reason"],
  ], "no failures");
  rows("top-table", top, (u) => [[u.userId], [u.generations, "number"], [u.tokensCaptured, "number"]],
    "no generations in 24 h");
  rows("limit-table", nearLimit, (u) => [[u.userId], [u.used + " / " + u.limit, "number"], [when(u.resetAt)]],
    "nobody near the limit");
}

async function refresh() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    showSignIn(null);
    return;
  }
  try {
    const names = Object.keys(ROUTES);
    const answers = await Promise.all(names.map((name) => read(ROUTES[name], token)));
    const data = Object.fromEntries(names.map((name, i) => [name, answers[i]]));
    drawStats(data.stats);
    drawActivity(data.activity);
    drawLists(data.failures, data.top, data.nearLimit);
    byId("sign-in").hidden = true;
    byId("board").hidden = false;
    byId("sign-out").hidden = false;
    setText("status-line", "Updated " + new Date().toLocaleTimeString() + ", every " + REFRESH_MS / 1000 + " s");
  } catch (error) {
    const refused = error instanceof Refused ? refusalMessage(error) : null;
    if (refused) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(refused);
      return;
    }
    setText("status-line", "Could not refresh (" + error.message + "); retrying");
  }
  clearTimeout(timer);
  timer = setTimeout(refresh, REFRESH_MS);
}

function start() {
  byId("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = byId("token-input").value.trim();
    byId("token-input").value = "";
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    refresh();
  });
  byId("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(null);
  });
  refresh();
}

document.addEventListener("DOMContentLoaded", start);
