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
