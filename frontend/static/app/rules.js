// The visit rules of the server (backend/services/checklists/rules.py), checked on the phone first,
// and the phone's copies of the server's vocabularies (backend/vocabulary.py): the phone works
// offline with no build step, so it carries them; tests/web/test_app_vocabulary.py keeps each
// equal to the server's.

// VISIT_KIND_LABELS, PHASES, RESULT_LABELS, DEFAULT_PHASE
export const KINDS = {
  construction: "施工巡查/节点检查", completion: "竣工验收", appraisal: "鉴定",
  routine_survey: "常规排查", emergency_survey: "应急排查", spot_check: "第三方核查/抽查",
};
export const PHASES = { before: "改造前", during: "改造中", after: "改造后" };
export const RESULTS = { pass: "合格", fail: "不合格", na: "不适用" };
export const DEFAULT_PHASE = { construction: "during", completion: "after", spot_check: "after",
  routine_survey: "before", emergency_survey: "before", appraisal: "before" };
// The visit kind that records a household's outcome in a survey round of each kind.
export const SURVEY_KINDS = { routine: "routine_survey", emergency: "emergency_survey", spot_check: "spot_check" };
export const REVIEW_STATES = { submitted: "待审核", approved: "已通过", returned: "已退回" };
// UNCHECKED_OUTCOMES: a survey with one of these outcomes does not count as 已查 (checked).
export const UNCHECKED_OUTCOMES = ["nobody_home"];

export function describeMeasure(m) {
  if (m.min != null && m.max != null) return `${m.min}–${m.max} ${m.unit}`;
  if (m.min != null) return `≥ ${m.min} ${m.unit}`;
  if (m.max != null) return `≤ ${m.max} ${m.unit}`;
  return m.unit;
}

export function checkResult(item, r) {
  const name = `「${item.name}」`;
  const problems = [];
  const photos = (r.photos || []).length;
  const value = r.value === "" || r.value == null ? null : Number(r.value);
  if (value !== null && !Number.isFinite(value)) problems.push(`${name}的实测值不是有效数字`);
  if (r.result === "fail") {
    if (photos < 1) problems.push(`${name}判为不合格，须至少拍摄1张照片`);
    if (!(r.note || "").trim()) problems.push(`${name}判为不合格，须填写问题说明`);
  }
  const m = item.measure;
  if (r.result === "pass" && m && (value === null || Number.isFinite(value))) {
    if (value === null) problems.push(`${name}判为合格须填写实测值（${m.name}，${m.unit}）`);
    else if ((m.min != null && value < m.min) || (m.max != null && value > m.max)) {
      problems.push(`${name}实测值 ${value} ${m.unit} 不满足 ${describeMeasure(m)}，不能判为合格`);
    }
  }
  return problems;
}

// The required photos of the items a draft recorded that it has none of, as the server's
// missing_required_photos: an item marked 不适用 needs none, nor one the draft left unanswered.
export function missingRequiredPhotos(template, results) {
  const missing = [];
  for (const node of template.nodes || []) {
    for (const item of node.items) {
      const r = results[item.code];
      if (item.requires_photo && r?.result && r.result !== "na" && !(r.photos || []).length) {
        missing.push({ phase: node.phase, node: node.code, item: item.code, label: `${node.name} · ${item.name}` });
      }
    }
  }
  return missing;
}

export function checkForm(template, draft) {
  const problems = {};
  if (template.outcomes?.length) {
    const o = template.outcomes.find((x) => x.code === draft.outcome);
    if (!o) problems.outcome = "请选择排查结果";
    else {
      // Every fault at once, as the server (check_outcome) reports them.
      const found = [];
      if (o.requires_danger_points && !(draft.danger_points || []).length) found.push(`${o.label}须至少选择一处危险点`);
      if ((draft.photos || []).length < (o.min_photos || 0)) found.push(`${o.label}须至少拍摄 ${o.min_photos} 张房屋照片`);
      if (found.length) problems.outcome = found.join("；");
    }
  }
  const appraisal = template.appraisal_after;
  if (appraisal?.required && !draft.appraisal_after) problems.appraisal_after = `请选择${appraisal.label}`;
  const missing = (template.signoffs || []).filter((s) => !(draft.signoffs?.[s.role] || "").trim());
  if (missing.length) problems.signoffs = `缺少签字：${missing.map((s) => s.label).join("、")}`;
  return problems;
}

// What stops a draft from being saved, in the visit rules' words; each problem names its item
// (or the part of the form) so the form can link to it.
export function formProblems(template, draft) {
  const problems = [];
  const missing = new Set(missingRequiredPhotos(template, draft.results).map((m) => m.item));
  for (const node of template.nodes || []) {
    for (const item of node.items) {
      const r = draft.results[item.code];
      if (!r?.result) continue;
      for (const message of checkResult(item, r)) problems.push({ item: item.code, message });
      if (missing.has(item.code)) problems.push({ item: item.code, message: `「${item.name}」须拍照，请至少拍摄1张照片` });
    }
  }
  for (const [part, message] of Object.entries(checkForm(template, draft))) problems.push({ part, message });
  const answered = Object.values(draft.results).filter((r) => r.result).length;
  if (!answered && !template.outcomes?.length) problems.push({ part: "nodes", message: "请至少填写一项检查结果" });
  return problems;
}

// The outcomes a survey may record for this household. 新发现 is the outcome of a house found on
// the spot (以房找人) and of no listed household; a found house exists, so it is not 房屋已不存在,
// and it may well be 疑似危房 (that is why it was found).
export function surveyOutcomes(template, { found }) {
  const fits = (code) => (found ? code !== "house_gone" && code !== "safe" : code !== "new_found");
  return (template.outcomes || []).filter((o) => fits(o.code));
}

// CATEGORIES and STRUCTURE_TYPES
export const CATEGORIES = {
  lifted_supported: "脱贫享受政策户", lifted_unstable: "脱贫不稳定户", edge_at_risk: "边缘易致贫户",
  dibao: "低保户", tekun: "分散供养特困人员", severe_hardship: "严重困难家庭",
  dibao_edge: "低保边缘家庭", other_lifted: "其他脱贫户", ordinary: "一般农户",
};
export const STRUCTURE_TYPES = ["砖混", "砖木", "土木", "石木", "窑洞", "木结构", "钢混", "彩钢/简易"];

// 居民身份证号 (GB 11643): why it is wrong, in the server's words (backend/services/ids.py), or null.
export function idNumberProblem(raw) {
  const s = String(raw || "").replace(/\s/g, "").toUpperCase();
  if (s.length !== 18) return `身份证号应为18位，实为${s.length}位`;
  if (!/^\d{17}[\dX]$/.test(s)) return "身份证号只能由数字和末位X组成";
  const [y, m, d] = [Number(s.slice(6, 10)), Number(s.slice(10, 12)), Number(s.slice(12, 14))];
  const born = new Date(y, m - 1, d);
  if (born.getFullYear() !== y || born.getMonth() !== m - 1 || born.getDate() !== d || y < 1900 || born > new Date()) {
    return "身份证号中的出生日期无效";
  }
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(s[i]), 0);
  if ("10X98765432"[sum % 11] !== s[17]) return "身份证号校验位错误，请核对";
  return null;
}
