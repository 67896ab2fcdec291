// Where my survey rounds stand on the phone, by the server's one definition of 已查 (checked):
// a row is checked when its visit's outcome is not one of UNCHECKED_OUTCOMES (无人在家 needs a
// revisit). A survey recorded here and still in the outbox counts by the same rule. Pure: Node's
// test runner checks it (tests/js/).

import { UNCHECKED_OUTCOMES } from "./rules.js";

export const isChecked = (outcome) => outcome != null && !UNCHECKED_OUTCOMES.includes(outcome);

// Where one assigned household stands: todo, revisit, waiting (recorded here, not yet sent), done.
export function rowState(round, row, queued) {
  const local = queued.find((i) => i.type === "visit" && i.body?.round_id === round.id
    && i.household_id === row.household?.id);
  if (local) {
    const failed = local.status === "failed" ? "（上传失败）" : "";
    return { code: "waiting", checked: isChecked(local.body.outcome), label: `已记录，待上传${failed}` };
  }
  if (!row.visited_at) return { code: "todo", checked: false, label: "未查" };
  if (!isChecked(row.outcome)) return { code: "revisit", checked: false, label: `需复查：${row.outcome_label || ""}` };
  return { code: "done", checked: true, label: `已查：${row.outcome_label || ""}` };
}

// Whether the inspector still has to survey this row (not yet, or again).
export const rowDue = (row) => !row.visited_at || !isChecked(row.outcome);

export function roundProgress(assignment, queued) {
  const counts = { total: 0, done: 0, waiting: 0, revisit: 0 };
  for (const row of assignment.households || []) {
    const state = rowState(assignment.round, row, queued);
    counts.total += 1;
    if (state.checked) counts.done += 1;
    if (state.code === "waiting") counts.waiting += 1;
    if (state.code === "revisit" || (state.code === "waiting" && !state.checked)) counts.revisit += 1;
  }
  return counts;
}
