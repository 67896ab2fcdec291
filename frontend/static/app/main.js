// The app: hash router, banners (offline, login expired, update, WeChat), outbox triggers, SW.

import * as api from "./api.js";
import { kvGet, kvSet } from "./db.js";
import { html } from "./html.js";
import * as outbox from "./outbox.js";
import * as store from "./store.js";
import { banner, toast } from "./ui.js";
import * as householdView from "./views/household.js";
import * as discoveryView from "./views/discovery.js";
import * as householdsView from "./views/households.js";
import * as loginView from "./views/login.js";
import * as outboxView from "./views/outbox.js";
import * as roundView from "./views/round.js";
import * as visitView from "./views/visit.js";

const ctx = {
  query: "",
  user: null,
  authExpired: false,
  leaving: [],
  toast,
  onLeave(fn) { this.leaving.push(fn); },
  rerender: () => route(),
  loggedIn: async () => { ctx.authExpired = false; banner("auth", "", null); ctx.user = (await store.session())?.user; drainSoon(); },
};
window.app = { ctx, outbox, store };

// One render at a time: a slow view finishing late must not cover the page asked for after it.
let rendering = Promise.resolve();
function route() {
  rendering = rendering.then(render, render);
  return rendering;
}

async function render() {
  for (const fn of ctx.leaving.splice(0)) fn();
  const hash = location.hash.replace(/^#/, "") || "/";
  const session = await store.session();
  ctx.user = session?.user || null;
  if (!session && hash !== "/login") { location.hash = "#/login"; return; }
  let m;
  if (hash === "/login") return loginView.render(ctx);
  if (hash === "/outbox") return outboxView.render(ctx);
  if ((m = hash.match(/^\/round\/(\d+)$/))) return roundView.render(ctx, Number(m[1]));
  if ((m = hash.match(/^\/round\/(\d+)\/new$/))) return discoveryView.render(ctx, Number(m[1]));
  if ((m = hash.match(/^\/h\/([\w-]+)(\/visit)?$/))) {
    const id = await householdId(m[1]);
    if (String(id) !== m[1]) { location.replace(`#/h/${id}${m[2] || ""}`); return; }
    return (m[2] ? visitView : householdView).render(ctx, id);
  }
  return householdsView.render(ctx);
}

// A household id, or the local reference of a house found on the spot (new-<uuid>), which
// becomes the registered household's id once the server has it.
async function householdId(part) {
  if (/^\d+$/.test(part)) return Number(part);
  return (await store.foundAs(part)) ?? part;
}

async function updateBadge() {
  const s = await outbox.summary();
  const el = document.getElementById("outbox-badge");
  const n = s.total;
  const parts = [s.photos && `${s.photos} 张`, s.visits && `${s.visits} 条`, s.houses && `${s.houses} 户`];
  el.textContent = s.sending ? `上传中… 剩 ${n} 项` : s.failed ? `上传失败 ${s.failed} 项`
    : n ? `待上传 ${parts.filter(Boolean).join(" ")}` : s.uploaded ? "已全部上传 ✓" : "待上传 0";
  el.classList.toggle("has-items", n > 0);
  el.dataset.count = String(n);
  // Pages that show the outbox's state follow it (not while the inspector is typing).
  const live = location.hash === "#/outbox" || /^#\/round\/\d+$/.test(location.hash);
  if (live && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) route();
}

function drainSoon() {
  if (!navigator.onLine || ctx.authExpired) return Promise.resolve();
  return outbox.drain();
}

// Only a 401 for the token in use now means the login expired: an answer to a request sent with
// an older token may arrive after the inspector has logged in again.
async function expired(ev) {
  const token = ev?.detail?.token;
  if (token !== undefined && token !== (await store.session())?.token) return;
  ctx.authExpired = true;
  await kvSet("auth_expired", true);
  banner("auth", "bad", html`登录已过期，待上传的内容仍在本机。<a href="#/login">重新登录</a>`);
}

function onlineBanner() {
  banner("offline", "offline", navigator.onLine ? null : "● 离线模式：可以继续检查和拍照，联网后自动上传");
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const reg = await navigator.serviceWorker.register("/app/sw.js", { scope: "/app/", type: "module" });
  // Reload into the new version only when the inspector asked for it (立即更新), and only once.
  let updating = false;
  const offer = (worker) => {
    const el = banner("update", "warn", html`有新版本可用 <button type="button">立即更新</button>`);
    el.querySelector("button").addEventListener("click", () => {
      updating = true;
      worker.postMessage("skipWaiting");
    });
  };
  const watch = (worker) => worker?.addEventListener("statechange", () => {
    if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
  });
  if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
  watch(reg.installing);  // an update already installing when the page opened
  reg.addEventListener("updatefound", () => watch(reg.installing));
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !updating) return;
    reloading = true;
    location.reload();
  });
  if ("sync" in reg) {
    outbox.events.addEventListener("change", () => reg.sync.register("outbox").catch(() => {}));
  }
  return reg;
}

function start() {
  if (/MicroMessenger/i.test(navigator.userAgent)) {
    banner("wechat", "warn", "您正在微信内打开，拍照和离线功能可能无法使用。请点右上角“…”，选择“在浏览器打开”。");
  }
  onlineBanner();
  addEventListener("online", () => {
    onlineBanner();
    outbox.resetBackoff();
    // Send first, then refresh: the lists fetched then already count what was just sent.
    drainSoon().catch(() => {}).finally(() => store.session().then((s) => s && store.refresh()).catch(() => {}));
  });
  addEventListener("offline", onlineBanner);
  addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") drainSoon(); });
  api.events.addEventListener("unauthorized", expired);
  outbox.events.addEventListener("change", updateBadge);
  setInterval(drainSoon, 60_000);
  navigator.storage?.persist?.().catch(() => {});
  kvGet("auth_expired").then((x) => { if (x) expired(); });  // remembered across restarts
  updateBadge();
  route();
  drainSoon();
  registerWorker().catch((e) => console.warn("service worker", e));
}

start();
