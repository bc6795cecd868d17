// Services: Marathon's group tree with status, running/target instances, health and a
// deployment badge; filter by name and status (a flat list of the matching apps); paged.
// Marathon is asked again every few seconds while the screen is open. Routes: #/services,
// #/services/new, #/services/edit/<id>, #/services/detail/<id>, #/services/deployments
// (service_detail.js, service_editor.js, deployments.js).

import { get, refreshing, Unauthorized } from "../api.js";
import { h } from "../dom.js";
import { filteredApps, formatMiB, formatNumber, SERVICE_STATUSES, treeRows } from "../model.js";
import { subRoute } from "../route.js";
import { detailHref } from "../servicemodel.js";
import { badge, dataTable, drawPaged, emptyState, filterForm } from "../widgets.js";
import { GROUPS_PATH } from "./dashboard.js";
import { renderDeployments } from "./deployments.js";
import { renderDetail } from "./service_detail.js";
import { renderEditor } from "./service_editor.js";

const REFRESH_MS = 5000;

export function render(main) {
  const route = subRoute(["deployments"]);
  if (route.kind === "editor") return renderEditor(main, route.id);
  if (route.kind === "detail") return renderDetail(main, route.id);
  if (route.kind === "deployments") return renderDeployments(main);
  return list(main);
}

function list(main) {
  const view = { text: "", status: "", page: 1, expanded: new Set(), root: null, error: "", loadedOnce: false };
  const count = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": "service-count" });
  const note = h("p", { class: "form-error", role: "alert" });
  const body = h("div", {});
  main.append(
    h(
      "div",
      { class: "title-row" },
      h("h1", {}, "Services"),
      h("a", { href: "#/services/deployments", class: "button secondary" }, "Deployments"),
      h("a", { href: "#/services/new", class: "button" }, "Create a service"),
    ),
    filterForm("Filter services", "Service name or id", [["status", "Status", SERVICE_STATUSES.map((s) => [s, s])]], (values) => {
      Object.assign(view, values, { page: 1 });
      draw();
    }),
    count,
    note,
    body,
  );

  const toggle = (id) => {
    if (view.expanded.has(id)) view.expanded.delete(id);
    else view.expanded.add(id);
    draw();
  };

  const nameCell = (row, filtering) => {
    const indent = h("span", { class: "indent" });
    indent.style.width = `${row.depth * 1.25}rem`;
    if (row.kind === "group") {
      return h(
        "th",
        { scope: "row" },
        indent,
        h(
          "button",
          { type: "button", class: "tree-toggle", "aria-expanded": row.expanded ? "true" : "false", "data-key": row.id, onclick: () => toggle(row.id) },
          h("span", { "aria-hidden": "true" }, row.expanded ? "▾ " : "▸ "),
          row.name,
          h("span", { class: "sub" }, ` group · ${row.apps} service${row.apps === 1 ? "" : "s"}`),
        ),
      );
    }
    return h("th", { scope: "row" }, indent, h("a", { class: "service-name", href: detailHref(row.id) }, filtering ? row.id : row.name));
  };

  const draw = () => {
    note.textContent = view.error && view.loadedOnce ? `Marathon did not answer the last refresh: ${view.error}` : "";
    if (!view.root) {
      count.textContent = "";
      body.replaceChildren(emptyState(view.error ? "Marathon cannot be reached." : "Loading services…", view.error));
      return;
    }
    const filtering = Boolean(view.text.trim() || view.status);
    const rows = filtering ? filteredApps(view.root, view.text, view.status) : treeRows(view.root, view.expanded);
    const apps = filteredApps(view.root, "", "").length;
    count.textContent = filtering ? `${rows.length} of ${apps} services match` : `${apps} service${apps === 1 ? "" : "s"}`;
    if (!apps) {
      body.replaceChildren(emptyState("No services yet.", "Apps created in Marathon appear here."));
      return;
    }
    drawPaged(
      body,
      view,
      "Services",
      rows,
      (items) =>
        dataTable(
          "services-table",
          "Services and groups",
          ["Name", "Status", "Instances", "Health", "CPU", "Memory"],
          ["Instances", "CPU", "Memory"],
          items.map((row) =>
            h(
              "tr",
              { "data-id": row.id, "data-kind": row.kind, class: row.kind },
              nameCell(row, filtering),
              h("td", {}, badge(row.status), row.deploying && row.status !== "Deploying" ? [" ", badge("Deploying")] : null),
              h("td", { class: "num", "data-testid": "instances" }, `${row.running} / ${row.target}`),
              h("td", {}, row.health ? badge(row.health) : h("span", { class: "sub" }, "—")),
              h("td", { class: "num" }, formatNumber(row.cpus)),
              h("td", { class: "num" }, formatMiB(row.mem)),
            ),
          ),
        ),
      draw,
    );
  };

  const load = async () => {
    try {
      view.root = await get(GROUPS_PATH);
      view.error = "";
      view.loadedOnce = true;
    } catch (err) {
      if (err instanceof Unauthorized) return;
      view.error = err.message;
    }
    draw();
  };

  draw();
  return refreshing(REFRESH_MS, load).stop;
}
