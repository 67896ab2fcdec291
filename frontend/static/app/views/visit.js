// 新建检查: kind and template, the template's nodes and items, photos per item with the phone's
// position, results 合格/不合格/不适用 checked against the visit rules before it is saved.

import * as camera from "../camera.js";
import { get } from "../db.js";
import * as outbox from "../outbox.js";
import { checkForm, checkResult, DEFAULT_PHASE, describeMeasure, KINDS, PHASES, RESULTS } from "../rules.js";
import * as store from "../store.js";
import { $, $$, esc, view } from "../ui.js";

const previews = new Map(); // photo uuid -> blob URL (this page's session only)

export async function render(ctx, householdId) {
  const h = await store.household(householdId);
  if (!h) { view(`<p class="card">本机没有该农户的资料。<a href="#/">返回</a></p>`); return; }
  const lists = await store.checklists();
  let draft = await store.draft(householdId);
  // An open survey round that lists this household: its survey is what the inspector came for.
  const task = await store.roundOf(h.id);
  const taskDue = task && (!task.row.visited_at || task.row.revisit_needed);
  if (!draft) {
    const kind = taskDue ? task.kind : h.current_case ? "construction" : "routine_survey";
    draft = { visit_id: camera.uuid(), household_id: h.id, case_id: h.current_case?.id ?? null, kind,
      phase: phaseFor(kind, h), template: null, started_at: new Date().toISOString(),
      results: {}, photos: [], note: "", signoffs: {}, appraisal_after: null, danger_points: [],
      // A house found on the spot (以房找人) is surveyed as 新发现 unless the inspector says otherwise.
      outcome: taskDue && task.row.found_in_round && !task.row.visited_at ? "new_found" : null };
  }
  draft.round_id = task && task.kind === draft.kind ? task.round.id : null;
  const choices = (kind) => {
    const fit = lists.filter((c) => (c.kinds || []).includes(kind));
    const method = h.current_case?.method;
    return [...fit.filter((c) => method && (c.methods || []).includes(method)), ...fit.filter((c) => !(method && (c.methods || []).includes(method)))];
  };
  if (!draft.template || !choices(draft.kind).some((c) => c.code === draft.template.code)) {
    const first = choices(draft.kind)[0];
    draft.template = first ? { code: first.code, version: first.version } : null;
  }
  const template = draft.template && await store.template(draft.template.code);
  const hasPhotos = countPhotos(draft) > 0;
  const save = () => store.saveDraft(householdId, draft);
  await save();

  view(`
    <p><a href="#/h/${h.id}" class="btn">‹ ${esc(h.name)}</a></p>
    <h1 id="visit" data-kind="${esc(draft.kind)}" data-template="${esc(draft.template?.code || "")}">新建检查记录</h1>
    <div class="card">
      <label for="kind">检查类型</label>
      <select id="kind" ${hasPhotos ? "disabled" : ""}>${Object.entries(KINDS).filter(([k]) => choices(k).length && mayRecord(ctx.user, k))
        .map(([k, label]) => `<option value="${k}" ${k === draft.kind ? "selected" : ""}>${esc(label)}</option>`).join("")}</select>
      <label for="template">检查表</label>
      <select id="template" ${hasPhotos ? "disabled" : ""}>${choices(draft.kind).map((c) =>
        `<option value="${esc(c.code)}" ${c.code === draft.template?.code ? "selected" : ""}>${esc(c.name)}</option>`).join("")}</select>
      <label for="phase">阶段</label>
      <select id="phase" ${hasPhotos ? "disabled" : ""}>${Object.entries(PHASES).map(([k, label]) =>
        `<option value="${k}" ${k === draft.phase ? "selected" : ""}>${label}</option>`).join("")}</select>
      ${hasPhotos ? `<p class="muted small">已拍照片，类型与检查表不能再更改。</p>` : ""}
      ${draft.round_id != null ? `<p id="round-task" class="small"><span class="tag warn">排查任务</span>${esc(task.round.name)}，截止 ${esc(task.round.due_on)}${task.row.visited_at ? `（上次结果：${esc(task.row.outcome_label || "")}，本次为复查）` : ""}</p>` : ""}
    </div>
    <p id="gps" class="gps">正在定位…</p>
    ${template ? renderTemplate(template, draft) : `<p class="card error">本机没有可用的检查表，请联网刷新。</p>`}
    <label for="visit-note">备注</label>
    <textarea id="visit-note" rows="3">${esc(draft.note)}</textarea>
    <div id="problems"></div>
    <div class="sticky-foot"><div class="row">
      <button id="discard" type="button" style="flex:0 0 auto">放弃</button>
      <button id="save" class="primary" type="button">保存检查记录</button></div></div>`);

  camera.startPosition();
  const gps = () => drawGps();
  camera.geo.addEventListener("change", gps);
  const tick = setInterval(gps, 1000);
  ctx.onLeave(() => { camera.geo.removeEventListener("change", gps); clearInterval(tick); camera.stopPosition(); });
  drawGps();
  for (const img of $$("img[data-preview]")) showPreview(img);

  $("#kind").addEventListener("change", async (ev) => {
    if (ev.target.value === draft.kind) return;
    draft.kind = ev.target.value; draft.phase = phaseFor(draft.kind, h); draft.template = null;
    draft.results = {}; await save(); ctx.rerender();
  });
  $("#template").addEventListener("change", async (ev) => {
    if (ev.target.value === draft.template?.code) return;
    const c = lists.find((x) => x.code === ev.target.value);
    draft.template = { code: c.code, version: c.version }; draft.results = {}; await save(); ctx.rerender();
  });
  $("#phase").addEventListener("change", async (ev) => { draft.phase = ev.target.value; await save(); });
  $("#visit-note").addEventListener("input", (ev) => { draft.note = ev.target.value; save(); });

  const main = $("#view");
  main.addEventListener("change", async (ev) => {
    const t = ev.target;
    const code = t.closest("[data-item]")?.dataset.item;
    if (t.type === "file") { await takePhotos(t, code || null); return; }
    if (t.name === "outcome") { draft.outcome = t.value; showOutcomeHint(template, draft.outcome); }
    else if (t.name === "danger") draft.danger_points = $$("input[name=danger]:checked").map((x) => x.value);
    else if (t.name === "appraisal_after") draft.appraisal_after = t.value || null;
    else if (!code) return;
    else {
      const r = draft.results[code] ||= { result: null, value: "", note: "", photos: [] };
      if (t.dataset.field === "result") r.result = t.value;
      else if (t.dataset.field) r[t.dataset.field] = t.value;
    }
    await save();
  });
  main.addEventListener("input", (ev) => {
    const t = ev.target;
    if (t.dataset.signoff) { draft.signoffs[t.dataset.signoff] = t.value; save(); return; }
    const code = t.closest("[data-item]")?.dataset.item;
    if (code && (t.dataset.field === "note" || t.dataset.field === "value")) {
      const r = draft.results[code] ||= { result: null, value: "", note: "", photos: [] };
      r[t.dataset.field] = t.value;
      save();
    }
  });

  async function takePhotos(input, itemCode) {
    const files = [...input.files];
    input.value = "";
    const node = input.closest("[data-node]")?.dataset.node || null;
    const label = [input.closest("[data-node]")?.querySelector("h2")?.textContent,
      input.closest("[data-item]")?.querySelector("h3")?.firstChild?.textContent].filter(Boolean).join(" · ") || "房屋照片";
    const thumbs = input.closest(".photo-box").querySelector(".thumbs");
    for (const file of files) {
      const fig = document.createElement("figure");
      fig.innerHTML = `<span class="muted">压缩中…</span>`;
      thumbs.appendChild(fig);
      try {
        const fix = camera.currentFix();
        const { bytes } = await camera.compress(file);
        const sha = await camera.sha256Hex(bytes);
        const id = camera.uuid();
        await outbox.addPhoto({ id, household_id: await store.registeredId(h.id), case_id: draft.case_id, visit_id: draft.visit_id,
          phase: draft.phase, node, item: itemCode, captured_at: new Date().toISOString(),
          lat: fix?.lat ?? null, lon: fix?.lon ?? null, accuracy_m: fix?.accuracy_m ?? null, fix_at: fix?.fix_at ?? null, label }, bytes, sha);
        if (itemCode) (draft.results[itemCode] ||= { result: null, value: "", note: "", photos: [] }).photos.push(id);
        else draft.photos.push(id);
        await save();
        previews.set(id, URL.createObjectURL(new Blob([bytes], { type: "image/jpeg" })));
        fig.innerHTML = `<img data-preview="${id}" alt="照片" src="${previews.get(id)}"><figcaption>${fix ? `±${Math.round(fix.accuracy_m)}米` : "无定位"}</figcaption>`;
        $("#kind").disabled = $("#template").disabled = $("#phase").disabled = true;
      } catch (e) {
        fig.innerHTML = `<span class="error small">${esc(e.message)}</span>`;
      }
    }
  }

  $("#discard").addEventListener("click", async () => {
    const n = countPhotos(draft);
    if (!confirm(n ? `放弃这条检查记录？已拍的 ${n} 张照片仍会上传。` : "放弃这条检查记录？")) return;
    await store.dropDraft(householdId);
    location.hash = `#/h/${h.id}`;
  });

  $("#save").addEventListener("click", async () => {
    if (!template) return;
    const problems = [];
    for (const node of template.nodes) {
      for (const item of node.items) {
        const r = draft.results[item.code];
        if (r?.result) problems.push(...checkResult(item, r));
      }
    }
    const form = checkForm(template, draft);
    problems.push(...Object.values(form));
    const answered = Object.values(draft.results).filter((r) => r.result).length;
    if (!answered && !template.outcomes?.length) problems.push("请至少填写一项检查结果");
    $("#problems").innerHTML = problems.length ? `<div class="card">${problems.map((p) => `<p class="error">${esc(p)}</p>`).join("")}</div>` : "";
    if (problems.length) { $("#problems").scrollIntoView({ block: "center" }); return; }
    draft.household_id = await store.registeredId(draft.household_id);
    const body = buildBody(draft, camera.currentFix());
    await outbox.addVisit(draft.visit_id, body);
    await store.dropDraft(householdId);
    ctx.toast("检查记录已保存，等待上传", "ok");
    if (navigator.onLine) outbox.drain();
    // A survey in a round goes back to the round's list: the next house in walking order.
    location.hash = body.round_id != null ? `#/round/${body.round_id}` : `#/h/${h.id}`;
  });
}

