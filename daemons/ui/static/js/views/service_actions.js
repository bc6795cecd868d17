// The service actions, each behind a confirmation (a native modal <dialog>: the focus goes
// inside, Escape cancels, every button says what it does): scale, restart, stop, resume,
// delete, and a deployment's rollback. Each says its outcome in `note` and returns true when
// Marathon took it.

import { HttpError, request, Unauthorized } from "../api.js";
import { h, uid } from "../dom.js";
import { appPath, MARATHON, parseInstances, previousInstances, resumeBody, stopBody } from "../servicemodel.js";
import { confirmDialog } from "../widgets.js";

/** A modal asking for a number of instances: resolves the number, or null when cancelled.
 * The field has the focus; a value that is not a whole number is said in the dialog. */
export function instancesDialog(title, text, initial, action) {
  return new Promise((resolve) => {
    const titleId = uid("dialog-title");
    const textId = uid("dialog-text");
    const fieldId = uid("dialog-instances");
    const errorId = uid("dialog-error");
    const input = h("input", { id: fieldId, type: "number", min: 0, step: 1, value: String(initial), "aria-describedby": errorId, required: true });
    const error = h("p", { id: errorId, class: "form-error", role: "alert" });
    const form = h(
      "form",
      { method: "dialog" },
      h("p", { class: "dialog-field" }, h("label", { for: fieldId }, "Instances"), input),
      error,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { type: "button", class: "secondary", onclick: () => dialog.close("cancel") }, "Cancel"),
        h("button", { type: "submit", value: "ok" }, action),
      ),
    );
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": titleId, "aria-describedby": textId }, h("h2", { id: titleId }, title), h("p", { id: textId }, text), form);
    let value = null;
    form.addEventListener("submit", (event) => {
      value = parseInstances(input.value);
      if (value === null) {
        event.preventDefault();
        error.textContent = "Give a whole number of instances (0 or more).";
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok" ? value : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.select();
  });
}

function say(note, ok, text) {
  note.className = ok ? "form-ok" : "form-error";
  note.textContent = text;
}

async function act(note, done, what, call) {
  try {
    const answer = await call();
    say(note, true, `${what}${answer?.deploymentId ? ` (deployment ${answer.deploymentId})` : ""}.`);
    return true;
  } catch (err) {
    if (err instanceof Unauthorized) return false;
    const locked = err instanceof HttpError && err.status === 409;
    say(note, false, `Marathon refused: ${err.message}${locked ? " Roll the deployment back first, or wait for it to finish." : ""}`);
    return false;
  } finally {
    done();
  }
}

const put = (id, body) => request("PUT", appPath(id), body);

export async function scaleApp(app, note, done) {
  const n = await instancesDialog(`Scale ${app.id}`, `How many instances of ${app.id} should run? It runs ${app.instances} now.`, app.instances, "Scale");
  if (n === null) return false;
  return act(note, done, `Scaling ${app.id} to ${n}`, () => put(app.id, { instances: n }));
}

export async function restartApp(app, note, done) {
  if (!(await confirmDialog(`Restart ${app.id}?`, `Marathon replaces every task of ${app.id} with a new one, following its upgrade strategy.`, "Restart"))) return false;
  return act(note, done, `Restarting ${app.id}`, () => request("POST", `${appPath(app.id)}/restart`, {}));
}

export async function stopApp(app, note, done) {
  const text = `Marathon kills all ${app.instances} instance(s) of ${app.id} and keeps its definition; Resume starts them again.`;
  if (!(await confirmDialog(`Stop ${app.id}?`, text, "Stop"))) return false;
  return act(note, done, `Stopping ${app.id}`, () => put(app.id, stopBody(app)));
}

export async function resumeApp(app, note, done) {
  const n = await instancesDialog(`Resume ${app.id}`, `Start ${app.id} again with this many instances (it had ${previousInstances(app)}).`, previousInstances(app), "Resume");
  if (n === null) return false;
  return act(note, done, `Resuming ${app.id} with ${n}`, () => put(app.id, resumeBody(app, n)));
}

export async function deleteApp(app, note, done) {
  if (!(await confirmDialog(`Delete ${app.id}?`, `Marathon kills the tasks of ${app.id} and forgets the app and its versions. This cannot be undone.`, "Delete"))) return false;
  return act(note, done, `Deleting ${app.id}`, () => request("DELETE", appPath(app.id)));
}

export async function rollBack(deployment, note, done) {
  const apps = (deployment.affectedApps || []).join(", ") || "its apps";
  const text = `Marathon cancels deployment ${deployment.id} and starts a new one that returns ${apps} to where they were before it.`;
  if (!(await confirmDialog(`Roll back deployment ${deployment.id}?`, text, "Roll back"))) return false;
  return act(note, done, `Rolling back ${deployment.id}`, () => request("DELETE", `${MARATHON}/deployments/${encodeURIComponent(deployment.id)}`));
}

export async function stopDeployment(deployment, note, done) {
  const apps = (deployment.affectedApps || []).join(", ") || "its apps";
  const text = `Marathon forgets deployment ${deployment.id} where it is, without undoing what it did: ${apps} keep their new definition and the tasks they have now.`;
  if (!(await confirmDialog(`Stop deployment ${deployment.id} without a rollback?`, text, "Stop deployment"))) return false;
  return act(note, done, `Stopped ${deployment.id}`, () => request("DELETE", `${MARATHON}/deployments/${encodeURIComponent(deployment.id)}?force=true`));
}

/** A deployment's two buttons: Roll back and Stop (force, no rollback). */
export function deploymentButtons(deployment, note, done) {
  const button = (key, label, text, handler) => h("button", { type: "button", class: "secondary", "data-key": `${key}-${deployment.id}`, "aria-label": label, onclick: () => handler(deployment, note, done) }, text);
  return h(
    "div",
    { class: "title-row-actions" },
    button("rollback", `Roll back deployment ${deployment.id}`, "Roll back", rollBack),
    button("stop", `Stop deployment ${deployment.id} without a rollback`, "Stop", stopDeployment),
  );
}
