// Offline unlock: the last user who logged in on this phone with the network may log in again
// without it. At each online login the phone keeps a verifier of the password — PBKDF2-SHA-256
// with a random 16-byte salt and 600,000 iterations (OWASP's floor for PBKDF2-HMAC-SHA256),
// never the password itself. Five wrong passwords in a row lock it until the next online login.
// The server's token is not part of it: a token revoked by the server stays revoked (the outbox
// waits for an online login). WebCrypto only, so Node's test runner checks it too (tests/js/).

export const ITERATIONS = 600_000;
export const MAX_TRIES = 5;

const hex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array(s.match(/../g).map((h) => parseInt(h, 16)));

async function derive(password, salt, iterations) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  return hex(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256));
}

// A verifier of `password` for `user` (as the server described them at login).
export async function makeVerifier(user, password, { iterations = ITERATIONS } = {}) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return { username: user.username, user, salt: hex(salt), iterations,
    hash: await derive(password, salt, iterations), failures: 0 };
}

// Compare in time independent of where the two first differ.
function same(a, b) {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export const isLocked = (verifier) => verifier.failures >= MAX_TRIES;

// Try a password: { ok, verifier (to store: its count of wrong tries updated), left, locked }.
export async function tryUnlock(verifier, password) {
  if (isLocked(verifier)) return { ok: false, verifier, left: 0, locked: true };
  const ok = same(await derive(password, unhex(verifier.salt), verifier.iterations), verifier.hash);
  const next = { ...verifier, failures: ok ? 0 : verifier.failures + 1 };
  return { ok, verifier: next, left: Math.max(0, MAX_TRIES - next.failures), locked: isLocked(next) };
}