// An appraisal (鉴定) grades the house: only users with that right are offered it.
function mayRecord(user, kind) {
  return kind !== "appraisal" || (user?.permissions || []).includes("appraisal.write");
}

// A construction visit photographs the phase the case is in; other kinds have a fixed phase.
function phaseFor(kind, h) {
  return kind === "construction" && h.current_case?.phase ? h.current_case.phase : DEFAULT_PHASE[kind];
}

function countPhotos(draft) {
  return draft.photos.length + Object.values(draft.results).reduce((s, r) => s + r.photos.length, 0);
}

function buildBody(draft, fix) {
  const results = [], loose = [...draft.photos];
  for (const [item, r] of Object.entries(draft.results)) {
    if (!r.result) { loose.push(...r.photos); continue; }
    const out = { item, result: r.result, photos: r.photos };
    if (r.value !== "" && r.value != null) out.value = Number(r.value);
    if ((r.note || "").trim()) out.note = r.note.trim();
    results.push(out);
  }
  const body = { household_id: draft.household_id, kind: draft.kind, phase: draft.phase,
    template: draft.template, started_at: draft.started_at, ended_at: new Date().toISOString(), results, photos: loose };
  if (draft.case_id != null) body.case_id = draft.case_id;
  if (draft.round_id != null) body.round_id = draft.round_id;
  if (fix) body.position = { lat: fix.lat, lon: fix.lon, accuracy_m: fix.accuracy_m, fix_at: fix.fix_at };
  if (draft.note.trim()) body.note = draft.note.trim();
  if (draft.outcome) { body.outcome = draft.outcome; body.danger_points = draft.danger_points; }
  if (draft.appraisal_after) body.appraisal_after = draft.appraisal_after;
  const signed = Object.entries(draft.signoffs).filter(([, n]) => (n || "").trim());
  if (signed.length) body.signoffs = signed.map(([role, name]) => ({ role, name: name.trim(), signed_at: body.ended_at }));
  return body;
}

