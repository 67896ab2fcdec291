// 我的农户: cached households of my area, grouped by village, searchable offline.

import { html, setHtml } from "../html.js";
import * as outbox from "../outbox.js";
import { REVIEW_STATES } from "../rules.js";
import * as store from "../store.js";
import { $, fmtTime, view } from "../ui.js";
import { roundProgress, rowState } from "../progress.js";

export async function render(ctx) {
  const [list, assignments, mine, queued, refreshed] = await Promise.all([store.households(),
    store.assignments(), store.myVisits(), outbox.items(), store.refreshedAt()]);
  const todo = new Map();
  for (const a of assignments) {
    for (const row of a.households || []) {
      const state = rowState(a.round, row, queued).code;
      if (state === "todo" || state === "revisit") todo.set(row.household?.id, a.round?.name || "排查任务");
    }
  }
  const returned = new Map();
  const rectifications = new Map();
  for (const r of await store.openRectifications()) {
    rectifications.set(r.household_id, (rectifications.get(r.household_id) || 0) + 1);
  }
  const sentBack = mine.filter(store.returnOpen);
  for (const v of sentBack) returned.set(v.household_id, (returned.get(v.household_id) || 0) + 1);
  const waiting = new Map();
  for (const i of queued) waiting.set(i.household_id, (waiting.get(i.household_id) || 0) + 1);

  const names = new Map(list.map((h) => [h.id, h.name]));
  const answeredIds = await store.answeredReturns(queued);
  view(html`
    ${sentBack.length ? html`<section class="card returned" id="returned">
      <h2>⚠ 被退回的检查记录（${sentBack.length} 条）</h2>
      <ul class="list">${sentBack.map((v) => html`<li data-visit="${v.id}"><a class="hh" href="#/h/${v.household_id}">
        <strong>${names.get(v.household_id) || `农户 ${v.household_id}`}</strong>
        <span class="tag bad">${REVIEW_STATES.returned}</span> <span class="small">${v.kind_label || ""} · ${fmtTime(v.started_at)}</span><br>
        <span class="small">审核意见：${v.review_comment || "（无）"}</span></a>
        ${answeredIds.has(v.id) ? html`<p class="small muted">已重新提交，等待审核通过</p>`
          : html`<a class="btn answer" href="#/h/${v.household_id}/answer/${v.id}">补拍/修改</a>`}</li>`)}</ul>
    </section>` : ""}
    ${assignments.map((a) => { const p = roundProgress(a, queued); return html`
      <a class="card task" href="#/round/${a.round.id}" data-round="${a.round.id}">
        <span class="tag warn">${a.round.kind_label || "排查"}</span> <strong>${a.round.name}</strong>
        <span class="small muted">截止 ${a.round.due_on}</span>
        <span class="meter" aria-hidden="true"><span style="width:${p.total ? Math.round(100 * p.done / p.total) : 0}%"></span></span>
        <span class="small">已查 <strong>${p.done}</strong> / ${p.total} 户${p.waiting ? `（其中 ${p.waiting} 户待上传）` : ""}${p.revisit ? `，需复查 ${p.revisit} 户` : ""} ›</span>
      </a>`; })}
    <h1>我的农户 <span class="muted small">${list.length} 户</span></h1>
    <label for="search" class="small muted">搜索姓名、身份证号后四位或村名</label>
    <input id="search" type="search" placeholder="如：王建国 / 123X / 东坪村" value="${ctx.query || ""}">
    <p class="muted small">资料更新于 ${fmtTime(refreshed) || "—"}
      <button id="refresh" type="button">刷新</button></p>
    <div id="groups"></div>`);

  const draw = () => {
    const q = $("#search").value.trim().toLowerCase();
    ctx.query = q;
    const hits = list.filter((h) => !q || h.name.toLowerCase().includes(q) || (h.id_tail || "").toLowerCase().includes(q)
      || (h.village_name || "").includes(q) || (h.town_name || "").includes(q));
    const groups = new Map();
    for (const h of hits) {
      const key = `${h.town_name || ""} ${h.village_name || h.village_code}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(h);
    }
    setHtml($("#groups"), hits.length ? [...groups].map(([village, hs]) => html`
      <h2 class="group-title">${village}（${hs.length} 户）</h2>
      <ul class="list">${hs.map((h) => html`
        <li><a class="hh" href="#/h/${h.id}">
          <strong>${h.name}</strong> <span class="muted small">身份证 ${h.id_number}</span><br>
          <span class="small">${h.category_label || ""}</span>
          ${h.current_case ? html`<span class="tag ok">${h.current_case.year} ${h.current_case.method} · ${h.current_case.status_label}${h.current_case.phase_label ? ` · ${h.current_case.phase_label}` : ""}</span>` : html`<span class="tag">无改造项目</span>`}
          ${todo.has(h.id) ? html`<span class="tag warn">待排查：${todo.get(h.id)}</span>` : ""}
          ${rectifications.has(h.id) ? html`<span class="tag warn">整改中 ${rectifications.get(h.id)} 项</span>` : ""}
          ${returned.has(h.id) ? html`<span class="tag bad">被退回 ${returned.get(h.id)} 条</span>` : ""}
          ${waiting.has(h.id) ? html`<span class="tag warn">待上传 ${waiting.get(h.id)}</span>` : ""}
        </a></li>`)}</ul>`)
      : html`<p class="card muted">${list.length ? "没有符合条件的农户" : "还没有农户资料，请联网后点“刷新”"}</p>`);
  };
  $("#search").addEventListener("input", draw);
  $("#refresh").addEventListener("click", async (ev) => {
    ev.target.disabled = true;
    ev.target.textContent = "正在刷新…";
    try { await store.refresh(); ctx.rerender(); } catch (e) { ctx.toast(e.message); ev.target.disabled = false; ev.target.textContent = "刷新"; }
  });
  draw();
}
