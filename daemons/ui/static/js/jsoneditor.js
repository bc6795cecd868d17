// A labelled JSON textarea that places an API's 422 `details` ([{path, errors}], Marathon's
// and Metronome's shape) by line: beside the text, a gutter mark at the height of each
// field's line that scrolls with it, and under it a list with the path and a button that puts
// the caret on the field (a missing key at its parent's line, `/` at line 1; model.js's
// placeErrors). The jobs and services editors share it.

import { h, uid } from "./dom.js";
import { placeErrors } from "./model.js";

/** {field: the label, help, text and gutter, message, errors list; text: the textarea;
 * parse(): the object typed, or null after saying why; refused(err): show an API's refusal;
 * clear()}. */
export function jsonEditor(name, label, help, rows) {
  const textId = uid(`${name}-json`);
  const helpId = uid(`${name}-json-help`);
  const errorsId = uid(`${name}-json-errors`);
  const text = h("textarea", {
    id: textId,
    class: "json-editor",
    rows,
    wrap: "off", // a line of the text is a line on screen: the gutter's marks line up
    spellcheck: "false",
    "aria-describedby": `${helpId} ${errorsId}`,
  });
  const marks = h("div", { class: "gutter-marks" });
  const gutter = h("div", { class: "editor-gutter", "aria-hidden": "true", "data-testid": "editor-gutter" }, marks);
  const message = h("p", { class: "form-error", role: "alert", "data-testid": "editor-message" });
  const errors = h("ul", { id: errorsId, class: "field-errors", "data-testid": "field-errors" });
  text.addEventListener("scroll", () => {
    marks.style.transform = `translateY(${-text.scrollTop}px)`;
  });

  const jumpTo = (offset) => {
    text.focus();
    text.setSelectionRange(offset, offset);
  };

  const mark = (line, items, style) => {
    const lineHeight = Number.parseFloat(style.lineHeight) || 18;
    const top = (Number.parseFloat(style.borderTopWidth) || 0) + (Number.parseFloat(style.paddingTop) || 0);
    const el = h("div", { class: "gutter-mark", "data-line": line, "data-testid": "gutter-mark" }, `◀ ${items.map((p) => p.errors.join("; ")).join(" · ")}`);
    el.style.top = `${top + (line - 1) * lineHeight}px`;
    el.style.height = `${lineHeight}px`;
    el.style.lineHeight = `${lineHeight}px`;
    return el;
  };

  const showDetails = (details) => {
    const placed = placeErrors(text.value, details);
    const byLine = new Map();
    for (const p of placed) byLine.set(p.line, [...(byLine.get(p.line) || []), p]);
    const style = getComputedStyle(text);
    marks.replaceChildren(...[...byLine.entries()].map(([line, items]) => mark(line, items, style)));
    marks.style.transform = `translateY(${-text.scrollTop}px)`;
    errors.replaceChildren(
      ...placed.map((p) =>
        h(
          "li",
          { "data-path": p.path, "data-line": p.line },
          h("button", { type: "button", class: "link", onclick: () => jumpTo(p.offset), "aria-label": `Go to line ${p.line}, ${p.path}` }, `Line ${p.line}`),
          " ",
          h("code", {}, p.path),
          `: ${p.errors.join("; ")}`,
        ),
      ),
    );
    text.setAttribute("aria-invalid", placed.length ? "true" : "false");
  };

  const clear = () => {
    message.textContent = "";
    errors.replaceChildren();
    marks.replaceChildren();
    text.setAttribute("aria-invalid", "false");
  };

  const invalid = (why) => {
    message.textContent = why;
    text.setAttribute("aria-invalid", "true");
    return null;
  };

  return {
    text,
    message,
    field: [h("label", { for: textId }, label), h("p", { id: helpId, class: "sub" }, help), h("div", { class: "editor-with-gutter" }, text, gutter), message, errors],
    clear,
    parse: () => {
      let doc;
      try {
        doc = JSON.parse(text.value);
      } catch (err) {
        return invalid(`Not valid JSON: ${err.message}`);
      }
      if (!doc || typeof doc !== "object" || Array.isArray(doc)) return invalid("The definition is a JSON object.");
      return doc;
    },
    /** Say `prefix: err.message` and place the 422 details when the answer has them. */
    refused: (prefix, err) => {
      message.textContent = `${prefix}: ${err.message}`;
      if (Array.isArray(err.body?.details)) showDetails(err.body.details);
      else text.setAttribute("aria-invalid", "true");
    },
  };
}
