// The checklist's part of the visit form (views/visit.js), as markup: the survey's outcome and its
// danger points, the nodes and their items with their photos, the appraisal after the works, the
// sign-offs. The draft's answers are shown as they were left.

import { html } from "../html.js";
import { describeMeasure, PHASES, RESULTS } from "../rules.js";

// An item not answered yet.
export const blankResult = () => ({ result: null, value: "", note: "", photos: [] });

// Every section of a checklist, in the order the form shows them. `plan` orders and opens the
// nodes (planNodes); `outcomes` are the survey outcomes offered; `marks` tags items by code
// (缺照片 from the server, the returned visit's answer).
export function templateSections(t, draft, { plan, outcomes, marks = {} }) {
  return [surveySection(t, draft, outcomes), progressLine(t, draft),
    plan.map(({ node, open, group }) => nodeSection(node, draft, open, group, marks)),
    appraisalSection(t, draft), signoffSection(t, draft)];
}

// The nodes in the order an inspector works through them: with `focus` (the items of a returned
// visit) those first; otherwise the nodes of the draft's phase the case has no photos of yet —
// the stage the works are at, its first node open — then those it has, then other phases'.
// A node the draft has answers in, or one with items the case lacks photos of (`missing`), is open;
// other kinds than 施工巡查 open every node of their phase.
export function planNodes(t, draft, { photographed = new Set(), focus = new Set(), missing = new Set() } = {}) {
  const nodes = t.nodes.filter((n) => n.items.length);
  const answered = (n) => n.items.some((i) => draft.results[i.code]?.result || draft.results[i.code]?.photos?.length);
  const focused = (n) => n.items.some((i) => focus.has(i.code));
  const inPhase = nodes.filter((n) => n.phase === draft.phase);
  const groups = focus.size
    ? [["answer", nodes.filter(focused)], ["rest", nodes.filter((n) => !focused(n))]]
    : [["current", inPhase.filter((n) => !photographed.has(n.code))],
      ["done", inPhase.filter((n) => photographed.has(n.code))], ["other", nodes.filter((n) => n.phase !== draft.phase)]];
  const first = groups[0][1][0];
  // Works are inspected stage by stage; an acceptance or a check goes through the whole form.
  const byStage = draft.kind === "construction";
  return groups.flatMap(([group, list]) => list.map((node) => ({ node, group,
    open: node === first || answered(node) || group === "answer" || node.items.some((i) => missing.has(i.code))
      || (!byStage && node.phase === draft.phase) })));
}

// How far the form is: items answered of the items of the draft's phase (5/22).
export function formProgress(t, draft) {
  const items = t.nodes.filter((n) => n.phase === draft.phase).flatMap((n) => n.items);
  return { answered: items.filter((i) => draft.results[i.code]?.result).length, total: items.length };
}

function progressLine(t, draft) {
  const p = formProgress(t, draft);
  if (!p.total) return "";
  return html`<p id="form-progress" class="progress-line">已填 <strong>${p.answered}/${p.total}</strong> 项（${PHASES[draft.phase] || ""}）
    <span class="meter" aria-hidden="true"><span style="width:${Math.round(100 * p.answered / p.total)}%"></span></span></p>`;
}

function surveySection(t, draft, outcomes) {
  if (!t.outcomes?.length) return "";
  return html`<div class="card" id="survey">
      <h2>排查结果</h2>
      <div class="choices outcomes" role="radiogroup" aria-label="排查结果">
        ${outcomes.map((o) => html`<input type="radio" id="outcome-${o.code}" name="outcome" value="${o.code}" ${draft.outcome === o.code ? "checked" : ""}><label class="outcome-${o.code}" for="outcome-${o.code}">${o.label}</label>`)}
      </div>
      <p id="outcome-hint" class="criterion">${outcomeHint(t, draft.outcome)}</p>
      ${photoBox(draft.photos, "房屋")}
      ${t.danger_points?.length ? dangerPoints(t, draft) : ""}
    </div>`;
}

function dangerPoints(t, draft) {
  return html`<h3>危险点 <span class="muted small">疑似危房须至少选一处</span></h3>
        <div class="checks">${t.danger_points.map((d) => html`<label>
        <input type="checkbox" name="danger" value="${d.code}" ${draft.danger_points.includes(d.code) ? "checked" : ""}><span><strong>${d.component}</strong>：${d.label}</span></label>`)}</div>`;
}

