// The login page: uid + password, posted to IAM through Admin Router.

import { login } from "../auth.js";
import { h } from "../dom.js";

export function render(main, { next }) {
  const error = h("p", { class: "form-error", id: "login-error", role: "alert" });
  const uid = h("input", { id: "login-uid", name: "uid", autocomplete: "username", required: true, autocapitalize: "none" });
  const password = h("input", {
    id: "login-password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h(
    "form",
    { class: "login-form", "aria-labelledby": "login-title", novalidate: true },
    h("h1", { id: "login-title" }, "Log in to PyDCOS"),
    h("label", { for: "login-uid" }, "User name"),
    uid,
    h("label", { for: "login-password" }, "Password"),
    password,
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!uid.value.trim() || !password.value) {
      error.textContent = "Enter your user name and password.";
      (uid.value.trim() ? password : uid).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Logging in…";
    try {
      await login(uid.value.trim(), password.value);
      location.hash = next || "#/dashboard";
    } catch (err) {
      error.textContent = err.message;
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Log in";
    }
  });
  main.append(h("div", { class: "login-page" }, form));
  uid.focus();
  return () => {};
}
