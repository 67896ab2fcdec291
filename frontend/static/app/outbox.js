// The outbox: houses found on the spot, photos and visits kept in IndexedDB until the server
// confirms them. An item is deleted only when the server answers 200/201 (for a photo, with the
// same SHA-256). A retryable failure (offline, 5xx, 429) keeps it pending; a 4xx that cannot
// succeed marks it failed with the server's reason and keeps it until the inspector acts.
// 401 stops the drain. Photos and visits of a house found on the spot (以房找人) carry its local
// reference instead of a household id; each is pointed at the registered household when it is
// sent, however long after the registration it was taken.

import { all, del, get, kvGet, kvSet, put } from "./db.js";
import { ApiError, request } from "./api.js";
import { Backoff, queued, sendingOrder, stopsDrain, uploadSummary } from "./sending.js";
import { confirmFound, recordSentVisit, registeredId } from "./store.js";

export const events = new EventTarget();
let draining = null;
let sending = null;
let retryTimer = null;
const backoff = new Backoff();

function changed() { events.dispatchEvent(new Event("change")); }

// A photo of a draft is held (kept, not sent) until its visit is saved: a discarded draft then
// leaves nothing on the server.
export async function addPhoto(meta, bytes, sha256, { held = false } = {}) {
  const item = { ...meta, type: "photo", bytes, sha256, size: bytes.byteLength, held,
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

// 以房找人: the house is registered first, so its photos and visit can name it.
export async function addDiscovery(ref, roundId, body) {
  const item = { id: ref, type: "discovery", household_id: ref, round_id: roundId, body,
    status: "pending", error: null, attempts: 0, created_at: new Date().toISOString() };
  await put("outbox", item);
  changed();
  return item;
}

// What is queued, in the order it is sent: houses, then photos, then visits (drafts' photos not).
export async function items() {
  return sendingOrder(queued(await all("outbox")));
}

// The draft was saved: its photos go with its visit.
export async function release(ids) {
  for (const id of ids) {
    const item = await get("outbox", id);
    if (item?.held) await put("outbox", { ...item, held: false });
  }
  changed();
}

// The draft was discarded: its photos still on the phone are deleted, never sent.
export async function dropPhotos(ids) {
  for (const id of ids) if ((await get("outbox", id))?.type === "photo") await del("outbox", id);
  changed();
}

// A held photo's bytes, for the draft's own previews.
export const photo = (id) => get("outbox", id);

// An item waits for its household to be registered (a house found on the spot, not yet sent).
export const waitsForHousehold = (item) => item.type !== "discovery" && typeof item.household_id === "string";

export async function summary() {
  return { ...uploadSummary(await all("outbox"), { sending }), uploaded: (await kvGet("uploaded_count")) || 0 };
}

export const isDraining = () => draining !== null;

// Send what is queued. Automatic triggers respect the server's Retry-After; the inspector's own
// 立即上传 or 重试 (manual) goes now and includes the items that failed before.
export function drain({ manual = false } = {}) {
  if (!manual && backoff.waiting()) return Promise.resolve({ deferred: true });
  if (!draining) {
    draining = exclusive(() => drainOnce(manual))
      .finally(() => { draining = null; sending = null; changed(); });
  }
  return draining;
}

// The page and the service worker (Background Sync) share one outbox: one of them sends at a time.
function exclusive(fn) {
  const locks = typeof navigator !== "undefined" ? navigator.locks : null;
  return locks?.request ? locks.request("outbox-drain", fn) : fn();
}

async function drainOnce(includeFailed) {
  clearTimeout(retryTimer);
  let transient = false;
  let askedWait = 0;
  for (const listed of await items()) {
    // Read it again: the other sender, or a house just registered, may have changed it.
    const item = await resolveHousehold(await get("outbox", listed.id));
    if (!item || item.held || (item.status === "failed" && !includeFailed) || waitsForHousehold(item)) continue;
    sending = item.id;
    changed();
    try {
      await SENDERS[item.type](item);
      await del("outbox", item.id);
      await kvSet("uploaded_count", ((await kvGet("uploaded_count")) || 0) + 1);
      backoff.succeeded();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 401) { await note(item, "pending", e); return { stopped: "unauthorized" }; }
      if (e.retryable) {
        transient = true;
        await note(item, "pending", e);
        if (stopsDrain(e)) { askedWait = (e.retryAfter || 0) * 1000; break; }
        continue;
      }
      await note(item, "failed", e);
    }
    changed();
  }
  if (transient) scheduleRetry(askedWait);
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

async function sendDiscovery(item) {
  const row = await request(`/rounds/${item.round_id}/discoveries`, { method: "POST", json: item.body });
  // The server answers the same household for the same ID number, so a replay is harmless.
  await rehome(item.id, row.household.id);
  await confirmFound(item.id, row);
}

// Point every queued item of a house found on the spot at the household the server registered.
async function rehome(ref, householdId) {
  for (const item of await all("outbox")) {
    if (item.household_id === ref && item.type !== "discovery") await pointAt(item, householdId);
  }
}

// An item taken after its house was registered (the visit page was still open) finds it here.
async function resolveHousehold(item) {
  if (!item || !waitsForHousehold(item)) return item;
  const householdId = await registeredId(item.household_id);
  return typeof householdId === "string" ? item : pointAt(item, householdId);
}

async function pointAt(item, householdId) {
  item.household_id = householdId;
  if (item.body) item.body = { ...item.body, household_id: householdId };
  await put("outbox", item);
  return item;
}

async function sendVisit(item) {
  const visit = await request(`/visits/${item.id}`, { method: "PUT", json: item.body });
  // Confirmed: what the server now holds shows offline too (round progress, review state).
  await recordSentVisit(visit).catch(() => {});
}

const SENDERS = { discovery: sendDiscovery, photo: sendPhoto, visit: sendVisit };

// Try again after the backoff's delay, never sooner than the server's Retry-After (atLeastMs).
function scheduleRetry(atLeastMs = 0) {
  if (typeof setTimeout !== "function") return;
  const delay = backoff.failed(atLeastMs);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => { backoff.elapsed(); drain(); }, delay);
}

// The network is back: retry now and start the backoff again from its shortest delay.
// The server's own Retry-After still stands: its timer is kept.
export function resetBackoff() {
  if (backoff.restart()) clearTimeout(retryTimer);
}

export async function retry(id) {
  const item = await get("outbox", id);
  if (!item) return;
  item.status = "pending";
  await put("outbox", item);
  changed();
  return drain({ manual: true });
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
  // Who recorded them: `flask import-outbox` uploads them as that inspector.
  const user = (await kvGet("session"))?.user;
  const who = user ? { id: user.id, username: user.username, name: user.name } : null;
  return new Blob([JSON.stringify({ exported_at: new Date().toISOString(), user: who, items: out })],
    { type: "application/json" });
}

function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
