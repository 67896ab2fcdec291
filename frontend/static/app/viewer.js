// The full-screen photo viewer: one photo as large as the screen, pinch (or double tap) to zoom,
// drag to look around a zoomed photo, and the server's flags on it in words.

import { html, setHtml } from "./html.js";

const MAX_SCALE = 6;

// { src, title, number, flags: [{label, status}] }; a promise of the src may come late.
export function openViewer({ src, title = "", number = null, flags = [] }) {
  close();
  const box = document.createElement("div");
  box.id = "viewer";
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-label", "查看照片");
  setHtml(box, html`
    <div class="viewer-bar"><span>${number ? `#${number} ` : ""}${title}</span>
      <button type="button" data-close aria-label="关闭">✕ 关闭</button></div>
    <div class="viewer-stage"><img alt="${title || "照片"}"></div>
    ${flags.length ? html`<div class="viewer-flags"><strong>疑点（${flags.length} 项）</strong><ul>${flags.map((f) =>
      html`<li>${f.label}${f.status_label ? `（${f.status_label}）` : ""}</li>`)}</ul></div>`
      : html`<div class="viewer-flags ok">无疑点</div>`}`);
  document.body.appendChild(box);
  const img = box.querySelector("img");
  Promise.resolve(src).then((url) => { if (url) img.src = url; }).catch(() => { img.alt = "照片无法加载（离线未缓存）"; });
  box.querySelector("[data-close]").addEventListener("click", close);
  addEventListener("hashchange", close, { once: true });
  zoomable(box.querySelector(".viewer-stage"), img);
  return box;
}

export function close() {
  document.getElementById("viewer")?.remove();
}

// Pinch with two fingers, drag with one when zoomed in, double tap to zoom in or back.
function zoomable(stage, img) {
  const view = { scale: 1, x: 0, y: 0 };
  const pointers = new Map();
  let pinch = null, lastTap = 0;
  const draw = () => { img.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`; };
  const spread = () => { const [a, b] = [...pointers.values()]; return Math.hypot(a.x - b.x, a.y - b.y); };
  stage.addEventListener("pointerdown", (ev) => {
    try { stage.setPointerCapture(ev.pointerId); } catch { /* not an active pointer: no capture */ }
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    if (pointers.size === 2) pinch = { distance: spread(), scale: view.scale };
    if (pointers.size === 1) {
      const now = Date.now();
      if (now - lastTap < 300) Object.assign(view, view.scale > 1 ? { scale: 1, x: 0, y: 0 } : { scale: 2.5 });
      lastTap = now;
      draw();
    }
  });
  stage.addEventListener("pointermove", (ev) => {
    const before = pointers.get(ev.pointerId);
    if (!before) return;
    pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    if (pinch && pointers.size === 2) {
      view.scale = Math.min(MAX_SCALE, Math.max(1, pinch.scale * spread() / pinch.distance));
    } else if (pointers.size === 1 && view.scale > 1) {
      view.x += ev.clientX - before.x;
      view.y += ev.clientY - before.y;
    }
    if (view.scale === 1) { view.x = 0; view.y = 0; }
    draw();
  });
  const up = (ev) => { pointers.delete(ev.pointerId); if (pointers.size < 2) pinch = null; };
  stage.addEventListener("pointerup", up);
  stage.addEventListener("pointercancel", up);
  img.dataset.zoom = "1";
  new MutationObserver(() => { img.dataset.zoom = String(Math.round(view.scale * 100) / 100); })
    .observe(img, { attributes: true, attributeFilter: ["style"] });
}
