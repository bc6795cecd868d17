// A service's detail (#/services/detail/<id>): its status and configuration, the actions
// (edit, scale, restart, stop/resume, delete), "why is it waiting" (the launch queue's offer
// summary and last unused offers), its deployments with rollback, its tasks, and its versions
// with a diff between any two. Marathon is asked again every few seconds (the app, the queue,
// the deployments); the versions when the app's version changes.

import { get, refreshView, Unauthorized } from "../api.js";
import { h, uid } from "../dom.js";
import { appHealth, appStatus, formatMiB, formatNumber } from "../model.js";
import { appPath, deploymentRow, deploymentsOf, diffStats, lineDiff, MARATHON, REASON_TEXT, versionText, waitingReasons, when } from "../servicemodel.js";
import { badge, dataTable, emptyState, replaceKeepingFocus } from "../widgets.js";
import { deleteApp, deploymentButtons, restartApp, resumeApp, scaleApp, stopApp } from "./service_actions.js";
import { taskHref } from "./task.js";

const REFRESH_MS = 3000;
const EMBED = "embed=app.counts&embed=app.deployments&embed=app.tasks&embed=app.lastTaskFailure";

function section(title, testid, ...content) {
  const id = uid("section");
  // Status beside "why is it waiting" (two columns); the tables under them, full width.
  const width = { waiting: " span2", "app-status": "" }[testid] ?? " wide";
  return h("section", { class: `panel${width}`, "aria-labelledby": id, "data-testid": testid }, h("h2", { id }, title), ...content);
}

