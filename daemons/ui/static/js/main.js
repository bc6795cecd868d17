// The single page: a hash router (#/login, #/dashboard, #/nodes, #/services, #/jobs…), the top bar,
// and the one rule of authentication: no user or any 401 -> the login page.

import { setUnauthorizedHandler } from "./api.js";
import { currentUser, forgetUser, logout } from "./auth.js";
import { live } from "./live.js";
import * as dashboard from "./views/dashboard.js";
import * as jobs from "./views/jobs.js";
import * as login from "./views/login.js";
import * as nodes from "./views/nodes.js";
import * as services from "./views/services.js";
import * as components from "./views/components.js";
import * as networking from "./views/networking.js";
import * as tasks from "./views/task.js";

const VIEWS = { login, dashboard, nodes, services, jobs };
const TITLES = { login: "Log in", dashboard: "Dashboard", nodes: "Nodes", services: "Services", jobs: "Jobs" };
Object.assign(VIEWS, { tasks, components, networking });
Object.assign(TITLES, { tasks: "Task", components: "Components", networking: "Networking" });
const DEFAULT = "dashboard";

const main = document.getElementById("main");
const topbar = document.getElementById("topbar");
const userLabel = document.getElementById("user");
const liveStatus = document.getElementById("live-status");
let leave = null;
let afterLogin = null;

function routeName() {
  const name = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return VIEWS[name] ? name : DEFAULT;
}

function toLogin() {
  live.stop();
  forgetUser();
  if (routeName() !== "login") {
    afterLogin = location.hash && !location.hash.startsWith("#/login") ? location.hash : null;
    location.hash = "#/login";
  }
}

function showLive() {
  if (live.connected) liveStatus.textContent = live.status && !live.status.ok ? "Live · master unreachable" : "Live";
  else liveStatus.textContent = "Reconnecting…";
  liveStatus.className = `live-status ${live.connected && live.status?.ok !== false ? "ok" : "warn"}`;
}

function route() {
  const name = routeName();
  const user = currentUser();
  if (name !== "login" && !user) {
    toLogin();
    return;
  }
  if (name === "login" && user) {
    location.hash = `#/${DEFAULT}`; // already logged in
    return;
  }
  if (leave) leave();
  leave = null;
  main.replaceChildren();
  if (name === "login") {
    topbar.hidden = true;
    live.stop();
    leave = VIEWS.login.render(main, { next: afterLogin });
    afterLogin = null;
  } else {
    topbar.hidden = false;
    userLabel.textContent = user.uid;
    for (const link of topbar.querySelectorAll("a[data-route]")) {
      if (link.dataset.route === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    live.resume();
    showLive();
    leave = VIEWS[name].render(main, {});
    main.focus({ preventScroll: true });
  }
  document.title = `${TITLES[name]} · PyDCOS`;
}

setUnauthorizedHandler(toLogin);
live.subscribe((kind) => {
  if (kind === "connection" || kind === "status" || kind === "snapshot") showLive();
});
document.getElementById("logout").addEventListener("click", async () => {
  live.stop();
  await logout();
  location.hash = "#/login";
});
window.addEventListener("hashchange", route);
route();
