// The UI's one way to call the cluster's APIs: through Admin Router, with the browser's
// cookie. Any 401 calls the handler main.js installs (back to the login page).

export const LOGIN_PATH = "/acs/api/v1/auth/login";
export const LOGOUT_PATH = "/acs/api/v1/auth/logout";

export class HttpError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export class Unauthorized extends HttpError {
  constructor() {
    super(401, "not logged in", null);
  }
}

let onUnauthorized = () => {};

export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function messageOf(body) {
  if (body && typeof body === "object") {
    return body.description || body.message || body.title || "";
  }
  return "";
}

export async function request(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && path !== LOGIN_PATH) {
    onUnauthorized();
    throw new Unauthorized();
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new HttpError(response.status, messageOf(data) || `${response.status} ${response.statusText}`, data);
  }
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body);

/** `refreshing(ms, …)` for a screen's view: `read()` (async) stores what it read in `view`;
 * then `view.error` is "" or the failure's message, `view.missing` true after a 404 (a 401
 * does nothing more: the page is going to the login form), and `draw()` is called. */
export function refreshView(ms, view, read, draw) {
  return refreshing(ms, async () => {
    try {
      await read();
      view.error = "";
      view.missing = false;
    } catch (err) {
      if (err instanceof Unauthorized) return;
      view.error = err.message;
      view.missing = err instanceof HttpError && err.status === 404;
    }
    draw();
  });
}

/** Call `load` (async) now and again `ms` after each answer (a slow API gets no pile-up):
 * `{stop, now}`; `now()` asks at once (after an action), `stop()` ends it (leaving a screen). */
export function refreshing(ms, load) {
  let timer = null;
  let closed = false;
  let busy = false;
  let again = false;
  const loop = async () => {
    busy = true;
    await load();
    busy = false;
    if (closed) return;
    if (again) {
      again = false;
      loop();
    } else timer = setTimeout(loop, ms);
  };
  loop();
  return {
    stop: () => {
      closed = true;
      clearTimeout(timer);
    },
    now: () => {
      if (closed) return;
      if (busy) again = true; // one more as soon as the current answer is in
      else {
        clearTimeout(timer);
        loop();
      }
    },
  };
}
