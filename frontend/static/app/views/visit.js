// 新建检查: kind and template, the template's nodes and items, photos per item with the phone's
// position, results 合格/不合格/不适用 checked against the visit rules before it is saved.

import * as camera from "../camera.js";
import { html, setHtml } from "../html.js";
import * as outbox from "../outbox.js";
import { DEFAULT_PHASE, formProblems, KINDS, PHASES, RESULTS, surveyOutcomes } from "../rules.js";
import { rowDue } from "../progress.js";
import * as store from "../store.js";
import { $, $$, fmtTime, view } from "../ui.js";
import { openViewer } from "../viewer.js";
import { blankResult, draftThumb, formProgress, outcomeHint, planNodes, templateSections } from "./checklist.js";

const previews = new Map(); // photo uuid -> blob URL (this page's session only)

// `answers`: the id of a returned visit this one answers (补拍/修改): its items open first.
export async function render(ctx, householdId, answers = null) {
  const h = await store.household(householdId);
  if (!h) { view(html`<p class="card">本机没有该农户的资料。<a href="#/">返回</a></p>`); return; }
  const lists = await store.checklists();
  // An open survey round that lists this household: its survey is what the inspector came for.
  const task = await store.roundOf(h.id);
  const returned = answers ? (await store.myVisits()).find((v) => v.id === answers) : null;
  let draft = await store.draft(householdId);
  if (returned && draft?.answers_visit_id !== returned.id) {
    if (draft && countPhotos(draft) && !confirm("本户还有一条未保存的检查记录，放弃它并按退回意见重新检查？")) {
      location.replace(`#/h/${h.id}/visit`);
      return;
    }
    if (draft) await outbox.dropPhotos(draftPhotos(draft));
    draft = answerDraft(h, returned);
  }
  draft ||= newDraft(h, task);
  draft.round_id = task && task.kind === draft.kind ? task.round.id : null;
  const choices = (kind) => templatesFor(lists, kind, h.current_case?.method);
  if (!draft.template || !choices(draft.kind).some((c) => c.code === draft.template.code)) {
    const first = choices(draft.kind)[0];
    draft.template = first ? { code: first.code, version: first.version } : null;
  }
  const template = draft.template && await store.template(draft.template.code);
  const form = { ctx, h, householdId, draft, lists, template, task,
    save: () => store.saveDraft(householdId, draft) };
  await form.save();
  const answering = draft.answers_visit_id ? (await store.myVisits()).find((v) => v.id === draft.answers_visit_id) : null;

  view(html`
    <p><a href="#/h/${h.id}" class="btn">‹ ${h.name}</a></p>
    <h1 id="visit" data-kind="${draft.kind}" data-template="${draft.template?.code || ""}">${answering ? "补拍/修改" : "新建检查记录"}</h1>
    ${answering ? answerCard(answering) : ""}
    ${kindSection(form, choices)}
    <p id="gps" class="gps">正在定位…</p>
    ${template ? templateSections(template, draft, await sectionOptions(h, draft, task, answering, template))
    : html`<p class="card error">本机没有可用的检查表，请联网刷新。</p>`}
    ${noteAndActions(draft)}`);

  followPosition(ctx);
  for (const img of $$("img[data-preview]")) showPreview(img);
  bindKindSection(form);
  bindAnswers(form);
  bindActions(form);
}

// How the checklist is laid out for this draft: node order, outcomes offered, items marked.
async function sectionOptions(h, draft, task, answering, template) {
  const focus = new Set((answering?.results || []).map((r) => r.item));
  const photographed = new Set([...await store.photographedNodes(draft.case_id)]
    .filter((k) => k.startsWith(`${draft.phase}:`)).map((k) => k.split(":")[1]));
  const marks = {};
  const missing = new Set();
  for (const m of await store.missingPhotos(h)) {
    if (!m.phase || m.phase === draft.phase) { marks[m.item] = "缺照片"; missing.add(m.item); }
  }
  for (const r of answering?.results || []) marks[r.item] = `退回前：${RESULTS[r.result] || r.result}`;
  for (const m of answering?.missing_photos || []) marks[m.item] = "缺照片";
  const found = Boolean(task?.row.found_in_round) || typeof h.id === "string";
  return { plan: planNodes(template, draft, { photographed, focus, missing }), marks,
    outcomes: surveyOutcomes(template, { found }) };
}