function drawGps() {
  const el = $("#gps");
  if (!el) return;
  const fix = camera.currentFix();
  if (!fix) { el.className = "gps bad"; el.textContent = `⚠ ${camera.positionError() || "正在定位…"}`; return; }
  const age = Math.max(0, Math.round((Date.now() - fix.time) / 1000));
  const bad = fix.accuracy_m > camera.settings.warnAccuracyM;
  el.className = bad ? "gps warn" : "gps";
  el.textContent = `${bad ? "⚠ 定位误差大，请到室外或稍候" : "✓ 已定位"}：精度 ±${Math.round(fix.accuracy_m)} 米，${age} 秒前`;
}

async function showPreview(img) {
  const id = img.dataset.preview;
  if (!previews.has(id)) {
    // A draft reopened after a restart: the bytes are still in the outbox, or already uploaded.
    const item = await get("outbox", id);
    if (item?.bytes) previews.set(id, URL.createObjectURL(new Blob([item.bytes], { type: "image/jpeg" })));
  }
  if (previews.has(id)) img.src = previews.get(id);
  else img.replaceWith(Object.assign(document.createElement("span"), { className: "small muted", textContent: "已上传" }));
}

function photoBox(photos, label) {
  return `<div class="photo-box">
    <div class="shoot">
      <label class="camera">拍照<input type="file" accept="image/*" capture="environment" data-capture="camera" aria-label="${esc(label)}拍照"></label>
      <label>从相册选择<input type="file" accept="image/*" multiple data-capture="gallery" aria-label="${esc(label)}从相册选择"></label>
    </div>
    <div class="thumbs">${photos.map((id) => `<figure><img data-preview="${esc(id)}" alt="已拍照片"><figcaption>已保存</figcaption></figure>`).join("")}</div>
  </div>`;
}

