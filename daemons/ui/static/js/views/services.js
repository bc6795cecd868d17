// Services: Marathon's group tree with status, running/target instances, health and a
// deployment badge; filter by name and status (a flat list of the matching apps); paged.
// Marathon is asked again every few seconds while the screen is open.

import { get, Unauthorized } from "../api.js";
import { h } from "../dom.js";
import { filteredApps, formatMiB, formatNumber, paginate, SERVICE_STATUSES, treeRows } from "../model.js";
import { badge, emptyState, filterForm, pager, replaceKeepingFocus } from "../widgets.js";
import { GROUPS_PATH } from "./dashboard.js";

const REFRESH_MS = 5000;

export function render(main) {
  const view = { text: "", status: "", page: 1, expanded: new Set(), root: null, error: "", loadedOnce: false };
  const count = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": "service-count" });
  const note = h("p", { class: "form-error", role: "alert" });
  const body = h("div", {});
  main.append(
    h("h1", {}, "Services"),
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
    return h("th", { scope: "row" }, indent, h("span", { class: "service-name" }, filtering ? row.id : row.name));
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
    const paged = paginate(rows, view.page);
    view.page = paged.page;
    const table = h(
      "table",
      { class: "table", "data-testid": "services-table" },
      h("caption", { class: "visually-hidden" }, "Services and groups"),
      h(
        "thead",
        {},
        h("tr", {}, ["Name", "Status", "Instances", "Health", "CPU", "Memory"].map((c) => h("th", { scope: "col", class: ["Instances", "CPU", "Memory"].includes(c) ? "num" : null }, c))),
      ),
      h(
        "tbody",
        {},
        paged.items.map((row) =>
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
    );
    replaceKeepingFocus(body, [
      table,
      pager(paged, "Services", (page) => {
        view.page = page;
        draw();
      }),
    ]);
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
  // The next refresh is asked once the last one answered: a slow Marathon gets no pile-up.
  let timer = null;
  let closed = false;
  const loop = async () => {
    await load();
    if (!closed) timer = setTimeout(loop, REFRESH_MS);
  };
  loop();
  return () => {
    closed = true;
    clearTimeout(timer);
  };
}
