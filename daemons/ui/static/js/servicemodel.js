// Pure functions of the service screens (create/edit, actions, versions, deployments, the
// launch queue): no DOM, no fetch; tests import this module in the browser and call them.

export const MARATHON = "/service/marathon/v2";
// Where a stopped app keeps the instances it had, for Resume to offer them again.
export const PREVIOUS_INSTANCES_LABEL = "PYDCOS_PREVIOUS_INSTANCES";
export const NEW_APP = { id: "/my-app", cmd: "sleep 3600", cpus: 0.1, mem: 32, instances: 1 };

// Keys of Marathon's app that describe its state, not its configuration: never sent back
// (`version` in a PUT would even mean "roll back to this version").
const READ_ONLY = [
  "version",
  "versionInfo",
  "tasks",
  "tasksRunning",
  "tasksStaged",
  "tasksHealthy",
  "tasksUnhealthy",
  "deployments",
  "readinessCheckResults",
  "lastTaskFailure",
  "taskStats",
];

/** An ISO time as "2026-12-06 10:00:00 UTC"; "—" for none. */
export const when = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace(/Z$/, " UTC") : "—");
export const detailHref = (id) => `#/services/detail/${encodeURIComponent(id)}`;
export const appPath = (id) => `${MARATHON}/apps${id.startsWith("/") ? id : `/${id}`}`;

/** The app definition the editor shows: what Marathon answers without its state. */
export function editableApp(app) {
  const out = {};
  for (const [key, value] of Object.entries(app || {})) if (!READ_ONLY.includes(key)) out[key] = value;
  return out;
}

/** Pretty JSON with keys sorted at every level: two versions of an app line up for a diff. */
export function canonicalJson(value) {
  const sort = (v) => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])]));
    return v;
  };
  return JSON.stringify(sort(value), null, 2);
}

/** A version's configuration for the diff: the app without what changes at every version. */
export function versionText(app) {
  const { version, versionInfo, ...config } = editableApp(app);
  return canonicalJson(config);
}

const MAX_DIFF_CELLS = 4_000_000; // lines(a) x lines(b): past this, no table is built

/** A line diff of two texts (longest common subsequence): [{op: " " | "-" | "+", text,
 * a, b}] with `a`/`b` the line's number in the old/new text (0 when absent). Two texts too
 * big to compare line by line come back as every old line removed and every new line added. */
export function lineDiff(oldText, newText) {
  const a = oldText.split("\n");
  const b = newText.split("\n");
  const n = a.length;
  const m = b.length;
  const out = [];
  if (n * m > MAX_DIFF_CELLS) {
    a.forEach((text, i) => out.push({ op: "-", text, a: i + 1, b: 0 }));
    b.forEach((text, j) => out.push({ op: "+", text, a: 0, b: j + 1 }));
    return out;
  }
  // lcs[i][j]: the longest common subsequence of a[i:] and b[j:].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: " ", text: a[i], a: i + 1, b: j + 1 });
      i += 1;
      j += 1;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push({ op: "-", text: a[i], a: i + 1, b: 0 }); // removals before additions
      i += 1;
    } else {
      out.push({ op: "+", text: b[j], a: 0, b: j + 1 });
      j += 1;
    }
  }
  return out;
}

/** {added, removed} line counts of a diff. */
export function diffStats(diff) {
  return { added: diff.filter((d) => d.op === "+").length, removed: diff.filter((d) => d.op === "-").length };
}

/** The instances Resume offers: what Stop remembered in the label, else 1. */
export function previousInstances(app) {
  const n = Number.parseInt(app?.labels?.[PREVIOUS_INSTANCES_LABEL] ?? "", 10);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** The PUT body that stops an app: no instances, and its count kept in a label. */
export function stopBody(app) {
  return { instances: 0, labels: { ...(app.labels || {}), [PREVIOUS_INSTANCES_LABEL]: String(app.instances || 0) } };
}

/** The PUT body that resumes a stopped app with `instances`, the label gone. */
export function resumeBody(app, instances) {
  const labels = { ...(app.labels || {}) };
  delete labels[PREVIOUS_INSTANCES_LABEL];
  return { instances, labels };
}

/** A whole number of instances from a form field's text, or null. */
export function parseInstances(text) {
  const value = String(text).trim();
  if (!/^\d+$/.test(value)) return null;
  const n = Number(value);
  return n <= 100_000 ? n : null;
}

/** One row of the deployments table from `/v2/deployments`. */
export function deploymentRow(d) {
  const actions = (d.currentActions || []).map((a) => `${a.action} ${a.app || a.pod || ""}`.trim());
  return {
    id: d.id,
    apps: [...(d.affectedApps || []), ...(d.affectedPods || [])],
    step: `${d.currentStep || 0} / ${d.totalSteps || 0}`,
    actions,
    version: d.version || "",
  };
}

/** The deployments that touch app `id`. */
export function deploymentsOf(deployments, id) {
  return (deployments || []).filter((d) => (d.affectedApps || []).includes(id));
}

/** Why app `id` waits, from `/v2/queue?embed=lastUnusedOffers`: null when it is not in the
 * queue, else {count, since, delay, processed, unused, lastUsed, lastUnused, reasons:
 * [{reason, declined}] most declined first, offers: [{hostname, agentId, at, reasons,
 * resources}]} (resources as "cpus 2 · mem 1 GiB" text, unreserved and reserved together). */
export function waitingReasons(queue, id) {
  const item = (queue?.queue || []).find((q) => q.app?.id === id);
  if (!item) return null;
  const summary = item.processedOffersSummary || {};
  const reasons = (summary.rejectSummaryLastOffers || [])
    .filter((r) => r.declined > 0)
    .map((r) => ({ reason: r.reason, declined: r.declined }))
    .sort((x, y) => y.declined - x.declined || x.reason.localeCompare(y.reason));
  const offers = (item.lastUnusedOffers || []).map((u) => ({
    hostname: u.offer?.hostname || "",
    agentId: u.offer?.agentId || "",
    at: u.timestamp || "",
    reasons: u.reason || [],
    resources: offerResources(u.offer?.resources || []),
  }));
  return {
    count: item.count || 0,
    since: item.since || "",
    delay: item.delay || null,
    processed: summary.processedOffersCount || 0,
    unused: summary.unusedOffersCount || 0,
    lastUsed: summary.lastUsedOfferAt || "",
    lastUnused: summary.lastUnusedOfferAt || "",
    reasons,
    offers,
  };
}

function offerResources(resources) {
  const scalars = {};
  for (const r of resources) if (typeof r.scalar === "number") scalars[r.name] = (scalars[r.name] || 0) + r.scalar;
  return ["cpus", "mem", "disk", "gpus"]
    .filter((name) => name in scalars)
    .map((name) => `${name} ${Math.round(scalars[name] * 100) / 100}${name === "mem" || name === "disk" ? " MiB" : ""}`)
    .join(" · ");
}

/** Marathon's reason names in words. */
export const REASON_TEXT = {
  UnfulfilledRole: "no resources of a role the app may use",
  UnfulfilledConstraint: "a placement constraint is not met",
  NoCorrespondingReservationFound: "no reservation for its volumes",
  AgentMaintenance: "the agent is in maintenance",
  InsufficientCpus: "not enough CPUs",
  InsufficientMemory: "not enough memory",
  InsufficientDisk: "not enough disk",
  InsufficientGpus: "not enough GPUs",
  InsufficientPorts: "not enough ports",
  DeclinedScarceResources: "the agent has GPUs the app does not need",
};
