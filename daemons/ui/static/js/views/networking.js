// Networking (#/networking): the layer-4 VIPs and their backends, from Minuteman through Admin
// Router (`/net/v1/vips`, dcos-net's shape, every 10 s while open). An empty state when the
// cluster has none (or Minuteman does not answer). Filtered and paged in the page.

import { get, HttpError, refreshing, Unauthorized } from "../api.js";
import { h } from "../dom.js";
import { vipRows } from "../opsmodel.js";
import { dataTable, drawPaged, emptyState, filterForm } from "../widgets.js";

const REFRESH_MS = 10000;
export const VIPS_PATH = "/net/v1/vips";

export function render(main) {
  const view = { text: "", protocol: "", page: 1 };
  let body = null;
  let failure = null;
  const count = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": "vip-count" });
  const content = h("div", {});
  main.append(
    h("h1", {}, "Networking"),
    h("h2", {}, "Virtual IPs (layer 4 load balancing)"),
    filterForm("Filter VIPs", "VIP or backend address", [["protocol", "Protocol", [["tcp", "TCP"], ["udp", "UDP"]]]], (values) => {
      Object.assign(view, values, { page: 1 });
      draw();
    }),
    count,
    content,
  );

  const draw = () => {
    if (failure) {
      count.textContent = "";
      const status = failure instanceof HttpError ? failure.status : 0;
      content.replaceChildren(
        emptyState("No VIPs to show.", status >= 500 || status === 404 ? `Minuteman does not answer at ${VIPS_PATH} (${status}).` : failure.message),
      );
      return;
    }
    if (body === null) return;
    const all = vipRows(body, "");
    const shown = vipRows(body, view.text).filter((r) => !view.protocol || r.protocol === view.protocol);
    count.textContent = `${shown.length} of ${all.length} VIPs`;
    if (!all.length) {
      content.replaceChildren(
        emptyState("No VIPs yet.", "Give an app's port definition a label such as VIP_0 = /web:80, and it is load balanced at web.marathon.l4lb.thisdcos.directory:80."),
      );
      return;
    }
    drawPaged(
      content,
      view,
      "VIPs",
      shown,
      (items) =>
        dataTable(
          "vips-table",
          "VIPs and their backends",
          ["VIP", "Protocol", "Backends"],
          [],
          items.map((r) =>
            h(
              "tr",
              { "data-vip": r.vip },
              h("th", { scope: "row" }, h("span", { class: "mono" }, r.vip)),
              h("td", {}, r.protocol.toUpperCase()),
              h(
                "td",
                {},
                r.backends.length
                  ? h("ul", { class: "backends", "aria-label": `Backends of ${r.vip}` }, r.backends.map((b) => h("li", { class: "mono" }, b)))
                  : h("span", { class: "sub" }, "no backend"),
              ),
            ),
          ),
        ),
      draw,
    );
  };

  const timer = refreshing(REFRESH_MS, async () => {
    try {
      body = await get(VIPS_PATH);
      failure = null;
    } catch (err) {
      if (err instanceof Unauthorized) return;
      failure = err;
    }
    draw();
  });
  return timer.stop;
}
