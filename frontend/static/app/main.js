// The app: hash router, banners (offline, login expired, update, WeChat), outbox triggers, SW.

import * as api from "./api.js";
import { kvGet, kvSet } from "./db.js";
import { html } from "./html.js";
import * as outbox from "./outbox.js";
import * as store from "./store.js";
import { badgeText } from "./sending.js";
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
  loggedIn: async () => {
    ctx.authExpired = false;
    banner("auth", "", null);
    const s = await store.session();
    ctx.user = s?.user;
    offlineLoginBanner(s);
    drainSoon();
    announceReturns();
  },
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
  offlineLoginBanner(session);
  if (!session && hash !== "/login") { location.hash = "#/login"; return; }
  let m;
  if (hash === "/login") return loginView.render(ctx);
  if (hash === "/outbox") return outboxView.render(ctx);
  if ((m = hash.match(/^\/round\/(\d+)$/))) return roundView.render(ctx, Number(m[1]));
  if ((m = hash.match(/^\/round\/(\d+)\/new$/))) return discoveryView.render(ctx, Number(m[1]));
  if ((m = hash.match(/^\/h\/([\w-]+)(\/visit|\/answer\/[\w-]+)?$/))) {
    const id = await householdId(m[1]);
    if (String(id) !== m[1]) { location.replace(`#/h/${id}${m[2] || ""}`); return; }
    if (!m[2]) return householdView.render(ctx, id);
    return visitView.render(ctx, id, m[2].startsWith("/answer/") ? m[2].slice(8) : null);
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
  el.textContent = badgeText(s, { uploaded: s.uploaded });
  el.classList.toggle("has-items", s.total > 0);
  el.dataset.count = String(s.total);
  rerenderLive();
}

// Pages that show the outbox's or my returns' state follow it (not while the inspector is typing).
// At most once in 300 ms, where the page was scrolled to.
let liveTimer = null;
function rerenderLive() {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => {
    const live = /^#\/(outbox|round\/\d+|h\/[\w-]+)?$/.test(location.hash) || location.hash === "";
    if (!live || ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) return;
    const y = scrollY;
    route().then(() => scrollTo(0, y));
  }, 300);
}

// Uploads need a token: after an offline unlock they wait for an online login.
async function drainSoon() {
  if (!navigator.onLine || ctx.authExpired || !(await store.session())?.token) return;
  return outbox.drain();
}

// Send, then fetch what changed (my visits: a return reaches the phone without 刷新), then tell.
let syncing = null; // the sync under way
let queued = null; // one asked for meanwhile (the app came back, a timer): it runs next, since
// the one under way may have read the server before what prompted the ask
function syncSoon({ full = false } = {}) {
  if (!syncing) {
    syncing = syncOnce(full).finally(() => { syncing = null; });
    return syncing;
  }
  queued ||= {
    full: false,
    done: syncing.then(() => { const next = queued; queued = null; return syncSoon({ full: next.full }); }),
  };
  queued.full ||= full;
  return queued.done;
}

async function syncOnce(full) {
  try {
    const s = await store.session();
    if (!navigator.onLine || ctx.authExpired || !s?.token) return;
    await drainSoon().catch(() => {});
    await (full ? store.refresh() : store.refreshWork());
    await announceReturns();
    rerenderLive();
  } catch { /* offline or refused: the next ask tries again */ }
}

// A return not told yet: a notice with the reviewer's comment and 补拍/修改 opening its items.
async function announceReturns() {
  const fresh = await store.untoldReturns();
  if (!fresh.length) return;
  const names = new Map((await store.households()).map((h) => [h.id, h.name]));
  const el = banner("returns", "bad", html`<strong>⚠ 有 ${fresh.length} 条检查记录被退回</strong>${fresh.map((v) => html`
    <p class="small return-note" data-visit="${v.id}">${names.get(v.household_id) || `农户 ${v.household_id}`} · ${v.kind_label || ""}<br>
    审核意见：${v.review_comment || "（无）"}<br>
    <a class="btn" href="#/h/${v.household_id}/answer/${v.id}">补拍/修改</a></p>`)}
    <button type="button" data-dismiss>知道了</button>`);
  const done = () => { store.told(fresh.map((v) => v.id)); banner("returns", "", null); };
  el.querySelector("[data-dismiss]").addEventListener("click", done);
  for (const a of el.querySelectorAll("a")) a.addEventListener("click", done);
}

function offlineLoginBanner(s) {
  banner("offline-login", "warn", s?.offline ? html`已离线登录：联网后须重新登录，待上传的内容才能上传。<a href="#/login">联网登录</a>` : null);
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

const REFRESH_MS = 60_000;

function start() {
  if (/MicroMessenger/i.test(navigator.userAgent)) {
    banner("wechat", "warn", "您正在微信内打开，拍照和离线功能可能无法使用。请点右上角“…”，选择“在浏览器打开”。");
  }
  onlineBanner();
  addEventListener("online", async () => {
    onlineBanner();
    updateBadge();
    outbox.resetBackoff();
    await store.revokeLoggedOut().catch(() => {});
    // Unlocked offline with a password typed on this page: log in online with it now.
    if (await store.loginAfterUnlock().catch(() => false)) ctx.loggedIn();
    // Send first, then refresh: the lists fetched then already count what was just sent.
    syncSoon({ full: true });
  });
  addEventListener("offline", () => { onlineBanner(); updateBadge(); });
  addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") syncSoon(); });
  api.events.addEventListener("unauthorized", expired);
  outbox.events.addEventListener("change", updateBadge);
  setInterval(() => { if (document.visibilityState === "visible") syncSoon(); }, REFRESH_MS);
  navigator.storage?.persist?.().catch(() => {});
  kvGet("auth_expired").then((x) => { if (x) expired(); });  // remembered across restarts
  store.session().then(offlineLoginBanner);
  updateBadge();
  route();
  syncSoon({ full: true });
  registerWorker().catch((e) => console.warn("service worker", e));
}

start();
