// Marathon's deployments in progress (#/services/deployments, GET /v2/deployments), each with
// its apps, step and current actions, and a Roll back button (DELETE /v2/deployments/<id>:
// Marathon answers with the new deployment that undoes it). Paged; asked again every few
// seconds.

import { get, refreshView } from "../api.js";
import { h } from "../dom.js";
import { deploymentRow, detailHref, MARATHON, when } from "../servicemodel.js";
import { dataTable, drawPaged, emptyState } from "../widgets.js";
import { deploymentButtons } from "./service_actions.js";

const REFRESH_MS = 3000;

export function renderDeployments(main) {
  const view = { deployments: null, error: "", page: 1 };
  const count = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": "deployment-count" });
  const note = h("p", { class: "form-error", role: "alert", "data-testid": "action-note" });
  const body = h("div", {});
  main.append(h("p", { class: "crumbs" }, h("a", { href: "#/services" }, "Services"), " / Deployments"), h("h1", {}, "Deployments"), count, note, body);

  const draw = () => {
    if (!view.deployments) {
      count.textContent = "";
      body.replaceChildren(emptyState(view.error ? "Marathon cannot be reached." : "Loading deployments…", view.error));
      return;
    }
    const list = view.deployments;
    count.textContent = `${list.length} deployment${list.length === 1 ? "" : "s"} in progress${view.error ? ` · Marathon did not answer the last refresh: ${view.error}` : ""}`;
    if (!list.length) {
      body.replaceChildren(emptyState("No deployment in progress.", "Creating, changing, scaling, restarting or deleting a service starts one."));
      return;
    }
    drawPaged(
      body,
      view,
      "Deployments",
      list,
      (items) =>
        dataTable(
          "deployments-table",
          "Deployments in progress",
          ["Deployment", "Services", "Step", "Doing", "Actions"],
          [],
          items.map((d) => {
            const row = deploymentRow(d);
            return h(
              "tr",
              { "data-deployment-id": row.id },
              h("th", { scope: "row", class: "mono" }, row.id, h("span", { class: "sub" }, `started ${when(row.version)}`)),
              h("td", {}, row.apps.map((id, i) => [i ? ", " : "", h("a", { href: detailHref(id) }, id)])),
              h("td", {}, row.step),
              h("td", {}, row.actions.join(", ") || "—"),
              h("td", {}, deploymentButtons(d, note, refresh.now)),
            );
          }),
        ),
      draw,
    );
  };

  const refresh = refreshView(
    REFRESH_MS,
    view,
    async () => {
      view.deployments = await get(`${MARATHON}/deployments`);
    },
    draw,
  );
  draw();
  return refresh.stop;
}