function pairs(items) {
  return h("dl", { class: "counts" }, items.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function renderDetail(main, id) {
  const view = { app: null, queue: null, deployments: [], error: "", missing: false, versionsOf: null, versions: [], diff: null };
  const note = h("p", { class: "form-error", role: "alert", "data-testid": "action-note" });
  const actions = h("div", { class: "title-row-actions" });
  const body = h("div", { class: "service-detail" });
  const versions = h("div", {});
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/services" }, "Services"), " / ", id),
    h("div", { class: "title-row" }, h("h1", {}, id), actions),
    note,
    body,
    versions,
  );
  let leaving = false;
  const done = () => refresh.now();
  const gone = () => {
    if (!leaving) location.hash = "#/services";
  };

  // The buttons are made again only when Stop turns into Resume or back: a dialog gives the
  // focus back to the button that opened it, which must still be there.
  let shown = null;
  const drawActions = () => {
    const app = view.app;
    const stopped = app ? (app.instances || 0) === 0 : null;
    if (stopped === shown) return;
    shown = stopped;
    if (!app) {
      actions.replaceChildren();
      return;
    }
    const button = (text, handler, cls = "secondary") => h("button", { type: "button", class: cls, "data-key": text, onclick: () => handler(view.app, note, done) }, text);
    replaceKeepingFocus(actions, [
      h("a", { href: `#/services/edit/${encodeURIComponent(id)}`, class: "button secondary" }, "Edit"),
      button("Scale", scaleApp),
      button("Restart", restartApp),
      stopped ? button("Resume", resumeApp) : button("Stop", stopApp),
      button("Delete", async (a, n, d) => {
        if (await deleteApp(a, n, d)) gone();
      }, "danger"),
    ]);
  };

  const waitingSection = () => {
    const waiting = waitingReasons(view.queue, id);
    if (!waiting) {
      const app = view.app;
      const text = (app.instances || 0) === 0 ? "Stopped: nothing to launch." : "Not waiting: Marathon has launched every instance it wants.";
      return section("Why is it waiting", "waiting", h("p", { class: "sub" }, text));
    }
    const delay = waiting.delay && !waiting.delay.overdue ? `launches delayed ${waiting.delay.timeLeftSeconds} s more (backoff after failures)` : "";
    return section(
      "Why is it waiting",
      "waiting",
      h("p", {}, `${waiting.count} instance${waiting.count === 1 ? "" : "s"} to launch, waiting since ${when(waiting.since)}.`, delay ? [" ", h("strong", {}, delay)] : null),
      pairs([
        ["Offers looked at", String(waiting.processed)],
        ["Offers not used", String(waiting.unused)],
        ["Last offer used", when(waiting.lastUsed)],
        ["Last offer not used", when(waiting.lastUnused)],
      ]),
      waiting.reasons.length
        ? h(
            "ul",
            { class: "reasons", "data-testid": "waiting-reasons" },
            waiting.reasons.map((r) => h("li", { "data-reason": r.reason }, h("strong", {}, r.reason), ` (${REASON_TEXT[r.reason] || "see Marathon's documentation"}): ${r.declined} offer${r.declined === 1 ? "" : "s"} declined`)),
          )
        : h("p", { class: "sub" }, "No offer has been declined for it yet: Marathon may be waiting for offers."),
      waiting.offers.length
        ? dataTable(
            "unused-offers",
            "Last unused offer of each agent",
            ["Agent", "Offered", "Why not", "When"],
            [],
            waiting.offers.map((o) => h("tr", { "data-agent": o.agentId }, h("th", { scope: "row" }, o.hostname, h("span", { class: "sub mono" }, o.agentId)), h("td", {}, o.resources || "—"), h("td", {}, o.reasons.join(", ")), h("td", { class: "when" }, when(o.at)))),
          )
        : null,
    );
  };

  const deploymentsSection = () => {
    const mine = deploymentsOf(view.deployments, id).map((d) => [d, deploymentRow(d)]);
    return section(
      "Deployments",
      "app-deployments",
      mine.length
        ? dataTable(
            "app-deployments-table",
            "Deployments of this service",
            ["Deployment", "Step", "Doing", "Actions"],
            [],
            mine.map(([d, row]) =>
              h(
                "tr",
                { "data-deployment-id": row.id },
                h("th", { scope: "row", class: "mono" }, row.id, h("span", { class: "sub" }, `started ${when(row.version)}`)),
                h("td", {}, row.step),
                h("td", {}, row.actions.join(", ") || "—"),
                h("td", {}, deploymentButtons(d, note, done)),
              ),
            ),
          )
        : h("p", { class: "sub" }, "No deployment in progress."),
    );
  };

  const tasksSection = () => {
    const tasks = view.app.tasks || [];
    return section(
      "Tasks",
      "app-tasks",
      tasks.length
        ? dataTable(
            "app-tasks-table",
            "Tasks of this service",
            ["Task", "Host", "Ports", "State", "Started"],
            [],
            tasks.map((t) => h("tr", { "data-task-id": t.id }, h("th", { scope: "row", class: "mono" }, t.slaveId ? h("a", { href: taskHref(t.slaveId, t.id) }, t.id) : t.id), h("td", {}, t.host || "—"), h("td", {}, (t.ports || []).join(", ") || "—"), h("td", {}, t.state || "—"), h("td", { class: "when" }, when(t.startedAt)))),
          )
        : h("p", { class: "sub" }, "No tasks."),
      view.app.lastTaskFailure ? h("p", { class: "sub" }, `Last failure: ${view.app.lastTaskFailure.state} on ${view.app.lastTaskFailure.host || "?"} at ${when(view.app.lastTaskFailure.timestamp)}: ${view.app.lastTaskFailure.message || ""}`) : null,
    );
  };

  const draw = () => {
    drawActions();
    if (!view.app) {
      body.replaceChildren(emptyState(view.missing ? `No service ${id}.` : view.error ? "Marathon cannot be reached." : "Loading the service…", view.missing ? "" : view.error));
      return;
    }
    const app = view.app;
    const status = appStatus(app);
    const health = appHealth(app);
    replaceKeepingFocus(body, [
      section(
        "Status",
        "app-status",
        h("p", {}, badge(status), health ? [" ", badge(health)] : null, " ", h("span", { "data-testid": "instances" }, `${app.tasksRunning || 0} / ${app.instances || 0}`), " running"),
        pairs([
          ["Command", h("span", { class: "mono" }, app.cmd || (app.args || []).join(" ") || (app.container?.docker?.image ?? "—"))],
          ["Resources", `${formatNumber(app.cpus)} CPU · ${formatMiB(app.mem)} · ${formatMiB(app.disk || 0)} disk`],
          ["Version", h("span", { "data-testid": "app-version" }, when(app.version))],
          ["Configuration changed", when(app.versionInfo?.lastConfigChangeAt)],
        ]),
        view.error ? h("p", { class: "form-error" }, `Marathon did not answer the last refresh: ${view.error}`) : null,
      ),
      waitingSection(),
      deploymentsSection(),
      tasksSection(),
    ]);
  };

  // --- versions and their diff (drawn apart: a refresh must not reset the chosen pair) -----
  const fromId = uid("version-from");
  const toId = uid("version-to");
  const drawVersions = () => {
    const list = view.versions;
    const choose = (selectId, label, chosen) => [h("label", { for: selectId }, label), h("select", { id: selectId }, list.map((v) => h("option", { value: v, selected: v === chosen }, when(v))))];
    const diff = view.diff;
    versions.replaceChildren(
      section(
        "Versions",
        "versions",
        h("p", { class: "sub", "data-testid": "version-count" }, `${list.length} version${list.length === 1 ? "" : "s"}, newest first.`),
        list.length >= 2
          ? h(
              "form",
              { class: "filters", "aria-label": "Compare two versions", onsubmit: compare },
              choose(fromId, "From", view.from || list[1]),
              choose(toId, "To", view.to || list[0]),
              h("button", { type: "submit" }, "Compare"),
            )
          : h("p", { class: "sub" }, "One version: nothing to compare yet."),
        diff ? diffTable(diff) : null,
      ),
    );
  };

  const diffTable = (diff) => {
    if (diff.error) return h("p", { class: "form-error", role: "alert" }, diff.error);
    const stats = diffStats(diff.lines);
    return h(
      "div",
      { class: "diff", "data-testid": "version-diff" },
      h("p", { role: "status", "data-testid": "diff-summary" }, stats.added || stats.removed ? `${when(diff.from)} → ${when(diff.to)}: ${stats.added} line${stats.added === 1 ? "" : "s"} added, ${stats.removed} removed.` : `${when(diff.from)} → ${when(diff.to)}: no change in the configuration.`),
      h(
        "pre",
        { class: "diff-lines", "aria-label": "Differences, removed lines marked minus, added lines plus" },
        diff.lines.map((d) => h("span", { class: `diff-line ${d.op === "+" ? "added" : d.op === "-" ? "removed" : "same"}`, "data-op": d.op }, `${d.op} ${d.text}\n`)),
      ),
    );
  };

  async function compare(event) {
    event.preventDefault();
    view.from = document.getElementById(fromId).value;
    view.to = document.getElementById(toId).value;
    try {
      const [a, b] = await Promise.all([view.from, view.to].map((v) => get(`${appPath(id)}/versions/${encodeURIComponent(v)}`)));
      view.diff = { from: view.from, to: view.to, lines: lineDiff(versionText(a), versionText(b)) };
    } catch (err) {
      if (err instanceof Unauthorized) return;
      view.diff = { error: `Could not read the versions: ${err.message}` };
    }
    const focused = document.activeElement?.id;
    drawVersions();
    document.getElementById(focused || toId)?.focus();
  }

  const loadVersions = async () => {
    view.versionsOf = view.app.version;
    try {
      const found = await get(`${appPath(id)}/versions`);
      view.versions = [...(found?.versions || [])].sort().reverse(); // ISO times: newest first
      drawVersions();
    } catch (err) {
      if (!(err instanceof Unauthorized)) view.versionsOf = null;
    }
  };

  const refresh = refreshView(
    REFRESH_MS,
    view,
    async () => {
      const [found, queue, deployments] = await Promise.all([get(`${appPath(id)}?${EMBED}`), get(`${MARATHON}/queue?embed=lastUnusedOffers`), get(`${MARATHON}/deployments`)]);
      view.app = found?.app || null;
      view.queue = queue;
      view.deployments = deployments || [];
    },
    () => {
      if (view.missing) {
        view.app = null;
        versions.replaceChildren();
      }
      draw();
      if (view.app && view.app.version !== view.versionsOf) loadVersions();
    },
  );
  draw();
  return () => {
    leaving = true;
    refresh.stop();
  };
}
