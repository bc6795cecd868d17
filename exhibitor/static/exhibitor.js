// Exhibitor's UI: ensemble status and a znode browser. Every value from the API is put into the
// page with textContent (never innerHTML), so a hostile znode name or value stays text.
"use strict";

const API = "/exhibitor/v1";
const REFRESH_MS = 5000;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function getJson(path) {
  const answer = await fetch(API + path, { headers: { Accept: "application/json" } });
  const body = await answer.json();
  if (!answer.ok) throw new Error(body && body.message ? body.message : answer.statusText);
  return body;
}

function showError(target, err) {
  target.replaceChildren(el("span", String(err.message || err), "error"));
}

async function refreshEnsemble() {
  const rows = document.getElementById("servers");
  const summary = document.getElementById("summary");
  try {
    const servers = await getJson("/cluster/status");
    rows.replaceChildren(...servers.map((s) => {
      const row = el("tr");
      row.append(el("td", s.hostname), el("td", s.description, "state-" + Number(s.code)),
                 el("td", s.isLeader ? "leader" : ""));
      return row;
    }));
    const serving = servers.filter((s) => s.code === 3).length;
    summary.textContent = serving + " of " + servers.length + " servers serving";
    const state = await getJson("/config/get-state");
    const cfg = state.config || {};
    document.getElementById("roll").textContent = cfg.rollInProgress
      ? "Rolling change: " + cfg.rollStatus + " (" + Number(cfg.rollPercentDone) + "%)"
      : "Last rolling change: " + (cfg.rollStatus || "n/a");
  } catch (err) {
    showError(summary, err);
  }
}

function selectNode(key, button) {
  document.querySelectorAll(".tree button.selected").forEach((b) => b.classList.remove("selected"));
  button.classList.add("selected");
  document.getElementById("node-key").textContent = key;
  getJson("/explorer/node-data?key=" + encodeURIComponent(key)).then((data) => {
    document.getElementById("node-str").textContent = data.str;
    document.getElementById("node-bytes").textContent = data.bytes;
    document.getElementById("node-stat").textContent = data.stat;
  }).catch((err) => showError(document.getElementById("node-stat"), err));
}

function nodeItem(child) {
  const item = el("li");
  const toggle = el("button", "+", "toggle");
  const name = el("button", child.title, "name");
  const children = el("ul");
  toggle.type = "button";
  name.type = "button";
  toggle.setAttribute("aria-label", "expand " + child.key);
  let loaded = false;
  toggle.addEventListener("click", async () => {
    if (loaded) {
      children.hidden = !children.hidden;
      toggle.textContent = children.hidden ? "+" : "−";
      return;
    }
    try {
      const list = await getJson("/explorer/node?key=" + encodeURIComponent(child.key));
      children.replaceChildren(...list.map(nodeItem));
      loaded = true;
      toggle.textContent = list.length ? "−" : "·";
    } catch (err) {
      showError(children, err);
    }
  });
  name.addEventListener("click", () => selectNode(child.key, name));
  item.append(toggle, name, children);
  return item;
}

async function loadRoot() {
  const tree = document.getElementById("tree");
  try {
    tree.replaceChildren(nodeItem({ title: "/", key: "/" }));
  } catch (err) {
    showError(tree, err);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("period").textContent = String(REFRESH_MS / 1000);
  refreshEnsemble();
  setInterval(refreshEnsemble, REFRESH_MS);
  loadRoot();
});