function outcomeHint(t, code) {
  const o = t.outcomes?.find((x) => x.code === code);
  if (!o) return "请选择一项结果，再按提示拍照。";
  const photos = o.min_photos ? `须至少拍 ${o.min_photos} 张` : "建议拍 1 张";
  return `拍摄要点：${o.photo_hint || "房屋全貌"}（${photos}）${o.needs_revisit ? "；此结果需要复查" : ""}`;
}

function showOutcomeHint(t, code) {
  const el = $("#outcome-hint");
  if (el && t) el.textContent = outcomeHint(t, code);
}

function renderTemplate(t, draft) {
  const nodes = t.nodes.filter((node) => node.items.length).map((node) => `
    <details class="card node" data-node="${esc(node.code)}" ${node.phase === draft.phase ? "open" : ""}>
      <summary><h2 style="display:inline">${esc(node.name)}</h2> <span class="muted small">${esc(PHASES[node.phase] || "")}</span></summary>
      ${node.items.map((item) => {
        const r = draft.results[item.code] || { result: null, value: "", note: "", photos: [] };
        const name = `r-${item.code}`;
        return `<div class="item" data-item="${esc(item.code)}">
          <h3>${esc(item.name)}${item.requires_photo ? ` <span class="tag warn">须拍照</span>` : ""}</h3>
          <p class="criterion">${esc(item.criterion)}</p>
          ${item.photo_hint ? `<p class="criterion">拍摄要点：${esc(item.photo_hint)}</p>` : ""}
          ${photoBox(r.photos, item.name)}
          <div class="choices" role="radiogroup" aria-label="${esc(item.name)}检查结果">
            ${Object.entries(RESULTS).map(([k, label]) => `<input type="radio" id="${esc(name)}-${k}" name="${esc(name)}" value="${k}" data-field="result" ${r.result === k ? "checked" : ""}><label class="${k}" for="${esc(name)}-${k}">${label}</label>`).join("")}
          </div>
          ${item.measure ? `<label>${esc(item.measure.name)}（${esc(item.measure.unit)}，要求 ${esc(describeMeasure(item.measure))}）
            <input type="number" inputmode="decimal" step="any" data-field="value" value="${esc(r.value)}"></label>` : ""}
          <label>说明<input type="text" data-field="note" value="${esc(r.note)}" placeholder="不合格时必填：问题说明"></label>
        </div>`;
      }).join("")}
    </details>`).join("");
  const outcome = t.outcomes?.length ? `<div class="card" id="survey">
      <h2>排查结果</h2>
      <div class="choices outcomes" role="radiogroup" aria-label="排查结果">
        ${t.outcomes.map((o) => `<input type="radio" id="outcome-${esc(o.code)}" name="outcome" value="${esc(o.code)}" ${draft.outcome === o.code ? "checked" : ""}><label class="outcome-${esc(o.code)}" for="outcome-${esc(o.code)}">${esc(o.label)}</label>`).join("")}
      </div>
      <p id="outcome-hint" class="criterion">${esc(outcomeHint(t, draft.outcome))}</p>
      ${photoBox(draft.photos, "房屋")}
      ${t.danger_points?.length ? `<h3>危险点 <span class="muted small">疑似危房须至少选一处</span></h3>
        <div class="checks">${t.danger_points.map((d) => `<label>
        <input type="checkbox" name="danger" value="${esc(d.code)}" ${draft.danger_points.includes(d.code) ? "checked" : ""}><span><strong>${esc(d.component)}</strong>：${esc(d.label)}</span></label>`).join("")}</div>` : ""}
    </div>` : "";
  const appraisal = t.appraisal_after ? `<div class="card"><label for="appraisal_after">${esc(t.appraisal_after.label)}</label>
      <select id="appraisal_after" name="appraisal_after"><option value="">请选择</option>${t.appraisal_after.options.map((o) =>
        `<option value="${esc(o.value)}" ${draft.appraisal_after === o.value ? "selected" : ""}>${esc(o.label)}</option>`).join("")}</select></div>` : "";
  const signoffs = t.signoffs?.length ? `<div class="card"><h2>签字</h2>${t.signoffs.map((s) =>
      `<label>${esc(s.label)}<input type="text" data-signoff="${esc(s.role)}" value="${esc(draft.signoffs[s.role] || "")}" placeholder="姓名"></label>`).join("")}</div>` : "";
  return outcome + nodes + appraisal + signoffs;
}
