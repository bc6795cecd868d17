// Pure functions of the task detail, node detail, components and networking screens: finding a
// task in an agent's /state, its state history and ports, the sandbox's paths, the log
// follower's next read, unit health, VIP rows. No DOM, no fetch (test_ui_model.py calls them).

/** Mesos' range text "[31000-31001, 31005-31005]" -> [31000, 31001, 31005] (at most `max`). */
export function rangeValues(text, max = 64) {
  const out = [];
  for (const m of String(text || "").matchAll(/(\d+)\s*-\s*(\d+)/g)) {
    for (let p = Number(m[1]); p <= Number(m[2]) && out.length < max; p += 1) out.push(p);
  }
  return out;
}

const LIVE_STATES = new Set(["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING"]);

export function isLive(state) {
  return LIVE_STATES.has(state);
}

/** The task `taskId` in an agent's /state: {framework, executor, task, completed} or null.
 * Running executors first, then completed ones (the newest run of a reused id wins). */
export function findTask(agentState, taskId) {
  for (const framework of agentState?.frameworks || []) {
    const groups = [
      [framework.executors || [], false],
      [[...(framework.completed_executors || [])].reverse(), true],
    ];
    for (const [executors, done] of groups) {
      for (const executor of executors) {
        for (const key of ["tasks", "queued_tasks", "completed_tasks"]) {
          const task = (executor[key] || []).find((t) => t.id === taskId);
          if (task) return { framework, executor, task, completed: done || key === "completed_tasks" };
        }
      }
    }
  }
  return null;
}

/** Every task an agent's /state lists, one row each, live ones first, then newest first. */
export function agentTasks(agentState) {
  const rows = [];
  for (const framework of agentState?.frameworks || []) {
    const executors = [...(framework.executors || []), ...(framework.completed_executors || [])];
    for (const executor of executors) {
      for (const key of ["tasks", "queued_tasks", "completed_tasks"]) {
        for (const task of executor[key] || []) {
          const statuses = task.statuses || [];
          rows.push({
            id: task.id,
            name: task.name || task.id,
            framework: framework.name || framework.id,
            state: key === "queued_tasks" ? "TASK_STAGING" : task.state,
            cpus: task.resources?.cpus || 0,
            mem: task.resources?.mem || 0,
            updated: statuses.length ? statuses[statuses.length - 1].timestamp || 0 : 0,
          });
        }
      }
    }
  }
  const seen = new Set();
  return rows
    .sort((a, b) => Number(isLive(b.state)) - Number(isLive(a.state)) || b.updated - a.updated)
    .filter((r) => !seen.has(r.id) && seen.add(r.id));
}

/** A task's statuses as its state history, oldest first: {state, timestamp, healthy, reason, message}. */
export function stateHistory(task) {
  return [...(task?.statuses || [])]
    .map((s) => ({
      state: s.state,
      timestamp: s.timestamp || 0,
      healthy: typeof s.healthy === "boolean" ? s.healthy : null,
      reason: s.reason || "",
      message: s.message || "",
    }))
    .sort((a, b) => a.timestamp - b.timestamp);
}

/** "Healthy" / "Unhealthy" from the latest status that said, "" when none did. */
export function taskHealth(task) {
  const said = stateHistory(task).filter((s) => s.healthy !== null);
  if (!said.length) return "";
  return said[said.length - 1].healthy ? "Healthy" : "Unhealthy";
}

/** A path's place under the sandbox `root`: "" for the root, "a/b" beneath it. */
export function sandboxRelative(root, path) {
  const base = root.replace(/\/+$/, "");
  if (path === base) return "";
  return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : path;
}

/** The directory holding `path`, never above `root`. */
export function parentPath(root, path) {
  const base = root.replace(/\/+$/, "");
  const cut = path.replace(/\/+$/, "").lastIndexOf("/");
  const parent = cut > 0 ? path.slice(0, cut) : base;
  return parent.length < base.length ? base : parent;
}

/** A sandbox listing (the files API's browse) sorted directories first, then by name. */
export function sortListing(entries) {
  return [...(entries || [])]
    .map((e) => ({ ...e, name: e.path.split("/").pop(), directory: String(e.mode || "").startsWith("d") }))
    .sort((a, b) => Number(b.directory) - Number(a.directory) || a.name.localeCompare(b.name));
}

