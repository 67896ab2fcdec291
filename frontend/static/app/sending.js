// When and in what order the outbox sends, without its storage or the network (so Node's test
// runner checks it: tests/js/). The outbox keeps the items and the timer; this decides.

// Houses first, then photos, then visits (the server links a visit to photos already there);
// oldest first within each, and items of the same time keep the order they were listed in.
const ORDER = { discovery: 0, photo: 1, visit: 2 };

export function sendingOrder(items) {
  return [...items].sort((a, b) => ORDER[a.type] - ORDER[b.type] || a.created_at.localeCompare(b.created_at));
}

// Offline, or the server asked us to slow down: stop the drain rather than try every item.
export const stopsDrain = (error) => error.offline || error.status === 429 || error.status === 503;

// Retry-After as seconds or an HTTP date; null when absent or unreadable.
export function retryAfterSeconds(raw, now = Date.now()) {
  if (!raw) return null;
  const seconds = /^\d+$/.test(raw.trim()) ? Number(raw) : (Date.parse(raw) - now) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}

// Exponential backoff from 2 s to 5 min after each retryable failure in a row, but never sooner
// than the server's Retry-After; until that has passed, automatic attempts wait.
const FIRST_DELAY_MS = 2000;
const MAX_DELAY_MS = 5 * 60 * 1000;

export class Backoff {
  constructor() {
    this.failures = 0;
    this.notBefore = 0;  // the server asked us (Retry-After) not to send before this time (ms)
  }

  // A retryable failure: the delay before the next attempt.
  failed(retryAfterMs = 0, now = Date.now()) {
    this.failures += 1;
    this.notBefore = retryAfterMs ? now + retryAfterMs : 0;
    return Math.max(retryAfterMs, Math.min(FIRST_DELAY_MS * 2 ** (this.failures - 1), MAX_DELAY_MS));
  }

  // An item reached the server: the next failure starts from the shortest delay again.
  succeeded() {
    this.failures = 0;
    this.notBefore = 0;
  }

  // The retry timer fired: the wait the server asked for is over.
  elapsed() {
    this.notBefore = 0;
  }

  // Whether an automatic attempt must still wait for the server's Retry-After.
  waiting(now = Date.now()) {
    return now < this.notBefore;
  }

  // The network is back: start again from the shortest delay. True when the pending timer may be
  // dropped (no Retry-After of the server still stands).
  restart(now = Date.now()) {
    this.failures = 0;
    return now >= this.notBefore;
  }
}

// What the inspector reads about uploads, from one count of the outbox: the header, a
// household's card and the 待上传 page all say it with these words. A photo of a draft still open
// (held) is not queued: it is sent with its visit once saved, and deleted if the draft is discarded.
export const queued = (items) => items.filter((i) => !i.held);

export function uploadSummary(items, { sending = null } = {}) {
  const list = queued(items);
  const count = (type) => list.filter((i) => i.type === type).length;
  return {
    photos: count("photo"), visits: count("visit"), houses: count("discovery"), total: list.length,
    failed: list.filter((i) => i.status === "failed").length,
    bytes: list.filter((i) => i.type === "photo").reduce((s, i) => s + i.size, 0),
    held: items.length - list.length, sending,
  };
}

// What is waiting, in words: "3 张照片、1 条检查记录".
export function waitingWords(s) {
  return [s.photos && `${s.photos} 张照片`, s.visits && `${s.visits} 条检查记录`, s.houses && `${s.houses} 户新发现房屋`]
    .filter(Boolean).join("、");
}

// The header's badge: never "all uploaded" while anything is queued.
export function badgeText(s, { uploaded = 0 } = {}) {
  if (!s.total) return uploaded ? "已全部上传 ✓" : "待上传 0";
  if (s.sending) return `上传中… 剩 ${s.total} 项`;
  if (s.failed) return `上传失败 ${s.failed} 项`;
  const parts = [s.photos && `${s.photos} 张`, s.visits && `${s.visits} 条`, s.houses && `${s.houses} 户`];
  return `待上传 ${parts.filter(Boolean).join(" ")}`;
}

// One queued item's state, said once: the reason of the last failure only when it adds something.
export function itemStatus(item, { sending = null, orphan = false, registering = false } = {}) {
  if (sending === item.id) return { code: "sending", text: "上传中…" };
  if (item.status === "failed") return { code: "failed", text: `✗ 上传失败：${item.error?.message || "服务器拒收"}` };
  if (orphan) return { code: "failed", text: "✗ 所属新发现房屋的登记已删除，无法上传" };
  if (registering) return { code: "pending", text: "待上传（新发现房屋登记后上传）" };
  if (item.error?.code === "offline") return { code: "pending", text: "待上传（无网络，联网后自动上传）" };
  if (item.error) return { code: "pending", text: `待上传（上次未成功：${item.error.message}；将自动重试）` };
  return { code: "pending", text: "待上传" };
}

// A file name's time stamp in the phone's own time (2026-12-01-001742), never UTC.
export function localStamp(date = new Date()) {
  const p = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}
