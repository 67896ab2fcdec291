// 农户详情: facts, distance to the house, "set house location here", the photo timeline.

import { request } from "../api.js";
import { onePosition } from "../camera.js";
import { html, setHtml } from "../html.js";
import * as outbox from "../outbox.js";
import { rowState } from "../progress.js";
import { missingRequiredPhotos, REVIEW_STATES } from "../rules.js";
import { uploadSummary, waitingWords } from "../sending.js";
import * as store from "../store.js";
import { $, $$, distanceM, fmtDistance, fmtTime, view } from "../ui.js";
import { openViewer } from "../viewer.js";

export async function render(ctx, id) {
  const h = await store.household(id);
  if (!h) { view(html`<p class="card">本机没有该农户的资料。<a href="#/">返回农户列表</a></p>`); return; }
  const queued = (await outbox.items()).filter((i) => i.household_id === id);
  const waiting = uploadSummary(queued);
  const sentBack = (await store.openReturns()).filter((v) => v.household_id === id);
  const answered = await store.answeredReturns(queued);
  const task = await store.roundOf(id);
  const c = h.current_case;
  const local = typeof h.id === "string";  // found on the spot (以房找人), not yet registered
  view(html`
    <p><a href="#/" class="btn">‹ 农户列表</a></p>
    <h1>${h.name}</h1>
    <div class="card">
      <dl class="facts">
        <dt>身份证号</dt><dd>${h.id_number}</dd>
        <dt>所在村</dt><dd>${h.town_name || ""} ${h.village_name || ""}</dd>
        <dt>对象类别</dt><dd>${h.category_label || ""}</dd>
        <dt>改造项目</dt><dd>${c ? html`${c.year} 年 ${c.method} · ${c.status_label}${c.phase_label ? `（${c.phase_label}）` : ""}` : "无"}</dd>
        <dt>房屋位置</dt><dd id="loc">${h.location ? `${h.location.lat.toFixed(5)}, ${h.location.lon.toFixed(5)}` : "未设置"}</dd>
        <dt>距离</dt><dd id="distance" class="muted">正在定位…</dd>
      </dl>
      ${local ? html`<p class="small"><span class="tag warn">新发现</span>现场登记的房屋，联网后上传登记；房屋位置取登记时的定位。</p>`
        : html`<p><button id="set-location" type="button">把当前位置设为房屋位置</button></p>`}
    </div>
    ${sentBack.length ? html`<div class="card returned" id="returned"><h2>⚠ 被退回的检查记录</h2>${sentBack.map((v) => html`
      <p data-visit="${v.id}"><span class="tag bad">${REVIEW_STATES.returned}</span> ${v.kind_label || ""} · ${fmtTime(v.started_at)}<br>
      审核意见：<strong>${v.review_comment || "（无）"}</strong><br>
      ${answered.has(v.id) ? html`<span class="small">已重新提交，等待审核通过。</span>`
        : html`<a class="btn" href="#/h/${h.id}/answer/${v.id}">补拍/修改</a>`}</p>`)}</div>` : ""}
    ${task ? html`<p class="card small" id="task"><span class="tag warn">排查任务</span>${task.round.name}：${rowState(task.round, task.row, queued).label}</p>` : ""}
    <div id="missing"></div>
    <p><a class="btn primary" href="#/h/${h.id}/visit">＋ 新建检查记录</a></p>
    ${waiting.total ? html`<p class="card" id="household-waiting">本户待上传 ${waitingWords(waiting)}。<a href="#/outbox">查看</a></p>` : ""}
    <h2>照片时间线</h2>
    <div id="timeline"><p class="muted">${c ? "正在加载…" : "该户尚无改造项目，暂无照片时间线。"}</p></div>`);

  onePosition().then((fix) => {
    const el = $("#distance");
    if (!el) return;
    if (!fix) { el.textContent = "无法定位"; return; }
    el.textContent = h.location ? `${fmtDistance(distanceM(fix, h.location))}（定位精度 ±${Math.round(fix.accuracy_m)} 米）`
      : `房屋位置未设置（当前定位精度 ±${Math.round(fix.accuracy_m)} 米）`;
  });

  $("#set-location")?.addEventListener("click", async (ev) => {
    const fix = await onePosition();
    if (!fix) { ctx.toast("无法获取当前位置"); return; }
    if (fix.accuracy_m > 50 && !confirm(`当前定位精度 ±${Math.round(fix.accuracy_m)} 米，误差较大，仍要设置吗？`)) return;
    ev.target.disabled = true;
    try {
      const updated = await request(`/households/${h.id}/location`, { method: "PUT", json: { lat: fix.lat, lon: fix.lon } });
      await store.saveHousehold(updated);
      ctx.toast("已设置房屋位置", "ok");
      ctx.rerender();
    } catch (e) {
      ctx.toast(e.offline ? "无网络，联网后再设置房屋位置" : e.message, "bad");
      ev.target.disabled = false;
    }
  });

  drawMissing(h);
  if (c) drawTimeline(c.id, new Set(sentBack.map((v) => v.id))).then(() => drawMissing(h));
}

