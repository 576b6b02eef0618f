// The UI's one door to the server: /api/v1 and /csrf_token over fetch, with
// the session cookie (HttpOnly, sent by the browser) and the session's CSRF
// token on every write. The token lives in this module's memory only.

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, body, fallback) {
    super(messageOf(status, body, fallback));
    this.status = status;
    this.body = body;
    this.type = body && (body.error_type || body.error);
  }
}

function messageOf(status, body, fallback) {
  if (body && typeof body === "object") {
    const m = body.error_message || body.detail || body.message || body.error_description;
    if (m) return m;
  }
  if (typeof body === "string" && body.trim() && body.length < 300) return body.trim();
  if (status === 401) return "You need to sign in to do that.";
  if (status === 403) return "You do not have permission to do that.";
  if (status === 404) return "Not found.";
  if (status === 429) return "Too many attempts; wait a little and try again.";
  if (status >= 500) return "The server could not do that right now (" + status + ").";
  return fallback || "The request failed (" + status + ").";
}

async function refreshCsrf() {
  const r = await fetch("/csrf_token", { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new ApiError(r.status, null, "Could not start a session.");
  csrfToken = (await r.json()).csrf_token;
}

export function resetCsrf() { csrfToken = null; }

// Calls the API. `path` is under /api/v1 unless it starts with "/"
// elsewhere. Resolves to the decoded JSON (or null for an empty body);
// rejects with ApiError carrying the server's message.
export async function api(method, path, body, { query } = {}) {
  let url = path.startsWith("/") ? path : "/api/v1/" + path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += (url.includes("?") ? "&" : "?") + s;
  }
  const headers = { Accept: "application/json" };
  const write = method !== "GET" && method !== "HEAD";
  if (write) {
    if (!csrfToken) await refreshCsrf();
    headers["X-CSRF-Token"] = csrfToken;
  }
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(url, init);
  const next = r.headers.get("X-Next-CSRF-Token");
  if (next) csrfToken = next;
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

export const get = (path, query) => api("GET", path, undefined, { query });
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);
export const put = (path, body) => api("PUT", path, body === undefined ? {} : body);
export const del = (path) => api("DELETE", path);

// Path segments of a repository name ("ns/name" or "ns/a/b"), each escaped.
export function repoPath(full) {
  return full.split("/").map(encodeURIComponent).join("/");
}

// The signed-in user (or {anonymous: true}), cached for the page's life and
// refreshed after sign in/out.
let me = null;
export async function currentUser(refresh = false) {
  if (!me || refresh) me = await get("user/");
  return me;
}
export function forgetUser() { me = null; }
