// The live cluster state, from the UI backend's Server-Sent Events: one stream per page,
// whatever the screen. The backend reads the master once per interval for every browser;
// this page never asks the master for its state itself.

import { get } from "./api.js";

export const EVENTS_PATH = "/ui/api/v1/events";
const STATUS_PATH = "/ui/api/v1/status";
const RETRY_MS = 5000;

class Live {
  constructor() {
    this.history = [];
    this.capacity = 720;
    this.summary = null; // {t, dashboard, nodes}
    this.status = null; // the sampler's {ok, error, reads, interval, ...}
    this.connected = false;
    this.listeners = new Set();
    this.source = null;
    this.retry = null;
  }

  start() {
    if (this.source || this.retry) return;
    const source = new EventSource(EVENTS_PATH);
    this.source = source;
    source.addEventListener("open", () => this.setConnected(true));
    source.addEventListener("snapshot", (e) => {
      const data = JSON.parse(e.data);
      this.history = data.history || [];
      this.capacity = data.capacity || this.capacity;
      this.summary = data.summary;
      this.status = data.status;
      this.emit("snapshot");
    });
    source.addEventListener("sample", (e) => {
      this.history.push(JSON.parse(e.data));
      if (this.history.length > this.capacity) {
        this.history.splice(0, this.history.length - this.capacity);
      }
      if (this.status && !this.status.ok) this.status = { ...this.status, ok: true, error: "" };
      this.emit("sample");
    });
    source.addEventListener("summary", (e) => {
      this.summary = JSON.parse(e.data);
      this.emit("summary");
    });
    source.addEventListener("status", (e) => {
      this.status = JSON.parse(e.data);
      this.emit("status");
    });
    source.addEventListener("error", () => {
      this.setConnected(false);
      if (source.readyState === EventSource.CLOSED) this.closedByServer();
    });
  }

  // The stream was refused (not a network blip, which EventSource retries by itself): ask
  // why. A 401 sends the page to the login form (api.js); otherwise try again later.
  async closedByServer() {
    this.stopSource();
    try {
      await get(STATUS_PATH);
    } catch {
      // the unauthorized handler has run, or the backend is away: retry either way
    }
    if (!this.stopped) {
      this.retry = setTimeout(() => {
        this.retry = null;
        this.start();
      }, RETRY_MS);
    }
  }

  stopSource() {
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  stop() {
    this.stopped = true;
    this.stopSource();
    clearTimeout(this.retry);
    this.retry = null;
    this.setConnected(false);
  }

  resume() {
    this.stopped = false;
    this.start();
  }

  setConnected(connected) {
    if (this.connected !== connected) {
      this.connected = connected;
      this.emit("connection");
    }
  }

  emit(kind) {
    for (const listener of [...this.listeners]) listener(kind);
  }

  /** Call `listener(kind)` on every change; returns the function that stops it. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export const live = new Live();
