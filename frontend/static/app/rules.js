// The visit rules of the server (backend/services/checklist_specs.py), checked on the phone first.

export const KINDS = {
  construction: "施工巡查/节点检查", completion: "竣工验收", appraisal: "鉴定",
  routine_survey: "常规排查", emergency_survey: "应急排查", spot_check: "第三方核查/抽查",
};
export const PHASES = { before: "改造前", during: "改造中", after: "改造后" };
export const RESULTS = { pass: "合格", fail: "不合格", na: "不适用" };
export const DEFAULT_PHASE = { construction: "during", completion: "after", spot_check: "after",
  routine_survey: "before", emergency_survey: "before", appraisal: "before" };

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