function answerCard(v) {
  return html`<div class="card returned" id="answering"><p><span class="tag bad">已退回</span>${v.kind_label || ""} · ${fmtTime(v.started_at)}</p>
    <p>审核意见：<strong>${v.review_comment || "（无）"}</strong></p>
    <p class="small">被退回的项目排在最前面，请按意见补拍或修改后保存；保存后重新提交审核。</p></div>`;
}

// A new visit answering a returned one: the same kind, phase and checklist.
function answerDraft(h, v) {
  return { ...newDraft(h, null), kind: v.kind, phase: v.phase, case_id: v.case_id ?? h.current_case?.id ?? null,
    template: v.template ? { code: v.template.code, version: v.template.version } : null,
    answers_visit_id: v.id };
}

function newDraft(h, task) {
  const taskDue = task && rowDue(task.row);
  // A house under construction is inspected as works (施工巡查, 改造中) first, survey or not.
  const building = h.current_case?.phase === "during";
  const kind = building ? "construction" : taskDue ? task.kind : h.current_case ? "construction" : "routine_survey";
  return { visit_id: camera.uuid(), household_id: h.id, case_id: h.current_case?.id ?? null, kind,
    phase: phaseFor(kind, h), template: null, started_at: new Date().toISOString(),
    results: {}, photos: [], note: "", signoffs: {}, appraisal_after: null, danger_points: [],
    // A house found on the spot (以房找人) is surveyed as 新发现 unless the inspector says otherwise.
    outcome: taskDue && task.row.found_in_round && !task.row.visited_at ? "new_found" : null };
}

// The checklists for a kind of visit, those made for the case's method first.
function templatesFor(lists, kind, method) {
  const fit = lists.filter((c) => (c.kinds || []).includes(kind));
  const forMethod = (c) => method && (c.methods || []).includes(method);
  return [...fit.filter(forMethod), ...fit.filter((c) => !forMethod(c))];
}

// The kinds whose phase the inspector picks; the others have the phase of their kind.
const PHASE_CHOSEN = ["construction", "spot_check"];

// 检查类型, 检查表, 阶段: fixed once a photo is taken (the photos carry them).
function kindSection({ ctx, draft, task }, choices) {
  const locked = countPhotos(draft) > 0;
  return html`<div class="card">
      <label for="kind">检查类型</label>
      <select id="kind" ${locked ? "disabled" : ""}>${Object.entries(KINDS).filter(([k]) => choices(k).length && mayRecord(ctx.user, k))
        .map(([k, label]) => html`<option value="${k}" ${k === draft.kind ? "selected" : ""}>${label}</option>`)}</select>
      <label for="template">检查表</label>
      <select id="template" ${locked ? "disabled" : ""}>${choices(draft.kind).map((c) =>
        html`<option value="${c.code}" ${c.code === draft.template?.code ? "selected" : ""}>${c.name}</option>`)}</select>
      ${PHASE_CHOSEN.includes(draft.kind) ? html`<label for="phase">阶段</label>
      <select id="phase" ${locked ? "disabled" : ""}>${Object.entries(PHASES).map(([k, label]) =>
        html`<option value="${k}" ${k === draft.phase ? "selected" : ""}>${label}</option>`)}</select>` : ""}
      ${locked ? html`<p class="muted small">已拍照片，类型与检查表不能再更改。</p>` : ""}
      ${draft.round_id != null ? roundTask(task) : ""}
    </div>`;
}

function roundTask(task) {
  return html`<p id="round-task" class="small"><span class="tag warn">排查任务</span>${task.round.name}，截止 ${task.round.due_on}${task.row.visited_at ? `（上次结果：${task.row.outcome_label || ""}，本次为复查）` : ""}</p>`;
}

function noteAndActions(draft) {
  return html`<label for="visit-note">备注</label>
    <textarea id="visit-note" rows="3">${draft.note}</textarea>
    <div id="problems"></div>
    <div class="sticky-foot"><div class="row">
      <button id="discard" type="button" style="flex:0 0 auto">放弃</button>
      <button id="save" class="primary" type="button">保存检查记录</button></div></div>`;
}