async function drawTimeline(caseId, shownAbove) {
  const box = $("#timeline");
  let data;
  try { data = await store.timeline(caseId); } catch (e) { setHtml(box, html`<p class="error">${e.message}</p>`); return; }
  if (!box.isConnected) return;
  if (!data) { setHtml(box, html`<p class="muted">离线，且本机没有缓存的时间线。</p>`); return; }
  const phases = (data.phases || []).filter((p) => p.nodes.some((n) => n.photos.length));
  const open = (data.rectifications || []).filter((r) => r.status === "open");
  const returned = (data.visits || []).filter((v) => store.returnOpen(v) && !shownAbove.has(v.id));
  const rectifying = open.length ? html`<div class="card"><h3>整改中（${open.length} 项）</h3>${open.map((r) => html`
      <p class="small"><span class="tag ${r.overdue ? "bad" : "warn"}">${r.overdue ? "已超期" : "整改中"}</span>
      ${r.problem}<br><span class="muted">任务：${r.task}，时限 ${r.due_on}</span></p>`)}</div>` : "";
  const sentBack = returned.length ? html`<div class="card"><h3>被退回的检查记录</h3>${returned.map((v) => html`
      <p class="small"><span class="tag bad">${REVIEW_STATES.returned}</span> ${v.kind_label} ${fmtTime(v.started_at)}<br>
      ${v.review_comment || ""}</p>`)}</div>` : "";
  const photos = phases.length ? phases.map((p) => html`
    <div class="card"><h3>${p.label}</h3>
      ${p.nodes.filter((n) => n.photos.length).map((n) => html`
        <p class="small"><strong>${n.name}</strong>（${n.photos.length} 张）</p>
        <div class="thumbs">${n.photos.map((ph) => html`<figure><button type="button" class="thumb" data-open="${ph.id}"><img alt="${n.name}照片" data-photo="${ph.id}"></button>
          <figcaption>${ph.number ? html`<span class="num">#${ph.number}</span> ` : ""}${ph.flags?.length ? html`<span class="error-text">${ph.flags.length} 项疑点</span>` : ""}</figcaption></figure>`)}</div>`)}
    </div>`) : html`<p class="muted">暂无已上传的照片。</p>`;
  setHtml(box, [rectifying, sentBack, photos]);
  const byId = new Map(phases.flatMap((p) => p.nodes.flatMap((n) => n.photos.map((ph) => [ph.id, { ph, node: n, phase: p }]))));
  box.addEventListener("click", (ev) => {
    const hit = byId.get(ev.target.closest("[data-open]")?.dataset.open);
    if (!hit) return;
    openViewer({ src: store.largeUrl(hit.ph.id), number: hit.ph.number, flags: hit.ph.flags || [],
      title: `${hit.phase.label} · ${hit.node.name}${hit.ph.device?.captured_at ? ` · ${fmtTime(hit.ph.device.captured_at)}` : ""}` });
  });
  for (const img of $$("img[data-photo]", box)) {
    store.thumbUrl(img.dataset.photo).then((url) => { img.src = url; }).catch(() => { img.alt = "照片（离线未缓存）"; });
  }
}

async function drawMissing(h) {
  const missing = await missingList(h);
  const box = $("#missing");
  if (!box?.isConnected) return;
  setHtml(box, missing.length ? html`<div class="card"><h3>缺少的照片（${missing.length} 项）</h3><ul class="small">${missing.map((m) =>
    html`<li data-item="${m.item}">${m.label}${m.draft ? "（未保存的检查记录）" : ""}</li>`)}</ul></div>` : "");
}

// The case's missing photos as the server counts them, and those of this household's open draft
// by the same rule (rules.js).
async function missingList(h) {
  const names = await store.itemNames();
  const server = (await store.missingPhotos(h)).map((m) => ({ ...m, label: m.label || names.get(m.item) || m.item }));
  const draft = await store.draft(h.id);
  const template = draft?.template && await store.template(draft.template.code);
  const own = template ? missingRequiredPhotos(template, draft.results).map((m) => ({ ...m, draft: true })) : [];
  return [...server, ...own];
}
