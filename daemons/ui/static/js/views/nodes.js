// The nodes table: per-node CPU/memory/disk used vs total, type, status (active, inactive,
// unreachable, gone) and tasks, from the backend's live summary; health from the diagnostics'
// `/system/health/v1/nodes` (every 15 s while the table is open: not the master). Filtered,
// sorted and paged in the page.

import { get, refreshView } from "../api.js";
import { h } from "../dom.js";
import { live } from "../live.js";
import { filterNodes, paginate, sortNodes } from "../model.js";
import { withNodeHealth } from "../opsmodel.js";
import { badge, emptyState, filterForm, pager, replaceKeepingFocus, usageBar } from "../widgets.js";
import * as node from "./node.js";

const HEALTH_PATH = "/system/health/v1/nodes";
const HEALTH_REFRESH_MS = 15000;

const COLUMNS = [
  ["hostname", "Node"],
  ["type", "Type"],
  ["status", "Status"],
  ["health", "Health"],
  ["tasks", "Tasks"],
  ["cpus", "CPU"],
  ["mem", "Memory"],
  ["disk", "Disk"],
];

export function render(main) {
  const [, what = "", id = ""] = location.hash.replace(/^#\/?/, "").split("/");
  let agent = "";
  try {
    agent = what === "detail" ? decodeURIComponent(id) : "";
  } catch {
    agent = ""; // a malformed %-escape typed in the address bar: the table
  }
  if (agent) return node.render(main, agent);
  const view = { text: "", type: "", status: "", health: "", sort: "hostname", descending: false, page: 1 };
  // The health API's nodes; null until it answered (or while it does not).
  const health = { nodes: null, error: "", missing: false };
  const count = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": "node-count" });
  const body = h("div", {});
  main.append(
    h("h1", {}, "Nodes"),
    filterForm(
      "Filter nodes",
      "Host name, IP or id",
      [
        ["type", "Type", [["private", "Private"], ["public", "Public"]]],
        [
          "status",
          "Status",
          [
            ["active", "Active"],
            ["inactive", "Inactive"],
            ["unreachable", "Unreachable"],
            ["gone", "Gone"],
          ],
        ],
        ["health", "Health", [["Healthy", "Healthy"], ["Unhealthy", "Unhealthy"], ["Unknown", "Unknown"]]],
      ],
      (values) => {
        Object.assign(view, values, { page: 1 });
        draw();
      },
    ),
    count,
    body,
  );

  const header = ([key, label]) => {
    const sorted = view.sort === key;
    return h(
      "th",
      { scope: "col", class: key === "tasks" ? "num" : null, "aria-sort": sorted ? (view.descending ? "descending" : "ascending") : null },
      h(
        "button",
        {
          type: "button",
          class: "sort",
          "data-key": key,
          onclick: () => {
            view.descending = view.sort === key ? !view.descending : false;
            view.sort = key;
            draw();
          },
        },
        label,
        h("span", { "aria-hidden": "true" }, sorted ? (view.descending ? " ▼" : " ▲") : ""),
      ),
    );
  };

  const draw = () => {
    const summary = live.summary;
    if (!summary) {
      count.textContent = "";
      body.replaceChildren(emptyState("Waiting for the cluster's state…"));
      return;
    }
    const all = withNodeHealth(summary.nodes, health.nodes);
    const shown = sortNodes(filterNodes(all, view.text, view.type, view.status, view.health), view.sort, view.descending);
    const paged = paginate(shown, view.page);
    view.page = paged.page;
    count.textContent = `${shown.length} of ${all.length} nodes`;
    if (!all.length) {
      body.replaceChildren(emptyState("No agents are registered with the master."));
      return;
    }
    const rows = paged.items.map((n) =>
      h(
        "tr",
        { "data-node-id": n.id },
        h("th", { scope: "row" }, h("a", { class: "host", href: `#/nodes/detail/${encodeURIComponent(n.id)}` }, n.hostname || n.ip), n.ip && n.ip !== n.hostname ? h("span", { class: "sub" }, n.ip) : null, h("span", { class: "sub mono" }, n.id)),
        h("td", {}, n.type === "public" ? "Public" : "Private"),
        h("td", {}, badge(n.status)),
        h("td", { "data-key": "health" }, n.health ? badge(n.health) : h("span", { class: "muted", title: health.error || "The health API does not list this node" }, "—")),
        h("td", { class: "num" }, String(n.tasks)),
        h("td", { "data-resource": "cpus" }, usageBar("cpus", "CPU", n.cpus)),
        h("td", { "data-resource": "mem" }, usageBar("mem", "Memory", n.mem)),
        h("td", { "data-resource": "disk" }, usageBar("disk", "Disk", n.disk)),
      ),
    );
    replaceKeepingFocus(body, [
      h(
        "table",
        { class: "table", "data-testid": "nodes-table" },
        h("caption", { class: "visually-hidden" }, "Nodes, with allocated and total resources"),
        h("thead", {}, h("tr", {}, COLUMNS.map(header))),
        h("tbody", {}, rows),
      ),
      pager(paged, "Nodes", (page) => {
        view.page = page;
        draw();
      }),
    ]);
  };

  draw();
  const unsubscribe = live.subscribe((kind) => {
    if (kind === "summary" || kind === "snapshot") draw();
  });
  const timer = refreshView(
    HEALTH_REFRESH_MS,
    health,
    async () => {
      try {
        health.nodes = (await get(HEALTH_PATH)).nodes || [];
      } catch (err) {
        health.nodes = null;
        throw err;
      }
    },
    draw,
  );
  return () => {
    timer.stop();
    unsubscribe();
  };
}