// The phone's position, shown while the form is open.
function followPosition(ctx) {
  camera.startPosition();
  const gps = () => drawGps();
  camera.geo.addEventListener("change", gps);
  const tick = setInterval(gps, 1000);
  ctx.onLeave(() => { camera.geo.removeEventListener("change", gps); clearInterval(tick); camera.stopPosition(); });
  drawGps();
}

function bindKindSection({ ctx, h, draft, lists, save }) {
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
  $("#phase")?.addEventListener("change", async (ev) => { draft.phase = ev.target.value; await save(); ctx.rerender(); });
}

// Results, measured values, notes, photos, the survey's outcome, sign-offs: saved as they change.
function bindAnswers(form) {
  const { draft, template, save } = form;
  $("#visit-note").addEventListener("input", (ev) => { draft.note = ev.target.value; save(); });
  const main = $("#view");
  main.addEventListener("change", async (ev) => {
    const t = ev.target;
    const code = t.closest("[data-item]")?.dataset.item;
    if (t.type === "file") { await takePhotos(form, t, code || null); return; }
    if (t.name === "outcome") { draft.outcome = t.value; showOutcomeHint(template, draft.outcome); }
    else if (t.name === "danger") draft.danger_points = $$("input[name=danger]:checked").map((x) => x.value);
    else if (t.name === "appraisal_after") draft.appraisal_after = t.value || null;
    else if (!code) return;
    else {
      const r = draft.results[code] ||= blankResult();
      if (t.dataset.field === "result") r.result = t.value;
      else if (t.dataset.field) r[t.dataset.field] = t.value;
      showProgress(template, draft);
    }
    await save();
  });
  main.addEventListener("click", (ev) => {
    const thumb = ev.target.closest("[data-view]");
    if (thumb) openViewer({ src: previews.get(thumb.dataset.view), title: "本次拍摄（未上传）" });
    const link = ev.target.closest("[data-goto]");
    if (link) { ev.preventDefault(); goTo(link.dataset.goto); }
  });
  main.addEventListener("input", (ev) => {
    const t = ev.target;
    if (t.dataset.signoff) { draft.signoffs[t.dataset.signoff] = t.value; save(); return; }
    const code = t.closest("[data-item]")?.dataset.item;
    if (code && (t.dataset.field === "note" || t.dataset.field === "value")) {
      const r = draft.results[code] ||= blankResult();
      r[t.dataset.field] = t.value;
      save();
    }
  });
}

async function takePhotos({ h, draft, save }, input, itemCode) {
  const files = [...input.files];
  input.value = "";
  const node = input.closest("[data-node]")?.dataset.node || null;
  const label = [input.closest("[data-node]")?.querySelector("h2")?.textContent,
    input.closest("[data-item]")?.querySelector("h3")?.firstChild?.textContent].filter(Boolean).join(" · ") || "房屋照片";
  const thumbs = input.closest(".photo-box").querySelector(".thumbs");
  for (const file of files) {
    const fig = document.createElement("figure");
    setHtml(fig, html`<span class="muted">压缩中…</span>`);
    thumbs.appendChild(fig);
    try {
      const fix = camera.currentFix();
      const { bytes } = await camera.compress(file);
      const sha = await camera.sha256Hex(bytes);
      const id = camera.uuid();
      await outbox.addPhoto({ id, household_id: await store.registeredId(h.id), case_id: draft.case_id, visit_id: draft.visit_id,
        phase: draft.phase, node, item: itemCode, captured_at: new Date().toISOString(),
        lat: fix?.lat ?? null, lon: fix?.lon ?? null, accuracy_m: fix?.accuracy_m ?? null, fix_at: fix?.fix_at ?? null, label },
      bytes, sha, { held: true });
      if (itemCode) (draft.results[itemCode] ||= blankResult()).photos.push(id);
      else draft.photos.push(id);
      await save();
      previews.set(id, URL.createObjectURL(new Blob([bytes], { type: "image/jpeg" })));
      const shown = setHtml(document.createElement("div"), draftThumb(id)).firstElementChild;
      shown.querySelector("figcaption").textContent = fix ? `±${Math.round(fix.accuracy_m)}米 · 未上传` : "无定位 · 未上传";
      shown.querySelector("img").src = previews.get(id);
      fig.replaceWith(shown);
      for (const el of $$("#kind, #template, #phase")) el.disabled = true;
    } catch (e) {
      setHtml(fig, html`<span class="error small">${e.message}</span>`);
    }
  }
}

