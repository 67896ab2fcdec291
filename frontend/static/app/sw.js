// Service worker: precache the app shell (versioned; old caches deleted on activation), serve
// it offline, and drain the outbox on Background Sync where the browser has it.

import { drain } from "/static/app/outbox.js";

const VERSION = "__VERSION__";
const CACHE = `shell-${VERSION}`;
const ASSETS = "__ASSETS__";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith("shell-") && key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "skipWaiting") self.skipWaiting();
  if (event.data === "version") event.source?.postMessage({ version: VERSION });
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (event.request.mode === "navigate" && url.pathname.startsWith("/app")) {
    // Cache first: the shell changes only with a new service worker version.
    event.respondWith(caches.match("/app/").then((hit) => hit || fetch(event.request)));
    return;
  }
  if (url.pathname.startsWith("/static/app/") || url.pathname === "/app/manifest.webmanifest") {
    event.respondWith(caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || fetch(event.request)));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag !== "outbox") return;
  // Something could not be sent (no network after all, server busy): fail the event, so the
  // browser fires it again later by itself. The outbox's own retry timer dies with this worker.
  event.waitUntil(drain().then((result) => {
    // `deferred`: the server's Retry-After has not passed yet.
    if (result?.transient || result?.deferred) throw new Error("outbox: uploads still pending, sync again later");
  }));
});
