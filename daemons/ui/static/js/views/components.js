// Components (#/components): unit health per unit and per node, from dcos-diagnostics through
// Admin Router (`/system/health/v1/units` and `/nodes`, every 10 s while open; the masters
// aggregate every node). #/components/unit/<unit>: the unit on each node
// (`/units/<unit>/nodes`); #/components/node/<ip>: the node's units with their output
// (`/nodes/<ip>/units`). Worst first; filtered and paged in the page.

import { get, HttpError, refreshing, Unauthorized } from "../api.js";
import { h } from "../dom.js";
import { healthCounts, healthName, healthRows } from "../opsmodel.js";
import { badge, dataTable, drawPaged, emptyState, filterForm } from "../widgets.js";

const REFRESH_MS = 10000;
const HEALTH_API = "/system/health/v1";
const HEALTH_OPTIONS = [["Unhealthy", "Unhealthy"], ["Unknown", "Unknown"], ["Healthy", "Healthy"]];

const unitHref = (unit) => `#/components/unit/${encodeURIComponent(unit)}`;
const nodeHref = (ip) => `#/components/node/${encodeURIComponent(ip)}`;

function parseRoute() {
  const [, what = "", id = ""] = location.hash.replace(/^#\/?/, "").split("/");
  try {
    return { what, id: decodeURIComponent(id) };
  } catch {
    return { what: "", id: "" };
  }
}

function unavailable(err) {
  const status = err instanceof HttpError ? err.status : 0;
  if (status === 502 || status === 503 || status === 504) {
    return emptyState("Component health is not available.", `dcos-diagnostics does not answer at ${HEALTH_API} (${status}).`);
  }
  if (status === 404) return emptyState("Not found.", err.message);
  return emptyState("Component health could not be read.", err.message);
}

function summaryLine(items, noun) {
  const c = healthCounts(items);
  return `${items.length} ${items.length === 1 ? noun.replace(/s$/, "") : noun} · ${c.Unhealthy} unhealthy · ${c.Unknown} unknown · ${c.Healthy} healthy`;
}

/** A filtered, paged health table that `set(items)` redraws. */
function healthTable(container, { key, noun, label, testid, columns, row }) {
  const view = { text: "", health: "", page: 1 };
  let items = null;
  const count = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": `${testid}-count` });
  const body = h("div", {});
  const draw = () => {
    if (!items) return;
    const shown = healthRows(items, key, view.text, view.health);
    count.textContent = view.text || view.health ? `${shown.length} of ${summaryLine(items, noun)}` : summaryLine(items, noun);
    if (!items.length) {
      body.replaceChildren(emptyState(`No ${noun} reported.`));
      return;
    }
    drawPaged(body, view, label, shown, (page) => dataTable(testid, label, columns, [], page.map(row)), draw);
  };
  container.append(
    filterForm(`Filter ${noun}`, key === "id" ? "Unit name" : "IP or role", [["health", "Health", HEALTH_OPTIONS]], (values) => {
      Object.assign(view, values, { page: 1 });
      draw();
    }),
    count,
    body,
  );
  return {
    set: (found) => {
      items = found;
      draw();
    },
    fail: (err) => {
      items = null;
      count.textContent = "";
      body.replaceChildren(unavailable(err));
    },
  };
}

const healthCell = (code) => h("td", { "data-health": healthName(code) }, badge(healthName(code)));
const unitCell = (u) =>
  h("th", { scope: "row" }, h("a", { href: unitHref(u.id) }, u.name || u.id), u.name && u.name !== u.id ? h("span", { class: "sub mono" }, u.id) : null);
/** The columns and row of a table of the health API's nodes. */
const NODE_TABLE = {
  columns: ["Node", "Role", "Health"],
  row: (n) =>
    h(
      "tr",
      { "data-ip": n.host_ip },
      h("th", { scope: "row" }, h("a", { href: nodeHref(n.host_ip) }, n.host_ip)),
      h("td", {}, n.role || ""),
      healthCell(n.health),
    ),
};

export function render(main) {
  const route = parseRoute();
  if (route.what === "unit" && route.id) return unitDetail(main, route.id);
  if (route.what === "node" && route.id) return nodeDetail(main, route.id);
  return overview(main);
}

function overview(main) {
  const unitsSection = h("section", { class: "panel", "aria-labelledby": "units-title" }, h("h2", { id: "units-title" }, "Units"));
  const nodesSection = h("section", { class: "panel", "aria-labelledby": "health-nodes-title" }, h("h2", { id: "health-nodes-title" }, "Nodes"));
  main.append(h("h1", {}, "Components"), h("div", { class: "components" }, unitsSection, nodesSection));
  const units = healthTable(unitsSection, {
    key: "id",
    noun: "units",
    label: "Units",
    testid: "units-table",
    columns: ["Unit", "Health", "Description"],
    row: (u) =>
      h(
        "tr",
        { "data-unit": u.id },
        unitCell(u),
        healthCell(u.health),
        h("td", {}, u.description || ""),
      ),
  });
  const nodes = healthTable(nodesSection, {
    key: "host_ip",
    noun: "nodes",
    label: "Health nodes",
    testid: "health-nodes-table",
    ...NODE_TABLE,
  });
  const timer = refreshing(REFRESH_MS, async () => {
    for (const [path, table, field] of [
      [`${HEALTH_API}/units`, units, "units"],
      [`${HEALTH_API}/nodes`, nodes, "nodes"],
    ]) {
      try {
        const body = await get(path);
        table.set(Array.isArray(body?.[field]) ? body[field] : []);
      } catch (err) {
        if (err instanceof Unauthorized) return;
        table.fail(err);
      }
    }
  });
  return timer.stop;
}

function crumbs() {
  return h("p", { class: "crumbs" }, h("a", { href: "#/components" }, "Components"));
}

function unitDetail(main, unit) {
  const section = h("section", { class: "panel", "aria-label": `${unit} on each node` });
  const heading = h("h1", {}, unit);
  const about = h("p", { class: "sub-title", "data-testid": "unit-health" });
  main.append(crumbs(), heading, about, section);
  const table = healthTable(section, {
    key: "host_ip",
    noun: "nodes",
    label: "Nodes of the unit",
    testid: "unit-nodes-table",
    ...NODE_TABLE,
  });
  const timer = refreshing(REFRESH_MS, async () => {
    try {
      const [info, nodes] = [await get(`${HEALTH_API}/units/${encodeURIComponent(unit)}`), await get(`${HEALTH_API}/units/${encodeURIComponent(unit)}/nodes`)];
      heading.textContent = info?.name || unit;
      about.replaceChildren(badge(healthName(info?.health)), " ", h("span", { class: "mono" }, unit), info?.description ? ` · ${info.description}` : "");
      table.set(Array.isArray(nodes?.nodes) ? nodes.nodes : []);
    } catch (err) {
      if (!(err instanceof Unauthorized)) table.fail(err);
    }
  });
  return timer.stop;
}

function nodeDetail(main, ip) {
  const body = h("div", {});
  main.append(crumbs(), h("h1", {}, ip), body);
  const timer = refreshing(REFRESH_MS, async () => {
    let units;
    try {
      units = (await get(`${HEALTH_API}/nodes/${encodeURIComponent(ip)}/units`))?.units || [];
    } catch (err) {
      if (!(err instanceof Unauthorized)) body.replaceChildren(unavailable(err));
      return;
    }
    const rows = healthRows(units, "id", "", "");
    body.replaceChildren(
      h("p", { class: "count", role: "status", "data-testid": "node-units-count" }, summaryLine(units, "units")),
      rows.length
        ? dataTable(
            "node-units-table",
            "The node's units",
            ["Unit", "Health", "Output"],
            [],
            rows.map((u) =>
              h(
                "tr",
                { "data-unit": u.id },
                unitCell(u),
                healthCell(u.health),
                h("td", {}, u.output ? h("pre", { class: "unit-output" }, u.output) : ""),
              ),
            ),
          )
        : emptyState("This node reports no units."),
    );
  });
  return timer.stop;
}
