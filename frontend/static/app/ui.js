// Small helpers for the views: the page's content, formatting, banners.

import { setHtml } from "./html.js";

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// Show a view: html`` markup, or plain text (escaped).
export function view(content) {
  // A fresh element each time, so listeners of the previous view cannot act on this one.
  const old = document.getElementById("view");
  const main = old.cloneNode(false);
  setHtml(main, content);
  old.replaceWith(main);
  window.scrollTo(0, 0);
  return main;
}

export function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtBytes(n) {
  if (n == null) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

export function distanceM(a, b) {
  const r = 6371000, rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(h));
}

export function fmtDistance(m) {
  return m < 1000 ? `${Math.round(m)} 米` : `${(m / 1000).toFixed(1)} 公里`;
}

// A banner above the view (html`` markup, or plain text); none removes it.
export function banner(id, cls, content) {
  const box = document.getElementById("banners");
  let el = document.getElementById(id);
  if (!content) { el?.remove(); return null; }
  if (!el) { el = document.createElement("div"); el.id = id; box.appendChild(el); }
  el.className = `banner ${cls}`;
  setHtml(el, content);
  return el;
}

export function toast(text, cls = "warn") {
  const el = banner("toast", cls, text);
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el?.remove(), 4000);
}
