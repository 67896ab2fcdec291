// 待上传: every queued photo and visit with its state, 立即上传, storage use, export to a file.

import { html } from "../html.js";
import * as outbox from "../outbox.js";
import { itemStatus, localStamp, waitingWords } from "../sending.js";
import * as store from "../store.js";
import { $, $$, fmtBytes, fmtTime, view } from "../ui.js";

// What each kind of queued item is called here (the outbox's own, not a server vocabulary).
const ITEM_LABELS = { photo: "照片", visit: "检查记录", discovery: "新发现房屋" };

export async function render(ctx) {
  const [list, sum, households] = await Promise.all([outbox.items(), outbox.summary(), store.households()]);
  const names = new Map(households.map((h) => [h.id, h.name]));
  // A house found on the spot is named by its own queued registration until it is sent, and
  // by the household it became after that.
  for (const i of list) if (i.type === "discovery") names.set(i.id, i.body?.name);
  for (const ref of new Set(list.filter(outbox.waitsForHousehold).map((i) => i.household_id))) {
    const id = await store.foundAs(ref);
    if (id != null) names.set(ref, names.get(id) || `农户 ${id}`);
  }
  // Its photos and survey cannot be sent once that registration was deleted here unsent.
  const orphan = (i) => outbox.waitsForHousehold(i) && !names.has(i.household_id);
  const registering = (i) => list.some((d) => d.type === "discovery" && d.id === i.household_id);
  const est = navigator.storage?.estimate ? await navigator.storage.estimate() : null;
  const persisted = navigator.storage?.persisted ? await navigator.storage.persisted() : false;
  const state = (i) => {
    const st = itemStatus(i, { sending: sum.sending, orphan: orphan(i), registering: registering(i) });
    return html`<span class="status ${st.code}">${st.text}</span>`;
  };
  const online = navigator.onLine;
  const idle = !list.length ? "没有待上传的内容" : !online ? "离线，联网后自动上传" : "";
  view(html`
    <h1>待上传</h1>
    <div class="card">
      <p id="outbox-summary"><strong>${sum.total ? `待上传 ${waitingWords(sum)}` : "没有待上传的内容"}</strong>${sum.total ? `（${fmtBytes(sum.bytes)}）` : ""}
        ${sum.failed ? html`<br><span class="error">${sum.failed} 项上传失败，需要处理</span>` : ""}
        <br><span class="muted small">本机累计已上传 ${sum.uploaded} 项</span></p>
      <button id="drain" class="primary" type="button" ${idle ? "disabled" : ""}>${outbox.isDraining() ? "上传中…" : "立即上传"}</button>
      ${idle && list.length ? html`<p class="muted small" id="drain-why">${idle}</p>` : ""}
    </div>
    <ul class="list">${list.map((i) => html`
      <li class="card" data-id="${i.id}">
        <strong>${ITEM_LABELS[i.type] || i.type}</strong> · ${names.get(i.household_id) || `农户 ${i.household_id}`}
        ${i.type === "photo" ? html`<br><span class="small">${i.label || i.node || ""} · ${fmtBytes(i.size)}</span>` : ""}
        <br><span class="small muted">${fmtTime(i.created_at)}</span><br>${state(i)}
        ${i.status === "failed" && i.error?.fields ? html`<ul class="small">${Object.entries(i.error.fields).map(([k, v]) => html`<li>${k}：${typeof v === "string" ? v : JSON.stringify(v)}</li>`)}</ul>` : ""}
        ${orphan(i) ? html`<div class="row"><button data-discard="${i.id}" type="button">删除此项</button></div>` : ""}
        ${i.status === "failed" ? html`<div class="row"><button data-retry="${i.id}" type="button">重试</button><button data-discard="${i.id}" type="button">删除此项</button></div>` : ""}
      </li>`)}</ul>
    <div class="card small">
      <p>本机存储：已用 ${est ? fmtBytes(est.usage) : "未知"}${est?.quota ? `，可用 ${fmtBytes(est.quota)}` : ""}；
        ${persisted ? "已设为持久存储" : "浏览器可能在空间不足时清理数据，请及时上传"}</p>
      <button id="export" type="button" ${list.length ? "" : "disabled"}>导出待上传数据到文件</button>
      <p class="muted">网络长期不可用时，可导出文件交给管理员导入。</p>
    </div>
    <div class="card small"><p>当前用户：${ctx.user?.name || ""}（${ctx.user?.role_label || ""}）</p>
      <button id="logout" type="button">退出登录</button></div>`);
  $("#drain")?.addEventListener("click", () => outbox.drain({ manual: true }));
  for (const b of $$("[data-retry]")) b.addEventListener("click", () => outbox.retry(b.dataset.retry));
  for (const b of $$("[data-discard]")) b.addEventListener("click", async () => {
    const id = b.dataset.discard;
    const waiting = list.filter((i) => i.household_id === id && i.id !== id).length;
    const also = waiting ? `该房屋的 ${waiting} 项照片和检查记录也将无法上传。` : "";
    if (confirm(`删除后这项内容将无法上传。${also}确定删除？`)) await outbox.discard(id);
  });
  $("#export").addEventListener("click", async () => {
    const blob = await outbox.exportFile();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `待上传-${localStamp()}.json`;
    a.click();
    // The file holds every photo: free that memory once the download has had time to start.
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    ctx.toast(`已导出 ${list.length} 项：${a.download}`, "ok");
  });
  $("#logout").addEventListener("click", async () => {
    if (list.length && !confirm("还有未上传的内容，退出后需重新登录才能上传。确定退出？")) return;
    await store.logout();
    location.hash = "#/login";
  });
}