const GROUP_WORDS = { current: "当前阶段", done: "已有照片", answer: "被退回的项目" };

function nodeSection(node, draft, open, group, marks) {
  const done = node.items.filter((i) => draft.results[i.code]?.result).length;
  return html`
    <details class="card node ${group}" data-node="${node.code}" data-group="${group}" ${open ? "open" : ""}>
      <summary><h2>${node.name}</h2> <span class="muted small">${GROUP_WORDS[group] || PHASES[node.phase] || ""} · 已填 ${done}/${node.items.length}</span></summary>
      ${node.items.map((item) => itemSection(item, draft.results[item.code] || blankResult(), marks[item.code]))}
    </details>`;
}

function itemSection(item, r, mark) {
  const name = `r-${item.code}`;
  return html`<div class="item" data-item="${item.code}" id="item-${item.code}">
          <h3>${item.name}${item.requires_photo ? html` <span class="tag warn">须拍照</span>` : ""}${mark ? html` <span class="tag bad">${mark}</span>` : ""}</h3>
          <p class="criterion">${item.criterion}</p>
          ${item.photo_hint ? html`<p class="criterion">拍摄要点：${item.photo_hint}</p>` : ""}
          ${photoBox(r.photos, item.name)}
          <div class="choices" role="radiogroup" aria-label="${item.name}检查结果">
            ${Object.entries(RESULTS).map(([k, label]) => html`<input type="radio" id="${name}-${k}" name="${name}" value="${k}" data-field="result" ${r.result === k ? "checked" : ""}><label class="${k}" for="${name}-${k}">${label}</label>`)}
          </div>
          ${item.measure ? html`<label>${item.measure.name}（${item.measure.unit}，要求 ${describeMeasure(item.measure)}）
            <input type="number" inputmode="decimal" step="any" data-field="value" value="${r.value}"></label>` : ""}
          <label>说明<input type="text" data-field="note" value="${r.note}" placeholder="不合格时必填：问题说明"></label>
        </div>`;
}

function appraisalSection(t, draft) {
  if (!t.appraisal_after) return "";
  return html`<div class="card"><label for="appraisal_after">${t.appraisal_after.label}</label>
      <select id="appraisal_after" name="appraisal_after"><option value="">请选择</option>${t.appraisal_after.options.map((o) =>
        html`<option value="${o.value}" ${draft.appraisal_after === o.value ? "selected" : ""}>${o.label}</option>`)}</select></div>`;
}

function signoffSection(t, draft) {
  if (!t.signoffs?.length) return "";
  return html`<div class="card"><h2>签字</h2>${t.signoffs.map((s) =>
      html`<label>${s.label}<input type="text" data-signoff="${s.role}" value="${draft.signoffs[s.role] || ""}" placeholder="姓名"></label>`)}</div>`;
}

function photoBox(photos, label) {
  return html`<div class="photo-box">
    <div class="shoot">
      <label class="camera">拍照<input type="file" accept="image/*" capture="environment" data-capture="camera" aria-label="${label}拍照"></label>
      <label>从相册选择<input type="file" accept="image/*" multiple data-capture="gallery" aria-label="${label}从相册选择"></label>
    </div>
    <div class="thumbs">${photos.map(draftThumb)}</div>
  </div>`;
}

// A photo of the draft: its preview, opened full screen by a tap.
export const draftThumb = (id) => html`<figure><button type="button" class="thumb" data-view="${id}"><img data-preview="${id}" alt="已拍照片"></button><figcaption>未上传</figcaption></figure>`;

// What to photograph for the outcome chosen.
export function outcomeHint(t, code) {
  const o = t.outcomes?.find((x) => x.code === code);
  if (!o) return "请选择一项结果，再按提示拍照。";
  const photos = o.min_photos ? `须至少拍 ${o.min_photos} 张` : "建议拍 1 张";
  return `拍摄要点：${o.photo_hint || "房屋全貌"}（${photos}）${o.needs_revisit ? "；此结果需要复查" : ""}`;
}
