// The JSON API under /api/v1 with the bearer token from IndexedDB. Works in the page and the SW.

import { kvGet } from "./db.js";
import { retryAfterSeconds } from "./sending.js";

const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message, fields, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || {};
    this.retryAfter = retryAfter;  // seconds the server asked us to wait (429/503), or null
  }
  get offline() { return this.status === 0; }
  get retryable() { return this.status === 0 || this.status === 429 || this.status >= 500; }
}

export const events = new EventTarget();

// `bearer`: a token other than the session's (a logged-out one, to revoke it).
export async function request(path, { method = "GET", json, form, auth = true, bearer = null } = {}) {
  const headers = {};
  let token = null;
  if (auth) {
    token = (await kvGet("session"))?.token || null;
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form) body = form;
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body, cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, "offline", "网络不可用，稍后自动重试");
  }
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const err = data?.error || {};
    const e = new ApiError(res.status, err.code || `http_${res.status}`,
      err.message || `服务器错误（${res.status}）`, err.fields, retryAfterSeconds(res.headers.get("Retry-After")));
    if (res.status === 401 && auth) events.dispatchEvent(new CustomEvent("unauthorized", { detail: { error: e, token } }));
    throw e;
  }
  return data;
}

export async function blob(path) {
  const session = await kvGet("session");
  const res = await fetch(BASE + path, { headers: { Authorization: `Bearer ${session?.token}` } });
  if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, "无法加载照片");
  return res.blob();
}

export async function pages(path) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await request(`${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}
