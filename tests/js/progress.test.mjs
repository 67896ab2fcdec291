// The phone's one definition of 已查 (frontend/static/app/progress.js), as the server's:
// a survey whose outcome is in UNCHECKED_OUTCOMES (无人在家) is not checked.
import assert from "node:assert/strict";
import { test } from "node:test";

import { isChecked, roundProgress, rowDue, rowState } from "../../frontend/static/app/progress.js";

const round = { id: 7 };
const row = (id, outcome) => ({ household: { id }, visited_at: outcome ? "2026-05-01T08:00:00Z" : null, outcome,
  outcome_label: outcome });
const queuedVisit = (householdId, outcome) => ({ type: "visit", household_id: householdId, status: "pending",
  body: { round_id: 7, outcome } });

test("无人在家 is not 已查, any other outcome is", () => {
  assert.equal(isChecked("nobody_home"), false);
  assert.equal(isChecked(null), false);
  for (const outcome of ["safe", "suspected_danger", "house_gone", "new_found"]) assert.equal(isChecked(outcome), true);
});

test("rows sent and rows waiting in the outbox count by the same rule", () => {
  const a = { round, households: [row(1, "safe"), row(2, "nobody_home"), row(3, null), row(4, null), row(5, null)] };
  const queued = [queuedVisit(4, "suspected_danger"), queuedVisit(5, "nobody_home")];
  assert.deepEqual(roundProgress(a, queued), { total: 5, done: 2, waiting: 2, revisit: 2 });
  assert.equal(rowState(round, a.households[4], queued).checked, false);
  assert.equal(rowState(round, a.households[1], []).code, "revisit");
});

test("a row is due until it is checked", () => {
  assert.equal(rowDue(row(1, null)), true);
  assert.equal(rowDue(row(1, "nobody_home")), true);
  assert.equal(rowDue(row(1, "safe")), false);
});
