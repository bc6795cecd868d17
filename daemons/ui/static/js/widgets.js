// Pieces the screens share: a pager, a usage bar, a badge, an empty state, a chart.

import { h, svg, uid } from "./dom.js";
import { formatResource, paginate, percent } from "./model.js";

/** "Showing 1–50 of 1000" and previous/next buttons; `go(page)` changes the page. */
export function pager(paged, label, go) {
  return h(
    "nav",
    { class: "pager", "aria-label": `${label} pages` },
    h(
      "span",
      { class: "pager-range", "data-testid": "pager-range" },
      paged.total ? `Showing ${paged.first}–${paged.last} of ${paged.total}` : "Nothing to show",
    ),
    h(
      "button",
      { type: "button", class: "secondary", disabled: paged.page <= 1, onclick: () => go(paged.page - 1) },
      "Previous",
    ),
    h("span", { class: "pager-page" }, `Page ${paged.page} of ${paged.pages}`),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        disabled: paged.page >= paged.pages,
        onclick: () => go(paged.page + 1),
      },
      "Next",
    ),
  );
}

/** A used-vs-total bar with its numbers as text (the bar is decoration: the text says it). */
export function usageBar(name, label, value) {
  const pct = percent(value.used, value.total);
  const fill = h("span", { class: `bar-fill${pct >= 90 ? " high" : ""}` });
  fill.style.width = `${pct}%`;
  return h(
    "div",
    { class: "usage", "data-used": value.used, "data-total": value.total },
    h(
      "span",
      {
        class: "bar",
        role: "meter",
        "aria-label": `${label} ${pct}% used`,
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        "aria-valuenow": pct,
      },
      fill,
    ),
    h("span", { class: "usage-text" }, `${formatResource(name, value.used)} / ${formatResource(name, value.total)}`),
  );
}

const BADGE_CLASSES = {
  Running: "ok",
  active: "ok",
  Healthy: "ok",
  Deploying: "info",
  Waiting: "warn",
  Unknown: "muted",
  Stopped: "muted",
  Empty: "muted",
  inactive: "warn",
  unreachable: "bad",
  gone: "muted",
  Unhealthy: "bad",
  Success: "ok",
  SUCCESS: "ok",
  Failed: "bad",
  FAILED: "bad",
  ACTIVE: "info",
  STARTING: "info",
  INITIAL: "info",
  "Never run": "muted",
};

// Mesos task states (task and node detail) and the health API's names (components).
Object.assign(BADGE_CLASSES, {
  TASK_RUNNING: "ok",
  TASK_FINISHED: "ok",
  TASK_STAGING: "info",
  TASK_STARTING: "info",
  TASK_KILLING: "warn",
  TASK_FAILED: "bad",
  TASK_ERROR: "bad",
  TASK_LOST: "bad",
  TASK_DROPPED: "bad",
  TASK_UNREACHABLE: "warn",
  TASK_GONE: "bad",
  TASK_KILLED: "muted",
});

export function badge(text) {
  return h("span", { class: `badge ${BADGE_CLASSES[text] || "muted"}` }, text);
}

export function emptyState(title, detail) {
  return h("div", { class: "empty", role: "note" }, h("p", { class: "empty-title" }, title), detail ? h("p", {}, detail) : null);
}