// 放弃 and 保存检查记录.
function bindActions({ ctx, h, householdId, draft, template }) {
  $("#discard").addEventListener("click", async () => {
    const n = countPhotos(draft);
    if (!confirm(n ? `放弃这条检查记录？已拍的 ${n} 张照片将从手机上删除，不会上传。` : "放弃这条检查记录？")) return;
    await outbox.dropPhotos(draftPhotos(draft));
    await store.dropDraft(householdId);
    location.hash = `#/h/${h.id}`;
  });

  $("#save").addEventListener("click", async () => {
    if (!template) return;
    const problems = formProblems(template, draft);
    showProblems(problems);
    if (problems.length) { $("#problems").scrollIntoView({ block: "center" }); return; }
    draft.household_id = await store.registeredId(draft.household_id);
    const body = buildBody(draft, camera.currentFix());
    // The visit first, then its photos: a photo never goes without the visit that holds it.
    await outbox.addVisit(draft.visit_id, body);
    await outbox.release(draftPhotos(draft));
    await store.dropDraft(householdId);
    ctx.toast("检查记录已保存，等待上传", "ok");
    if (navigator.onLine) outbox.drain();
    // A survey in a round goes back to the round's list: the next house in walking order.
    location.hash = body.round_id != null ? `#/round/${body.round_id}` : `#/h/${h.id}`;
  });
}

// Each problem a link to its item (or part of the form), which opens and scrolls to it.
function showProblems(problems) {
  const target = (p) => (p.item ? `item-${p.item}` : { outcome: "survey", nodes: "form-progress" }[p.part] || "");
  setHtml($("#problems"), problems.length ? html`<div class="card problems"><p><strong>还有 ${problems.length} 处须处理：</strong></p>
    <ol>${problems.map((p) => html`<li>${target(p) ? html`<a href="" class="error" data-goto="${target(p)}">${p.message}</a>`
      : html`<span class="error">${p.message}</span>`}</li>`)}</ol></div>` : "");
}

function goTo(id) {
  const el = document.getElementById(id);
  if (!el) return;
  const node = el.closest("details");
  if (node) node.open = true;
  el.scrollIntoView({ block: "start" });
  el.classList.add("flash");
  setTimeout(() => el.classList.remove("flash"), 1500);
}

function showProgress(template, draft) {
  const el = $("#form-progress strong");
  if (!el) return;
  const p = formProgress(template, draft);
  el.textContent = `${p.answered}/${p.total}`;
  $("#form-progress .meter > span").style.width = `${Math.round(100 * p.answered / p.total)}%`;
}

// An appraisal (鉴定) grades the house: only users with that right are offered it.
function mayRecord(user, kind) {
  return kind !== "appraisal" || (user?.permissions || []).includes("appraisal.write");
}

// A construction visit photographs the phase the case is in; other kinds have a fixed phase.
function phaseFor(kind, h) {
  return kind === "construction" && h.current_case?.phase ? h.current_case.phase : DEFAULT_PHASE[kind];
}

const draftPhotos = (draft) => [...draft.photos, ...Object.values(draft.results).flatMap((r) => r.photos)];
const countPhotos = (draft) => draftPhotos(draft).length;

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
  if (draft.answers_visit_id) body.answers_visit_id = draft.answers_visit_id;
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
    const item = await outbox.photo(id);
    if (item?.bytes) previews.set(id, URL.createObjectURL(new Blob([item.bytes], { type: "image/jpeg" })));
  }
  if (previews.has(id)) img.src = previews.get(id);
  else img.replaceWith(Object.assign(document.createElement("span"), { className: "small muted", textContent: "照片已上传" }));
}

function showOutcomeHint(t, code) {
  const el = $("#outcome-hint");
  if (el && t) el.textContent = outcomeHint(t, code);
}
