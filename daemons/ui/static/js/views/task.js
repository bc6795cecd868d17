// A task's detail, from its agent through Admin Router (`/agent/<agent-id>/…`): its state
// history, host, ports and health (the agent's /state, every 5 s while the details tab is
// open); its sandbox (the files API's browse and download); its stdout/stderr, the file's last
// 64 KiB and then, while "Follow" is on and the page is visible, what was appended (a size
// read every second, a read of the new bytes when there are some). Routes:
// #/tasks/<agent-id>/<task-id>[/files|/logs]. Nothing here asks the master.

import { get, HttpError, refreshing, Unauthorized } from "../api.js";
import { h, uid } from "../dom.js";
import { formatResource } from "../model.js";
import {
  findTask,
  formatBytes,
  isLive,
  keepTail,
  nextRead,
  parentPath,
  rangeValues,
  sandboxRelative,
  sortListing,
  stateHistory,
  taskHealth,
} from "../opsmodel.js";
import { badge, dataTable, emptyState, replaceKeepingFocus } from "../widgets.js";

const DETAIL_MS = 5000;
const FOLLOW_MS = 1000;
const TABS = [
  ["", "Details"],
  ["files", "Files"],
  ["logs", "Logs"],
];

export const agentPath = (agent) => `/agent/${encodeURIComponent(agent)}`;
export const taskHref = (agent, task, tab) =>
  `#/tasks/${encodeURIComponent(agent)}/${encodeURIComponent(task)}${tab ? `/${tab}` : ""}`;
const filesUrl = (agent, what, path, extra = "") =>
  `${agentPath(agent)}/files/${what}?path=${encodeURIComponent(path)}${extra}`;
const when = (seconds) => (seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "—");

function parseRoute() {
  const [, agent = "", task = "", tab = ""] = location.hash.replace(/^#\/?/, "").split("?")[0].split("/");
  try {
    return { agent: decodeURIComponent(agent), task: decodeURIComponent(task), tab: TABS.some(([t]) => t === tab) ? tab : "" };
  } catch {
    return { agent: "", task: "", tab: "" }; // a malformed %-escape typed in the address bar
  }
}

function problem(err, what) {
  if (err instanceof HttpError && err.status === 404) return `${what} was not found.`;
  if (err instanceof HttpError && (err.status === 502 || err.status === 503)) return `${what} is not reachable (${err.status}).`;
  return `${what}: ${err.message}`;
}

export function render(main) {
  const route = parseRoute();
  if (!route.agent || !route.task) {
    main.append(h("h1", {}, "Task"), emptyState("No task named.", "Open a task from its node's page."));
    return () => {};
  }
  const heading = h("h1", {}, route.task);
  const nodeLink = h("a", { href: `#/nodes/detail/${encodeURIComponent(route.agent)}` }, route.agent);
  const body = h("div", { class: "task-body" });
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/nodes" }, "Nodes"), " › ", nodeLink, " › task"),
    heading,
    h(
      "nav",
      { class: "tabs", "aria-label": "Task" },
      TABS.map(([tab, label]) =>
        h("a", { href: taskHref(route.agent, route.task, tab), "aria-current": tab === route.tab ? "page" : null }, label),
      ),
    ),
    body,
  );
  const ctx = { ...route, heading, nodeLink, body };
  if (route.tab === "files") return files(ctx);
  if (route.tab === "logs") return logs(ctx);
  return details(ctx);
}

/** The agent's /state and the task in it; null (with the reason drawn) when not found. */
async function locate(ctx) {
  let state;
  try {
    state = await get(`${agentPath(ctx.agent)}/state`);
  } catch (err) {
    if (err instanceof Unauthorized) return null;
    ctx.body.replaceChildren(emptyState(problem(err, `Agent ${ctx.agent}`)));
    return null;
  }
  if (state?.hostname) ctx.nodeLink.textContent = state.hostname;
  const found = findTask(state, ctx.task);
  if (!found) {
    ctx.body.replaceChildren(emptyState(`Task ${ctx.task} is not on this agent.`, "The agent forgets completed tasks after a while."));
    return null;
  }
  if (found.task.name) ctx.heading.textContent = found.task.name;
  return { state, ...found };
}

