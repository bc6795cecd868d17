// Pure functions the screens share: formatting, the Marathon group tree as rows, a
// service's status and health, filtering and paging. No DOM, no fetch (tests import this
// module in the browser and call these directly).

export const PAGE_SIZE = 50;

/** 1.5 -> "1.5", 2 -> "2", 0.333333 -> "0.33" */
export function formatNumber(n) {
  return Number.isFinite(n) ? String(Math.round(n * 100) / 100) : "0";
}

/** Mesos counts memory and disk in MiB. */
export function formatMiB(mib) {
  if (!Number.isFinite(mib)) return "0 MiB";
  if (mib >= 1024 * 1024) return `${formatNumber(mib / (1024 * 1024))} TiB`;
  if (mib >= 1024) return `${formatNumber(mib / 1024)} GiB`;
  return `${formatNumber(mib)} MiB`;
}

export function formatResource(name, value) {
  return name === "mem" || name === "disk" ? formatMiB(value) : formatNumber(value);
}

export function percent(used, total) {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.round((used / total) * 1000) / 10));
}

// --- services ---------------------------------------------------------------------------

export const SERVICE_STATUSES = ["Running", "Deploying", "Waiting", "Stopped"];

/** DC/OS's service status, from Marathon's app with its counts and deployments. */
export function appStatus(app) {
  if ((app.deployments || []).length > 0) return "Deploying";
  const target = app.instances || 0;
  if (target === 0) return "Stopped";
  if ((app.tasksRunning || 0) < target) return "Waiting";
  return "Running";
}

/** "Healthy", "Unhealthy", "Unknown" (checks not yet passed) or "" (no health checks). */
export function appHealth(app) {
  if (!(app.healthChecks || []).length) return "";
  if ((app.tasksUnhealthy || 0) > 0) return "Unhealthy";
  if ((app.tasksHealthy || 0) > 0 && app.tasksHealthy >= (app.tasksRunning || 0)) return "Healthy";
  return "Unknown";
}

export function appRow(app, depth) {
  return {
    kind: "app",
    id: app.id,
    name: app.id.split("/").pop(),
    depth,
    status: appStatus(app),
    health: appHealth(app),
    running: app.tasksRunning || 0,
    target: app.instances || 0,
    deploying: (app.deployments || []).length > 0,
    cpus: app.cpus || 0,
    mem: app.mem || 0,
  };
}

/** Every app under a group (any depth). */
export function groupApps(group) {
  const apps = [...(group.apps || [])];
  for (const child of group.groups || []) apps.push(...groupApps(child));
  return apps;
}

function groupRow(group, depth) {
  const rows = groupApps(group).map((app) => appRow(app, 0));
  const statuses = new Set(rows.map((r) => r.status));
  let status = "Running";
  for (const s of ["Deploying", "Waiting", "Stopped"]) {
    if (statuses.has(s) && (s !== "Stopped" || statuses.size === 1)) {
      status = s;
      break;
    }
  }
  if (!rows.length) status = "Empty";
  return {
    kind: "group",
    id: group.id,
    name: group.id.split("/").pop(),
    depth,
    status,
    health: rows.some((r) => r.health === "Unhealthy") ? "Unhealthy" : "",
    running: rows.reduce((n, r) => n + r.running, 0),
    target: rows.reduce((n, r) => n + r.target, 0),
    deploying: rows.some((r) => r.deploying),
    cpus: rows.reduce((n, r) => n + r.cpus * r.target, 0),
    mem: rows.reduce((n, r) => n + r.mem * r.target, 0),
    apps: rows.length,
  };
}

/** The tree as rows in display order; a group whose id is not in `expanded` hides its
 * children. Groups first, then apps, each sorted by id. */
export function treeRows(root, expanded) {
  const rows = [];
  const walk = (group, depth) => {
    const groups = [...(group.groups || [])].sort((a, b) => a.id.localeCompare(b.id));
    const apps = [...(group.apps || [])].sort((a, b) => a.id.localeCompare(b.id));
    for (const child of groups) {
      const row = groupRow(child, depth);
      row.expanded = expanded.has(child.id);
      rows.push(row);
      if (row.expanded) walk(child, depth + 1);
    }
    for (const app of apps) rows.push(appRow(app, depth));
  };
  walk(root, 0);
  return rows;
}

/** With a filter, a flat list of the matching apps (their whole ids shown). */
export function filteredApps(root, text, status) {
  const needle = text.trim().toLowerCase();
  return groupApps(root)
    .map((app) => ({ ...appRow(app, 0), name: app.id }))
    .filter((row) => !needle || row.id.toLowerCase().includes(needle))
    .filter((row) => !status || row.status === status)
    .sort((a, b) => a.id.localeCompare(b.id));
}

export function countByStatus(root) {
  const counts = Object.fromEntries(SERVICE_STATUSES.map((s) => [s, 0]));
  for (const app of groupApps(root)) counts[appStatus(app)] += 1;
  return counts;
}

// --- nodes ------------------------------------------------------------------------------

export function filterNodes(nodes, text, type, status, health = "") {
  const needle = text.trim().toLowerCase();
  return nodes.filter(
    (n) =>
      (!needle || [n.hostname, n.ip, n.id].some((v) => (v || "").toLowerCase().includes(needle))) &&
      (!type || n.type === type) &&
      (!status || n.status === status) &&
      (!health || n.health === health),
  );
}