export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 1024) return `${Number.isFinite(n) ? n : 0} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Math.round(value * 10) / 10} ${units[unit]}`;
}

export const LOG_CHUNK = 65536; // the agent's largest read (16 pages)
export const LOG_TAIL = 65536; // how much of a file's end the log view starts with
export const LOG_KEEP = 262144; // characters the log view keeps (older ones are dropped)

/** The log follower's next read, given where it is (`offset`, null before the first) and the
 * file's `size`: {offset, length} to read, or {offset, length: 0} when there is nothing new.
 * The first read starts `tail` bytes before the end; a file that shrank (rotated, truncated)
 * starts again from 0 (`reset`). */
export function nextRead(offset, size, tail = LOG_TAIL, chunk = LOG_CHUNK) {
  if (offset === null || offset === undefined) {
    const start = Math.max(0, size - tail);
    return { offset: start, length: Math.min(chunk, size - start), reset: true };
  }
  if (size < offset) return { offset: 0, length: Math.min(chunk, size), reset: true };
  return { offset, length: Math.min(chunk, size - offset), reset: false };
}

/** The log text kept on screen: at most `keep` characters, cut at a line start. */
export function keepTail(text, keep = LOG_KEEP) {
  if (text.length <= keep) return text;
  const cut = text.indexOf("\n", text.length - keep);
  return cut === -1 ? text.slice(text.length - keep) : text.slice(cut + 1);
}

// --- components -------------------------------------------------------------------------

const HEALTH = { 0: "Healthy", 1: "Unhealthy", 3: "Unknown" };

export function healthName(code) {
  return HEALTH[code] || "Unknown";
}

/** The health API's units or nodes, worst first (unhealthy, unknown, healthy), then by
 * `key`; filtered by text (over `key` and the description or role) and by health name. */
export function healthRows(items, key, text, health) {
  const rank = { 1: 0, 3: 1, 0: 2 };
  const needle = (text || "").trim().toLowerCase();
  return [...(items || [])]
    .filter((i) => !health || healthName(i.health) === health)
    .filter((i) => !needle || [i[key], i.name, i.description, i.role].some((v) => String(v || "").toLowerCase().includes(needle)))
    .sort((a, b) => (rank[a.health] ?? 1) - (rank[b.health] ?? 1) || String(a[key]).localeCompare(String(b[key])));
}

/** The nodes table's rows with `health` set from the health API's `/nodes` answer
 * ([{host_ip, health, role}]), matched by IP (a removed agent's row has only its host name,
 * which is its IP on DC/OS clusters): "Healthy", "Unhealthy", "Unknown", or "" when the API
 * does not list the node or did not answer (`healthNodes` null). */
export function withNodeHealth(nodes, healthNodes) {
  const byIp = new Map((healthNodes || []).map((n) => [n.host_ip, n.health]));
  return nodes.map((n) => {
    const code = byIp.has(n.ip) ? byIp.get(n.ip) : byIp.get(n.hostname);
    return { ...n, health: code === undefined ? "" : healthName(code) };
  });
}

/** {Healthy, Unhealthy, Unknown} counts of the health API's units or nodes. */
export function healthCounts(items) {
  const counts = { Healthy: 0, Unhealthy: 0, Unknown: 0 };
  for (const i of items || []) counts[healthName(i.health)] += 1;
  return counts;
}

// --- networking -------------------------------------------------------------------------

/** Minuteman's /v1/vips ([{vip, protocol, backend: [{ip, port}]}]) as rows, filtered by text
 * over the VIP and its backends' addresses, sorted by VIP. */
export function vipRows(body, text) {
  const needle = (text || "").trim().toLowerCase();
  return (Array.isArray(body) ? body : [])
    .map((v) => {
      const backends = (v.backend || []).map((b) => `${b.ip}:${b.port}`);
      const cut = String(v.vip).lastIndexOf(":");
      return {
        vip: String(v.vip),
        name: cut > 0 ? String(v.vip).slice(0, cut) : String(v.vip),
        port: cut > 0 ? Number(String(v.vip).slice(cut + 1)) : null,
        protocol: v.protocol || "tcp",
        backends,
      };
    })
    .filter((r) => !needle || r.vip.toLowerCase().includes(needle) || r.backends.some((b) => b.includes(needle)))
    .sort((a, b) => a.vip.localeCompare(b.vip) || a.protocol.localeCompare(b.protocol));
}
