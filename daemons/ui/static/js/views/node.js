// A node's detail (#/nodes/detail/<agent-id>): its row of the live summary (type, status,
// resources used vs total: no request of its own) and, from the agent itself through Admin
// Router (`/agent/<id>/state`, every 5 s while open), its version, attributes and tasks, each
// linking to the task's detail. The tasks are filtered and paged in the page.

import { get, HttpError, refreshing, Unauthorized } from "../api.js";
import { h } from "../dom.js";
import { live } from "../live.js";
import { formatResource } from "../model.js";
import { agentTasks, isLive } from "../opsmodel.js";
import { badge, dataTable, drawPaged, emptyState, filterForm, usageBar } from "../widgets.js";
import { agentPath, taskHref } from "./task.js";

const REFRESH_MS = 5000;
// A node the master removed (summary.py's REMOVED_STATES).
const REMOVED = ["unreachable", "gone"];

export function render(main, agent) {
  const view = { text: "", state: "", page: 1 };
  let tasks = null;
  let failure = "";
  const heading = h("h1", {}, agent);
  const facts = h("div", { class: "panel node-facts" });
  const count = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": "node-task-count" });
  const taskBody = h("div", {});
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/nodes" }, "Nodes"), " › node"),
    heading,
    facts,
    h(
      "section",
      { class: "node-tasks", "aria-labelledby": "node-tasks-title" },
      h("h2", { id: "node-tasks-title" }, "Tasks"),
      filterForm("Filter tasks", "Task name or id", [["state", "State", [["live", "Live"], ["done", "Finished"]]]], (values) => {
        Object.assign(view, values, { page: 1 });
        drawTasks();
      }),
      count,
      taskBody,
    ),
  );

  const drawFacts = (state) => {
    const row = (live.summary?.nodes || []).find((n) => n.id === agent);
    if (row?.hostname || state?.hostname) heading.textContent = row?.hostname || state.hostname;
    const fact = (key, label, value) => [h("dt", {}, label), h("dd", { "data-key": key }, value)];
    const attributes = Object.entries(state?.attributes || {}).map(([k, v]) => `${k}:${v}`);
    facts.replaceChildren(
      h(
        "dl",
        { class: "facts", "data-testid": "node-facts" },
        fact("id", "Agent id", h("span", { class: "mono" }, agent)),
        fact("ip", "IP", row?.ip || "—"),
        fact("type", "Type", row ? (row.type === "public" ? "Public" : "Private") : "—"),
        fact("status", "Status", row ? badge(row.status) : badge("Unknown")),
        fact("tasks", "Live tasks", row ? String(row.tasks) : "—"),
        row && row.since ? fact("since", `${row.status === "gone" ? "Gone" : "Unreachable"} since`, new Date(row.since * 1000).toLocaleString()) : null,
        fact("version", "Agent version", state?.version || "—"),
        fact("attributes", "Attributes", attributes.length ? attributes.join(", ") : "—"),
      ),
      row
        ? h(
            "div",
            { class: "node-usage", "data-testid": "node-usage" },
            ["cpus", "mem", "disk"].map((r) => {
              const label = r === "cpus" ? "CPU" : r === "mem" ? "Memory" : "Disk";
              return h("div", { "data-resource": r }, h("h3", {}, label), usageBar(r, label, row[r]));
            }),
          )
        : emptyState(live.summary ? "The master does not list this agent." : "Waiting for the cluster's state…"),
    );
  };

  const drawTasks = () => {
    if (failure) {
      count.textContent = "";
      taskBody.replaceChildren(emptyState(failure));
      return;
    }
    if (!tasks) {
      taskBody.replaceChildren(emptyState("Asking the agent…"));
      return;
    }
    const needle = view.text.trim().toLowerCase();
    const shown = tasks
      .filter((t) => !view.state || (view.state === "live") === isLive(t.state))
      .filter((t) => !needle || t.id.toLowerCase().includes(needle) || t.name.toLowerCase().includes(needle));
    count.textContent = `${shown.length} of ${tasks.length} tasks`;
    if (!tasks.length) {
      taskBody.replaceChildren(emptyState("No tasks on this node."));
      return;
    }
    drawPaged(
      taskBody,
      view,
      "Tasks",
      shown,
      (items) =>
        dataTable(
          "node-tasks-table",
          "The node's tasks",
          ["Task", "State", "Framework", "CPU", "Memory"],
          ["CPU", "Memory"],
          items.map((t) =>
            h(
              "tr",
              { "data-task-id": t.id },
              h("th", { scope: "row" }, h("a", { href: taskHref(agent, t.id) }, t.name), t.name !== t.id ? h("span", { class: "sub mono" }, t.id) : null),
              h("td", {}, badge(t.state)),
              h("td", {}, t.framework),
              h("td", { class: "num" }, formatResource("cpus", t.cpus)),
              h("td", { class: "num" }, formatResource("mem", t.mem)),
            ),
          ),
        ),
      drawTasks,
    );
  };

  let lastState = null;
  drawFacts(null);
  drawTasks();
  const timer = refreshing(REFRESH_MS, async () => {
    const row = (live.summary?.nodes || []).find((n) => n.id === agent);
    if (row && REMOVED.includes(row.status)) {
      // The master took it out of the cluster: Admin Router no longer routes to it.
      tasks = null;
      failure = `The master marked this agent ${row.status}: its tasks cannot be read from it.`;
      drawFacts(lastState);
      drawTasks();
      return;
    }
    try {
      lastState = await get(`${agentPath(agent)}/state`);
      tasks = agentTasks(lastState);
      failure = "";
    } catch (err) {
      if (err instanceof Unauthorized) return;
      const status = err instanceof HttpError ? err.status : 0;
      failure = status === 404 ? "Admin Router does not know this agent." : `The agent does not answer: ${err.message}`;
    }
    drawFacts(lastState);
    drawTasks();
  });
  const unsubscribe = live.subscribe((kind) => {
    if (kind === "summary" || kind === "snapshot") drawFacts(lastState);
  });
  return () => {
    timer.stop();
    unsubscribe();
  };
}
