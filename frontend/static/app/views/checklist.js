// The checklist's part of the visit form (views/visit.js), as markup: the survey's outcome and its
// danger points, the nodes and their items with their photos, the appraisal after the works, the
// sign-offs. The draft's answers are shown as they were left.

import { html } from "../html.js";
import { describeMeasure, PHASES, RESULTS } from "../rules.js";

// An item not answered yet.
export const blankResult = () => ({ result: null, value: "", note: "", photos: [] });

// Every section of a checklist, in the order the form shows them.
export function templateSections(t, draft) {
  return [surveySection(t, draft), t.nodes.filter((node) => node.items.length).map((node) => nodeSection(node, draft)),
    appraisalSection(t, draft), signoffSection(t, draft)];
}

function surveySection(t, draft) {
  if (!t.outcomes?.length) return "";
  return html`<div class="card" id="survey">
      <h2>排查结果</h2>
      <div class="choices outcomes" role="radiogroup" aria-label="排查结果">
        ${t.outcomes.map((o) => html`<input type="radio" id="outcome-${o.code}" name="outcome" value="${o.code}" ${draft.outcome === o.code ? "checked" : ""}><label class="outcome-${o.code}" for="outcome-${o.code}">${o.label}</label>`)}
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

function nodeSection(node, draft) {
  return html`
    <details class="card node" data-node="${node.code}" ${node.phase === draft.phase ? "open" : ""}>
      <summary><h2 style="display:inline">${node.name}</h2> <span class="muted small">${PHASES[node.phase] || ""}</span></summary>
      ${node.items.map((item) => itemSection(item, draft.results[item.code] || blankResult()))}
    </details>`;
}

function itemSection(item, r) {
  const name = `r-${item.code}`;
  return html`<div class="item" data-item="${item.code}">
          <h3>${item.name}${item.requires_photo ? html` <span class="tag warn">须拍照</span>` : ""}</h3>
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
    <div class="thumbs">${photos.map((id) => html`<figure><img data-preview="${id}" alt="已拍照片"><figcaption>已保存</figcaption></figure>`)}</div>
  </div>`;
}

// What to photograph for the outcome chosen.
export function outcomeHint(t, code) {
  const o = t.outcomes?.find((x) => x.code === code);
  if (!o) return "请选择一项结果，再按提示拍照。";
  const photos = o.min_photos ? `须至少拍 ${o.min_photos} 张` : "建议拍 1 张";
  return `拍摄要点：${o.photo_hint || "房屋全貌"}（${photos}）${o.needs_revisit ? "；此结果需要复查" : ""}`;
}
