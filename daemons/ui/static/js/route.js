// A screen's sub-route: `#/<screen>/new`, `#/<screen>/edit/<id>`, `#/<screen>/detail/<id>`
// (the id %-encoded), or a fixed word of the screen's own; anything else is its list.

/** {kind: "list" | "editor" | "detail" | one of `words`, id} ("new" is an editor without id). */
export function subRoute(words = []) {
  const [, what = "", raw = ""] = location.hash.replace(/^#\/?/, "").split("/");
  let id = "";
  try {
    id = decodeURIComponent(raw);
  } catch {
    return { kind: "list", id: "" }; // a malformed %-escape typed in the address bar
  }
  if (what === "new") return { kind: "editor", id: "" };
  if (words.includes(what)) return { kind: what, id: "" };
  if ((what === "edit" || what === "detail") && id) return { kind: what === "edit" ? "editor" : "detail", id };
  return { kind: "list", id: "" };
}