function span(seconds) {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

/** The chart and what it shows, in words: its time span, and which line is which. */
export function resourceChart(title, samples, usedKey, totalKey) {
  const points = samples.filter((s) => Number.isFinite(s[usedKey]));
  const seconds = points.length > 1 ? points[points.length - 1].t - points[0].t : 0;
  return h(
    "figure",
    { class: "chart-figure" },
    chartSvg(title, points, usedKey, totalKey),
    h("figcaption", { class: "chart-caption" }, points.length > 1 ? `Last ${span(seconds)} · shaded: allocated · dashed: total` : ""),
  );
}

/** An area chart of `used` under a dashed `total` line over the samples' times. */
function chartSvg(title, points, usedKey, totalKey) {
  const width = 480;
  const height = 120;
  const pad = 4;
  const chart = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `${title} over the last ${points.length} samples`,
    "data-samples": points.length,
  });
  if (points.length < 2) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "chart-note" }, "Collecting samples…"));
    return chart;
  }
  const t0 = points[0].t;
  const t1 = points[points.length - 1].t;
  const max = Math.max(...points.map((s) => Math.max(s[totalKey], s[usedKey])), 1e-9);
  const x = (t) => pad + ((t - t0) / Math.max(t1 - t0, 1e-9)) * (width - 2 * pad);
  const y = (v) => height - pad - (v / max) * (height - 2 * pad);
  const line = (key) => points.map((s) => `${x(s.t).toFixed(1)},${y(s[key]).toFixed(1)}`).join(" ");
  const area = `${x(t0).toFixed(1)},${height - pad} ${line(usedKey)} ${x(t1).toFixed(1)},${height - pad}`;
  chart.append(
    svg("polygon", { points: area, class: "chart-used" }),
    svg("polyline", { points: line(usedKey), class: "chart-used-line" }),
    svg("polyline", { points: line(totalKey), class: "chart-total" }),
  );
  return chart;
}

/** Replace `container`'s children with `nodes`; a link or button that had the focus inside
 * gets it back in the new content (matched by its href or text), so a live redraw never
 * throws a keyboard user back to the top. */
export function replaceKeepingFocus(container, nodes) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? focusKey(active) : null;
  container.replaceChildren(...nodes);
  if (key) {
    const again = [...container.querySelectorAll("a, button, input, select")].find((el) => focusKey(el) === key);
    if (again) again.focus();
  }
}

function focusKey(el) {
  return `${el.tagName}|${el.getAttribute("href") || ""}|${el.id || ""}|${el.dataset.key || ""}|${el.textContent}`;
}

/** A search form: a text filter and selects, each labelled; `onchange(values)` gets
 * {text, <select name>: value, …} on every change. Returns the form. */
export function filterForm(label, placeholder, selects, onchange) {
  const textId = uid("filter-text");
  const text = h("input", { id: textId, type: "search", placeholder });
  const fields = selects.map(([name, title, options]) => {
    const id = uid(`filter-${name}`);
    const select = h("select", { id, name }, h("option", { value: "" }, "All"), options.map(([value, text]) => h("option", { value }, text)));
    return [name, title, id, select];
  });
  const changed = () => onchange(Object.fromEntries([["text", text.value], ...fields.map(([name, , , select]) => [name, select.value])]));
  text.addEventListener("input", changed);
  for (const [, , , select] of fields) select.addEventListener("change", changed);
  return h(
    "form",
    { class: "filters", role: "search", "aria-label": label, onsubmit: (e) => e.preventDefault() },
    h("label", { for: textId }, "Filter"),
    text,
    fields.map(([, title, id, select]) => [h("label", { for: id }, title), select]),
  );
}

/** A modal confirmation (the native <dialog>: focus inside, Escape cancels). Resolves true
 * when `action` is pressed, false otherwise. */
export function confirmDialog(title, text, action) {
  return new Promise((resolve) => {
    const titleId = uid("dialog-title");
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": titleId },
      h("h2", { id: titleId }, title),
      h("p", {}, text),
      h(
        "form",
        { method: "dialog", class: "dialog-buttons" },
        h("button", { type: "submit", value: "cancel", class: "secondary" }, "Cancel"),
        h("button", { type: "submit", value: "ok" }, action),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A table of `rows` (<tr> elements) under a header row of `columns`, those named in
 * `numeric` right-aligned; `caption` (for screen readers) when given. */
export function dataTable(testid, caption, columns, numeric, rows) {
  return h(
    "table",
    { class: "table", "data-testid": testid },
    caption ? h("caption", { class: "visually-hidden" }, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: numeric.includes(c) ? "num" : null }, c)))),
    h("tbody", {}, rows),
  );
}

/** Page `view.page` of `rows` into `container`: the table `table(items)` makes of that page's
 * rows and a pager whose buttons set `view.page` and call `redraw`. */
export function drawPaged(container, view, label, rows, table, redraw) {
  const paged = paginate(rows, view.page);
  view.page = paged.page;
  replaceKeepingFocus(container, [
    table(paged.items),
    pager(paged, label, (page) => {
      view.page = page;
      redraw();
    }),
  ]);
}
