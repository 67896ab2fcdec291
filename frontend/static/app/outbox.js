// The outbox: photos and visits kept in IndexedDB until the server confirms them.
// An item is deleted only when the server answers 200/201 (for a photo, with the same SHA-256).
// A retryable failure (offline, 5xx, 429) keeps it pending; a 4xx that cannot succeed marks it
// failed with the server's reason and keeps it until the inspector acts. 401 stops the drain.

import { all, del, get, kvGet, kvSet, put } from "./db.js";
import { ApiError, request } from "./api.js";
import { recordSentVisit } from "./store.js";

export const events = new EventTarget();
let draining = null;
let sending = null;
let retryTimer = null;
let failures = 0;

function changed() { events.dispatchEvent(new Event("change")); }

export async function addPhoto(meta, bytes, sha256) {
  const item = { ...meta, type: "photo", bytes, sha256, size: bytes.byteLength,
    status: "pending", error: null, attempts: 0, created_at: new Date().toISOString() };
  await put("outbox", item);
  changed();
  return item;
}

export async function addVisit(id, body) {
  // A visit once stored is replayed with exactly the same body (the server compares it).
  const existing = await get("outbox", id);
  const item = { id, type: "visit", household_id: body.household_id, body,
    status: "pending", error: null, attempts: 0, created_at: existing?.created_at || new Date().toISOString() };
  await put("outbox", item);
  changed();
  return item;
}

export async function items() {
  const list = await all("outbox");
  return list.sort((a, b) => (a.type === b.type ? a.created_at.localeCompare(b.created_at)
    : a.type === "photo" ? -1 : 1));
}

export async function summary() {
  const list = await all("outbox");
  const photos = list.filter((i) => i.type === "photo");
  return {
    photos: photos.length,
    visits: list.length - photos.length,
    failed: list.filter((i) => i.status === "failed").length,
    bytes: photos.reduce((s, i) => s + i.size, 0),
    sending: sending,
    uploaded: (await kvGet("uploaded_count")) || 0,
  };
}

export const isDraining = () => draining !== null;

export function drain({ includeFailed = false } = {}) {
  if (!draining) {
    draining = drainOnce(includeFailed).finally(() => { draining = null; sending = null; changed(); });
  }
  return draining;
}

async function drainOnce(includeFailed) {
  clearTimeout(retryTimer);
  const list = await items();
  let transient = false;
  for (const item of list) {
    if (item.status === "failed" && !includeFailed) continue;
    sending = item.id;
    changed();
    try {
      if (item.type === "photo") await sendPhoto(item);
      else await sendVisit(item);
      await del("outbox", item.id);
      await kvSet("uploaded_count", ((await kvGet("uploaded_count")) || 0) + 1);
      failures = 0;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 401) { await note(item, "pending", e); return { stopped: "unauthorized" }; }
      if (e.retryable) { transient = true; await note(item, "pending", e); if (e.offline) break; continue; }
      await note(item, "failed", e);
    }
    changed();
  }
  if (transient) scheduleRetry();
  return { transient };
}

async function note(item, status, e) {
  const fresh = await get("outbox", item.id);
  if (!fresh) return;
  fresh.status = status;
  fresh.attempts = (fresh.attempts || 0) + 1;
  fresh.error = { status: e.status, code: e.code, message: e.message, fields: e.fields };
  await put("outbox", fresh);
}

async function sendPhoto(item) {
  const form = new FormData();
  form.append("file", new Blob([item.bytes], { type: "image/jpeg" }), `${item.id}.jpg`);
  for (const key of ["household_id", "phase", "case_id", "visit_id", "node", "item",
    "captured_at", "lat", "lon", "accuracy_m", "fix_at", "sha256"]) {
    if (item[key] !== null && item[key] !== undefined && item[key] !== "") form.append(key, String(item[key]));
  }
  const res = await request(`/photos/${item.id}`, { method: "PUT", form });
  if (!res || res.sha256 !== item.sha256) {
    throw new ApiError(409, "sha_mismatch", "服务器保存的照片与本机不一致");
  }
}

async function sendVisit(item) {
  const visit = await request(`/visits/${item.id}`, { method: "PUT", json: item.body });
  // Confirmed: what the server now holds shows offline too (round progress, review state).
  await recordSentVisit(visit).catch(() => {});
}

function scheduleRetry() {
  if (typeof setTimeout !== "function") return;
  failures += 1;
  const delay = Math.min(2000 * 2 ** (failures - 1), 5 * 60 * 1000);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => drain(), delay);
}

// The network is back: retry now and start the backoff again from its shortest delay.
export function resetBackoff() {
  failures = 0;
  clearTimeout(retryTimer);
}

export async function retry(id) {
  const item = await get("outbox", id);
  if (!item) return;
  item.status = "pending";
  await put("outbox", item);
  changed();
  return drain();
}

export async function discard(id) {
  await del("outbox", id);
  changed();
}

export async function exportFile() {
  // The last resort: every item, bytes in base64, in one JSON file the inspector can hand over.
  const list = await items();
  const out = list.map((i) => {
    const copy = { ...i };
    if (i.bytes) copy.bytes = toBase64(i.bytes);
    return copy;
  });
  return new Blob([JSON.stringify({ exported_at: new Date().toISOString(), items: out })],
    { type: "application/json" });
}

function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