const NODE_KEYS = {
  hostname: (n) => `${n.hostname} ${n.ip}`,
  type: (n) => n.type,
  status: (n) => n.status,
  // Worst first when ascending: unhealthy, unknown, healthy, then not reported.
  health: (n) => ({ Unhealthy: 0, Unknown: 1, Healthy: 2 })[n.health] ?? 3,
  tasks: (n) => n.tasks,
  cpus: (n) => percent(n.cpus.used, n.cpus.total),
  mem: (n) => percent(n.mem.used, n.mem.total),
  disk: (n) => percent(n.disk.used, n.disk.total),
};

export function sortNodes(nodes, key, descending) {
  const of = NODE_KEYS[key] || NODE_KEYS.hostname;
  const sorted = [...nodes].sort((a, b) => {
    const x = of(a);
    const y = of(b);
    const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return order || a.id.localeCompare(b.id);
  });
  return descending ? sorted.reverse() : sorted;
}

// --- paging -----------------------------------------------------------------------------

/** {items, page, pages, first, last, total} of page `page` (1-based, clamped). */
export function paginate(items, page, size = PAGE_SIZE) {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(Math.max(1, page), pages);
  const start = (current - 1) * size;
  const slice = items.slice(start, start + size);
  return {
    items: slice,
    page: current,
    pages,
    first: slice.length ? start + 1 : 0,
    last: start + slice.length,
    total: items.length,
  };
}

// --- jobs (Metronome) -------------------------------------------------------------------

/** A job's last run from its historySummary: "Success", "Failed" or "Never run". */
export function lastRunStatus(summary) {
  const success = summary?.lastSuccessAt || "";
  const failure = summary?.lastFailureAt || "";
  if (!success && !failure) return "Never run";
  return success >= failure ? "Success" : "Failed";
}

/** One row of the jobs table from `/v1/jobs?embed=activeRuns&embed=schedules&embed=historySummary`. */
export function jobRow(job) {
  const schedule = (job.schedules || [])[0] || null;
  const summary = job.historySummary || {};
  return {
    id: job.id,
    description: job.description || "",
    schedule: schedule ? `${schedule.cron}${schedule.enabled === false ? " (disabled)" : ""}` : "",
    nextRunAt: schedule?.nextRunAt || "",
    active: (job.activeRuns || []).length,
    last: lastRunStatus(summary),
    successes: summary.successCount || 0,
    failures: summary.failureCount || 0,
  };
}

/** Job rows whose id or description holds `text` (any case) and whose last run is `last`
 * ("Success", "Failed", "Never run"; "" for any). */
export function filterJobs(rows, text, last) {
  const needle = (text || "").trim().toLowerCase();
  return rows.filter(
    (r) => (!needle || r.id.toLowerCase().includes(needle) || r.description.toLowerCase().includes(needle)) && (!last || r.last === last),
  );
}

/** A job's finished runs, newest first: [{id, status: "Success"|"Failed", createdAt, finishedAt, tasks}]. */
export function finishedRuns(history) {
  const runs = [
    ...(history?.successfulFinishedRuns || []).map((r) => ({ ...r, status: "Success" })),
    ...(history?.failedFinishedRuns || []).map((r) => ({ ...r, status: "Failed" })),
  ];
  return runs.sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0));
}

/** The JobSpec the editor shows for an existing job: what `/v1/jobs/<id>` answers without
 * the embedded parts (Metronome refuses keys it does not know). */
export function editableJob(job) {
  const out = {};
  for (const key of ["id", "description", "labels", "run"]) if (job[key] !== undefined) out[key] = job[key];
  return out;
}

/** Where each value of a JSON text starts, by JSON pointer ("" the document, "/run/cpus"):
 * {pointer: {line, column, offset}} (lines and columns from 1). Null if the text is not JSON. */
export function jsonPositions(text) {
  const positions = {};
  let i = 0;
  const fail = () => {
    throw new SyntaxError("not JSON");
  };
  const space = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i += 1;
  };
  const mark = (pointer) => {
    const before = text.slice(0, i);
    const line = before.split("\n").length;
    positions[pointer] = { line, column: i - before.lastIndexOf("\n"), offset: i };
  };
  const string = () => {
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail();
    i += 1;
    return JSON.parse(text.slice(start, i));
  };
  const value = (pointer) => {
    space();
    mark(pointer);
    const c = text[i];
    if (c === "{") {
      i += 1;
      space();
      if (text[i] === "}") {
        i += 1;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        const key = string();
        space();
        if (text[i] !== ":") fail();
        i += 1;
        value(`${pointer}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`);
        space();
        if (text[i] === ",") i += 1;
        else if (text[i] === "}") {
          i += 1;
          return;
        } else fail();
      }
    } else if (c === "[") {
      i += 1;
      space();
      if (text[i] === "]") {
        i += 1;
        return;
      }
      for (let n = 0; ; n += 1) {
        value(`${pointer}/${n}`);
        space();
        if (text[i] === ",") i += 1;
        else if (text[i] === "]") {
          i += 1;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) fail();
      i += m[0].length;
    }
  };
  try {
    JSON.parse(text);
    value("");
  } catch {
    return null;
  }
  return positions;
}

/** Metronome's 422 `details` ([{path, errors}]) placed in the editor's text: each with the
 * line of its field, or of the nearest enclosing field present (a missing key is reported at
 * its parent), in the order of the text. */
export function placeErrors(text, details) {
  const positions = jsonPositions(text) || {};
  const placed = (details || []).map((d) => {
    let pointer = d.path === "/" ? "" : d.path || "";
    while (pointer && !positions[pointer]) pointer = pointer.slice(0, pointer.lastIndexOf("/"));
    const at = positions[pointer] || { line: 1, column: 1, offset: 0 };
    return { path: d.path || "/", errors: d.errors || [], line: at.line, offset: at.offset };
  });
  return placed.sort((a, b) => a.line - b.line || (a.path < b.path ? -1 : 1));
}