function details(ctx) {
  const load = async () => {
    const found = await locate(ctx);
    if (!found) return;
    const { state, task, executor, framework } = found;
    const ports = rangeValues(task.resources?.ports);
    const health = taskHealth(task);
    const history = stateHistory(task);
    const host = state.hostname || "";
    const fact = (key, label, value) => [h("dt", {}, label), h("dd", { "data-key": key }, value)];
    replaceKeepingFocus(ctx.body, [
      h(
        "section",
        { class: "panel", "aria-labelledby": "task-facts" },
        h("h2", { id: "task-facts" }, "Task"),
        h(
          "dl",
          { class: "facts", "data-testid": "task-facts" },
          fact("state", "State", badge(task.state)),
          fact("health", "Health", health ? badge(health) : "No health checks"),
          fact("host", "Host", host || "—"),
          fact("ports", "Ports", ports.length ? ports.join(", ") : "—"),
          fact("endpoints", "Endpoints", ports.length && host ? ports.map((p) => `${host}:${p}`).join(", ") : "—"),
          fact("id", "Task id", h("span", { class: "mono" }, task.id)),
          fact("framework", "Framework", framework.name || framework.id),
          fact("executor", "Executor", h("span", { class: "mono" }, executor.id)),
          fact(
            "resources",
            "Resources",
            ["cpus", "mem", "disk"].map((r) => `${r === "cpus" ? "CPU" : r === "mem" ? "Memory" : "Disk"} ${formatResource(r, task.resources?.[r] || 0)}`).join(" · "),
          ),
          fact("sandbox", "Sandbox", h("span", { class: "mono" }, executor.directory || "—")),
        ),
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": "task-history" },
        h("h2", { id: "task-history" }, "State history"),
        history.length
          ? dataTable(
              "state-history",
              "The task's states, oldest first",
              ["State", "Time", "Health", "Reason"],
              [],
              history.map((s) =>
                h(
                  "tr",
                  { "data-state": s.state },
                  h("td", {}, badge(s.state)),
                  h("td", { class: "when" }, when(s.timestamp)),
                  h("td", {}, s.healthy === null ? "" : s.healthy ? "Healthy" : "Unhealthy"),
                  h("td", {}, [s.reason, s.message].filter(Boolean).join(": ")),
                ),
              ),
            )
          : emptyState("No status update yet."),
      ),
    ]);
  };
  const timer = refreshing(DETAIL_MS, load);
  return timer.stop;
}

function files(ctx) {
  let root = "";
  let current = "";
  const go = async (path) => {
    current = path;
    let listing;
    try {
      listing = await get(filesUrl(ctx.agent, "browse", path));
    } catch (err) {
      if (!(err instanceof Unauthorized)) ctx.body.replaceChildren(emptyState(problem(err, `Directory ${sandboxRelative(root, path) || "/"}`)));
      return;
    }
    if (current !== path) return; // another directory was asked for meanwhile
    const rows = sortListing(listing);
    const where = sandboxRelative(root, path);
    const parts = where ? where.split("/") : [];
    const crumbs = [
      h("button", { type: "button", class: "link", onclick: () => go(root), "aria-current": parts.length ? null : "location" }, "sandbox"),
      parts.map((name, i) => {
        const target = `${root}/${parts.slice(0, i + 1).join("/")}`;
        return [" / ", i === parts.length - 1 ? h("span", { "aria-current": "location" }, name) : h("button", { type: "button", class: "link", onclick: () => go(target) }, name)];
      }),
    ];
    replaceKeepingFocus(ctx.body, [
      h(
        "div",
        { class: "log-bar" },
        h("nav", { class: "crumbs path", "aria-label": "Sandbox path" }, crumbs),
        h("button", { type: "button", class: "secondary", onclick: () => go(path) }, "Refresh"),
      ),
      h("p", { class: "count", role: "status", "data-testid": "file-count" }, `${rows.length} ${rows.length === 1 ? "entry" : "entries"}`),
      rows.length || where
        ? dataTable(
            "files-table",
            "The sandbox's files",
            ["Name", "Size", "Mode", "Modified", ""],
            ["Size"],
            [
              where
                ? h("tr", {}, h("td", {}, h("button", { type: "button", class: "link", onclick: () => go(parentPath(root, path)) }, "..", h("span", { class: "visually-hidden" }, " (parent directory)"))), h("td", {}), h("td", {}), h("td", {}), h("td", {}))
                : null,
              rows.map((e) =>
                h(
                  "tr",
                  { "data-name": e.name },
                  h("th", { scope: "row" }, e.directory ? h("button", { type: "button", class: "link", onclick: () => go(e.path) }, `${e.name}/`) : h("span", { class: "mono" }, e.name)),
                  h("td", { class: "num" }, e.directory ? "—" : formatBytes(e.size)),
                  h("td", { class: "mono" }, e.mode),
                  h("td", { class: "when" }, when(e.mtime)),
                  h(
                    "td",
                    {},
                    e.directory
                      ? ""
                      : [
                          h("a", { href: filesUrl(ctx.agent, "download", e.path), download: e.name, "aria-label": `Download ${e.name}` }, "Download"),
                          e.name === "stdout" || e.name === "stderr" ? [" · ", h("a", { href: `${taskHref(ctx.agent, ctx.task, "logs")}?file=${e.name}`, "aria-label": `View ${e.name}` }, "View")] : null,
                        ],
                  ),
                ),
              ),
            ],
          )
        : emptyState("The sandbox is empty."),
    ]);
  };
  (async () => {
    const found = await locate(ctx);
    if (!found) return;
    root = found.executor.directory;
    if (!root) {
      ctx.body.replaceChildren(emptyState("The agent does not say where this task's sandbox is."));
      return;
    }
    await go(root);
  })();
  return () => {
    current = null;
  };
}

