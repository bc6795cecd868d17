// Create (#/services/new: POST /v2/apps) and edit (#/services/edit/<id>: PUT /v2/apps/<id>)
// a Marathon app through a JSON editor (jsoneditor.js) that places Marathon's 422 `details`
// beside their line and lists them with their path.

import { get, HttpError, post, request, Unauthorized } from "../api.js";
import { h } from "../dom.js";
import { jsonEditor } from "../jsoneditor.js";
import { appPath, detailHref, editableApp, MARATHON, NEW_APP } from "../servicemodel.js";

const HELP =
  "Marathon's app definition: id, cmd or args, cpus, mem, instances, and any other field of Marathon's apps. Errors Marathon finds are marked beside their line and listed below.";

export function renderEditor(main, id) {
  const creating = !id;
  const editor = jsonEditor("app", "App definition (JSON)", HELP, 20);
  const text = editor.text;
  text.disabled = !creating;
  const save = h("button", { type: "submit", disabled: !creating }, creating ? "Create service" : "Save service");
  // After a 409 (a deployment holds the app): save again with ?force=true, which cancels it.
  const force = h("button", { type: "button", class: "danger", hidden: true, onclick: (event) => submit(event, true) }, "Save anyway (cancel the deployment)");
  const back = creating ? "#/services" : detailHref(id);

  const submit = async (event, forced = false) => {
    event.preventDefault();
    editor.clear();
    force.hidden = true;
    const doc = editor.parse();
    if (!doc) return;
    save.disabled = true;
    try {
      // An edit replaces the whole definition (partialUpdate=false): a key taken out of the
      // text is taken out of the app, as the text is what the user sees.
      const saved = creating ? await post(`${MARATHON}/apps`, doc) : await request("PUT", `${appPath(id)}?partialUpdate=false${forced ? "&force=true" : ""}`, doc);
      location.hash = detailHref(creating ? saved?.id || doc.id : id);
      return;
    } catch (err) {
      if (err instanceof Unauthorized) return;
      const locked = err instanceof HttpError && err.status === 409;
      editor.refused("Marathon refused the app", err);
      if (locked) editor.message.append(" (a deployment is in progress: roll it back, wait for it, or save anyway)");
      force.hidden = !(locked && !creating);
    } finally {
      save.disabled = false;
    }
  };

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/services" }, "Services"), " / ", creating ? "New service" : h("a", { href: back }, id)),
    h("h1", {}, creating ? "Create a service" : `Edit ${id}`),
    h(
      "form",
      { class: "job-editor app-editor", onsubmit: submit, "aria-label": creating ? "Create a service" : `Edit ${id}` },
      editor.field,
      h("div", { class: "dialog-buttons" }, h("a", { href: back, class: "button secondary" }, "Cancel"), force, save),
    ),
  );

  if (creating) {
    text.value = JSON.stringify(NEW_APP, null, 2);
  } else {
    get(appPath(id))
      .then((found) => {
        text.value = JSON.stringify(editableApp(found?.app), null, 2);
        text.disabled = false;
        save.disabled = false;
        text.focus();
      })
      .catch((err) => {
        if (!(err instanceof Unauthorized)) editor.message.textContent = `Could not load ${id}: ${err.message}`;
      });
  }
  // After the router's focus on <main>: the editor is where the keyboard starts.
  const focusTimer = setTimeout(() => text.focus(), 0);
  return () => clearTimeout(focusTimer);
}
