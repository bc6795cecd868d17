// Who is logged in (the readable `dcos-acs-info-cookie` IAM sets beside the HttpOnly token
// cookie), logging in and out.

import { HttpError, LOGIN_PATH, LOGOUT_PATH, post } from "./api.js";

const INFO_COOKIE = "dcos-acs-info-cookie";

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return null;
}

/** {uid, description} of the logged-in user, or null. */
export function currentUser() {
  let raw = cookie(INFO_COOKIE);
  if (!raw) return null;
  if (raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
  try {
    const info = JSON.parse(atob(decodeURIComponent(raw)));
    return info && typeof info.uid === "string" && info.uid ? info : null;
  } catch {
    return null;
  }
}

/** Forget the user on this page (the token cookie is HttpOnly: logout expires it). */
export function forgetUser() {
  document.cookie = `${INFO_COOKIE}=; Max-Age=0; Path=/; SameSite=Strict`;
}

/** Log in; throws an Error whose message the login form shows. */
export async function login(uid, password) {
  try {
    await post(LOGIN_PATH, { uid, password });
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) {
      throw new Error("Wrong user name or password.");
    }
    if (err instanceof HttpError && err.status === 400) {
      throw new Error(err.message || "The login was refused.");
    }
    throw new Error(`Cannot log in right now (${err.message}).`);
  }
}

export async function logout() {
  try {
    await fetch(LOGOUT_PATH, { credentials: "same-origin" });
  } finally {
    forgetUser();
  }
}