function logs(ctx) {
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("file");
  let file = wanted === "stderr" ? "stderr" : "stdout";
  let directory = "";
  let offset = null;
  let text = "";
  let closed = false;
  let timer = null;
  let busy = false;
  let pending = false; // a file chosen while a read was under way
  const followId = uid("follow");
  const follow = h("input", { type: "checkbox", id: followId, checked: true });
  const output = h("pre", { class: "log", role: "log", "aria-live": "off", "aria-label": "Task output", tabindex: "0", "data-testid": "log-output" });
  const status = h("p", { class: "count", role: "status", "aria-live": "polite", "data-testid": "log-status" });
  const download = h("a", { class: "button secondary" }, "Download");
  const buttons = ["stdout", "stderr"].map((name) =>
    h("button", { type: "button", class: "secondary", "data-file": name, "aria-pressed": String(name === file), onclick: () => choose(name) }, name),
  );
  ctx.body.append(
    h(
      "div",
      { class: "log-bar" },
      h("div", { class: "toggle-group", role: "group", "aria-label": "Output" }, buttons),
      h("span", { class: "check" }, follow, h("label", { for: followId }, "Follow")),
      download,
    ),
    status,
    output,
  );

  const path = () => `${directory}/${file}`;
  const show = (message) => {
    status.textContent = message;
  };
  const draw = () => {
    const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
    output.textContent = text;
    if (follow.checked || atBottom) output.scrollTop = output.scrollHeight;
  };

  /** One step: the file's size, then what is new (at most one chunk). */
  const step = async () => {
    const asked = file;
    const sized = await get(filesUrl(ctx.agent, "read", path(), "&offset=-1"));
    const size = Number(sized?.offset) || 0;
    const next = nextRead(offset, size);
    if (next.reset) text = "";
    if (next.length > 0) {
      const chunk = await get(filesUrl(ctx.agent, "read", path(), `&offset=${next.offset}&length=${next.length}`));
      if (asked !== file || closed) return;
      text = keepTail(text + (chunk?.data || ""));
    }
    if (asked !== file) return;
    offset = next.offset + next.length;
    draw();
    show(`${file}: ${formatBytes(size)}${follow.checked ? " · following" : ""}`);
  };

  const tick = async () => {
    timer = null;
    if (closed || busy) return;
    busy = true;
    try {
      await step();
    } catch (err) {
      if (!(err instanceof Unauthorized)) show(problem(err, file));
    }
    busy = false;
    if (pending) {
      pending = false;
      tick();
      return;
    }
    schedule();
  };
  /** Again in a second while following and visible; a hidden tab asks nothing. */
  const schedule = () => {
    if (closed || timer || busy || !follow.checked || document.visibilityState !== "visible") return;
    timer = setTimeout(tick, FOLLOW_MS);
  };
  const choose = (name) => {
    file = name;
    offset = null;
    text = "";
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.file === name));
    download.href = filesUrl(ctx.agent, "download", path());
    download.setAttribute("download", name);
    download.setAttribute("aria-label", `Download ${name}`);
    draw();
    clearTimeout(timer);
    timer = null;
    if (busy) pending = true;
    else tick();
  };
  const visibility = () => schedule();
  follow.addEventListener("change", () => {
    if (follow.checked) {
      clearTimeout(timer);
      timer = null;
      if (busy) pending = true;
      else tick();
    } else {
      clearTimeout(timer);
      timer = null;
      show(`${file}: paused`);
    }
  });
  document.addEventListener("visibilitychange", visibility);

  (async () => {
    const found = await locate(ctx);
    if (!found || closed) return;
    directory = found.executor.directory;
    if (!isLive(found.task.state)) follow.checked = false; // a finished task's output no longer grows
    choose(file);
  })();
  return () => {
    closed = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", visibility);
  };
}
