// 排查任务: one open survey round, my households in walking order (by village, not yet visited
// first), each a tap away from its survey form; progress counts what waits in the outbox too.

import { html } from "../html.js";
import * as outbox from "../outbox.js";
import { roundProgress, rowState } from "../progress.js";
import * as store from "../store.js";
import { view } from "../ui.js";

export async function render(ctx, roundId) {
  const [assignments, queued] = await Promise.all([store.assignments(), outbox.items()]);
  const a = assignments.find((x) => x.round?.id === roundId);
  if (!a) {
    view(html`<p><a href="#/" class="btn">‹ 农户列表</a></p>
      <p class="card">本机没有这轮排查任务，可能已结束。请联网后在首页点“刷新”。</p>`);
    return;
  }
  const p = roundProgress(a, queued);
  const villages = new Map();
  for (const row of a.households || []) {
    const h = row.household || {};
    const key = `${h.town_name || ""} ${h.village_name || h.village_code || ""}`;
    if (!villages.has(key)) villages.set(key, []);
    villages.get(key).push(row);
  }
  // Not yet visited first, then revisits, then what is done, keeping the server's walking order.
  const order = { todo: 0, revisit: 1, waiting: 2, done: 3 };
  view(html`
    <p><a href="#/" class="btn">‹ 农户列表</a></p>
    <h1 id="round" data-round="${a.round.id}">${a.round.name}</h1>
    <div class="card">
      <p class="small">${a.round.kind_label || ""}${a.round.period ? ` · ${a.round.period}` : ""} · 截止 ${a.round.due_on}</p>
      ${a.round.cause ? html`<p class="small">原因：${a.round.cause}</p>` : ""}
      <span class="meter" aria-hidden="true"><span style="width:${p.total ? Math.round(100 * p.done / p.total) : 0}%"></span></span>
      <p id="round-progress"><strong>已查 ${p.done} / ${p.total} 户</strong>
        ${p.waiting ? html`<br><span class="small">其中 ${p.waiting} 户已记录、待上传</span>` : ""}
        ${p.revisit ? html`<br><span class="small">需复查 ${p.revisit} 户（无人在家，不计入已查）</span>` : ""}</p>
    </div>
    <p><a class="btn" id="new-house" href="#/round/${a.round.id}/new">＋ 新发现房屋（以房找人）</a></p>
    ${[...villages].map(([village, rows]) => {
      const done = rows.filter((r) => rowState(a.round, r, queued).checked).length;
      const sorted = rows.map((r, i) => ({ r, i, s: rowState(a.round, r, queued) }))
        .sort((x, y) => order[x.s.code] - order[y.s.code] || x.i - y.i);
      return html`<h2 class="group-title">${village}（已查 ${done} / ${rows.length}）</h2>
      <ul class="list">${sorted.map(({ r, s }) => html`
        <li><a class="hh state-${s.code}" href="#/h/${r.household?.id}/visit" data-household="${r.household?.id}">
          <strong>${r.household?.name || ""}</strong> <span class="muted small">身份证 ${r.household?.id_number || ""}</span><br>
          <span class="status-word ${s.code}">${s.checked ? "✓" : "○"} ${s.label}</span>
          ${r.found_in_round ? html`<span class="tag">新发现</span>` : ""}
          <span class="small muted">${r.household?.category_label || ""}</span>
        </a></li>`)}</ul>`;
    })}`);
}
