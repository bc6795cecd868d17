// The dashboard: allocated vs total resources (numbers and the backend's history as
// charts), nodes, services and tasks by state, and unhealthy components.

import { get, HttpError, Unauthorized } from "../api.js";
import { h } from "../dom.js";
import { live } from "../live.js";
import { countByStatus, formatResource, percent, SERVICE_STATUSES } from "../model.js";
import { badge, emptyState, replaceKeepingFocus, resourceChart } from "../widgets.js";

export const GROUPS_PATH =
  "/service/marathon/v2/groups?embed=group.groups&embed=group.apps&embed=group.apps.deployments&embed=group.apps.counts";
const HEALTH_PATH = "/system/health/v1/units";
const RESOURCES = [
  ["cpus", "CPU allocation", "CPUs"],
  ["mem", "Memory allocation", "memory"],
  ["disk", "Disk allocation", "disk"],
  ["gpus", "GPU allocation", "GPUs"],
];
const TASK_STATES = ["TASK_RUNNING", "TASK_STAGING", "TASK_STARTING", "TASK_KILLING", "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_UNREACHABLE"];
// Marathon is asked again at most this often while the dashboard is open (not the master).
const SERVICES_REFRESH_MS = 15000;

function panel(id, title, ...body) {
  return h("section", { class: "panel", "aria-labelledby": `${id}-title`, "data-testid": id }, h("h2", { id: `${id}-title` }, title), ...body);
}

function resourcePanels(board) {
  const history = live.history;
  return RESOURCES.filter(([name]) => name !== "gpus" || board.resources.gpus.total > 0).map(([name, title, unit]) => {
    const value = board.resources[name];
    return panel(
      `resource-${name}`,
      title,
      h(
        "p",
        { class: "big-number", "data-used": value.used, "data-total": value.total },
        h("span", { class: "pct" }, `${percent(value.used, value.total)}%`),
        h("span", { class: "of" }, ` ${formatResource(name, value.used)} of ${formatResource(name, value.total)} ${name === "cpus" || name === "gpus" ? unit : ""} allocated`),
      ),
      resourceChart(title, history, `${name}_used`, `${name}_total`),
    );
  });
}

function countList(entries, testid) {
  return h(
    "dl",
    { class: "counts", "data-testid": testid },
    entries.map(([label, value, key]) => [h("dt", {}, label), h("dd", { "data-key": key || label }, String(value))]),
  );
}

function stateLabel(state) {
  const name = state.replace("TASK_", "").toLowerCase();
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function render(main) {
  const state = { services: null, servicesError: "", units: null, unitsError: "" };
  const body = h("div", { class: "dashboard" });
  main.append(h("h1", {}, "Dashboard"), body);

  const draw = () => {
    const summary = live.summary;
    const panels = [];
    if (!summary) {
      const status = live.status;
      body.replaceChildren(
        emptyState(
          status && !status.ok ? "The cluster's state cannot be read right now." : "Waiting for the cluster's state…",
          status && !status.ok ? status.error : "",
        ),
      );
      return;
    }
    const board = summary.dashboard;
    panels.push(...resourcePanels(board));
    panels.push(
      panel(
        "nodes-panel",
        "Nodes",
        countList(
          [
            ["Total", board.nodes.total, "total"],
            ["Active", board.nodes.active, "active"],
            ["Inactive", board.nodes.inactive, "inactive"],
            ["Unreachable", board.nodes.unreachable ?? 0, "unreachable"],
            ["Gone", board.nodes.gone ?? 0, "gone"],
            ["Private", board.nodes.private, "private"],
            ["Public", board.nodes.public, "public"],
          ],
          "node-counts",
        ),
        h("a", { href: "#/nodes" }, "View nodes"),
      ),
    );
    let services;
    if (state.services) {
      const counts = countByStatus(state.services);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      services = [countList([["Total", total, "total"], ...SERVICE_STATUSES.map((s) => [s, counts[s], s])], "service-counts"), h("a", { href: "#/services" }, "View services")];
    } else {
      services = [emptyState(state.servicesError ? "Marathon cannot be reached." : "Loading services…", state.servicesError)];
    }
    panels.push(panel("services-panel", "Services", ...services));
    const tasks = TASK_STATES.filter((s) => s === "TASK_RUNNING" || s === "TASK_STAGING" || board.tasks[s] > 0);
    panels.push(panel("tasks-panel", "Tasks", countList(tasks.map((s) => [stateLabel(s), board.tasks[s], s]), "task-counts")));
    panels.push(panel("components-panel", "Component health", componentBody(state)));
    replaceKeepingFocus(body, panels);
  };

  const loadServices = async () => {
    try {
      state.services = await get(GROUPS_PATH);
      state.servicesError = "";
    } catch (err) {
      if (err instanceof Unauthorized) return;
      state.servicesError = err.message;
    }
    draw();
  };
  const loadUnits = async () => {
    try {
      const found = await get(HEALTH_PATH);
      state.units = (found && found.units) || [];
    } catch (err) {
      if (err instanceof Unauthorized) return;
      state.units = null;
      state.unitsError = err instanceof HttpError && [404, 502, 503].includes(err.status) ? "unavailable" : err.message;
    }
    draw();
  };

  draw();
  // The next refresh is asked once the last one answered: a slow Marathon gets no pile-up.
  let timer = null;
  let closed = false;
  const loop = async () => {
    await Promise.all([loadServices(), loadUnits()]);
    if (!closed) timer = setTimeout(loop, SERVICES_REFRESH_MS);
  };
  loop();
  const unsubscribe = live.subscribe((kind) => {
    if (kind !== "connection") draw();
  });
  return () => {
    closed = true;
    clearTimeout(timer);
    unsubscribe();
  };
}

function componentBody(state) {
  if (state.units === null) {
    if (state.unitsError === "unavailable") {
      return emptyState("Component health is not available.", "The diagnostics service does not answer /system/health/v1 on this cluster yet.");
    }
    return emptyState(state.unitsError ? "Component health cannot be read." : "Loading component health…", state.unitsError);
  }
  const unhealthy = state.units.filter((u) => u.health !== 0);
  if (!unhealthy.length) {
    return h("p", { class: "all-good", "data-testid": "components-healthy" }, `All ${state.units.length} components are healthy.`);
  }
  return h(
    "ul",
    { class: "unit-list", "data-testid": "components-unhealthy" },
    unhealthy.map((u) => h("li", {}, badge("Unhealthy"), " ", h("a", { href: `#/components/unit/${encodeURIComponent(u.id)}` }, u.name || u.id), u.description ? ` — ${u.description}` : "")),
  );
}
