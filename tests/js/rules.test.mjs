// The visit rules the phone applies before saving (frontend/static/app/rules.js) and the form's
// layout (views/checklist.js), without a browser.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { formProgress, planNodes } from "../../frontend/static/app/views/checklist.js";
import { formProblems, missingRequiredPhotos, surveyOutcomes } from "../../frontend/static/app/rules.js";

const load = (name) => JSON.parse(readFileSync(new URL(`../../backend/checklists/${name}.json`, import.meta.url)));
const rebuild = load("rebuild");
const survey = load("routine_survey");
const answer = (result, photos = [], extra = {}) => ({ result, value: "", note: "", photos, ...extra });
const draftOf = (results, extra = {}) => ({ kind: "construction", phase: "during", results, photos: [], signoffs: {}, ...extra });

describe("missingRequiredPhotos", () => {
  test("an answered item that must be photographed and has no photo is missing", () => {
    const missing = missingRequiredPhotos(rebuild, { "trench.soil": answer("pass") });
    assert.deepEqual(missing.map((m) => [m.phase, m.node, m.item]), [["during", "trench", "trench.soil"]]);
    assert.equal(missing[0].label, "基槽/地基 · 基槽土质与地基处理");
  });

  test("a photo, 不适用, an unanswered item or an item needing no photo is not missing", () => {
    const results = { "trench.soil": answer("pass", ["p1"]), "site.safety": answer("na"),
      "wall.materials": answer("pass") };
    assert.deepEqual(missingRequiredPhotos(rebuild, results), []);
    assert.deepEqual(missingRequiredPhotos(rebuild, { "site.area": answer(null) }), []);
  });
});

describe("formProblems", () => {
  test("合格 with no photo on a 须拍照 item stops the save and names the item", () => {
    const problems = formProblems(rebuild, draftOf({ "trench.soil": answer("pass") }));
    assert.deepEqual(problems, [{ item: "trench.soil", message: "「基槽土质与地基处理」须拍照，请至少拍摄1张照片" }]);
  });

  test("不合格 reports the missing photo once, with the missing note, each linked to its item", () => {
    const problems = formProblems(rebuild, draftOf({ "trench.soil": answer("fail") }));
    assert.ok(problems.every((p) => p.item === "trench.soil"));
    assert.equal(problems.filter((p) => p.message.includes("须填写问题说明")).length, 1);
    assert.ok(problems.some((p) => p.message.includes("拍摄1张照片")));
  });

  test("an empty construction form asks for one result; a survey asks for its outcome", () => {
    assert.deepEqual(formProblems(rebuild, draftOf({})), [{ part: "nodes", message: "请至少填写一项检查结果" }]);
    assert.deepEqual(formProblems(survey, draftOf({}, { phase: "before" })), [{ part: "outcome", message: "请选择排查结果" }]);
  });
});

describe("surveyOutcomes", () => {
  const codes = (found) => surveyOutcomes(survey, { found }).map((o) => o.code);
  test("a listed household is never 新发现", () => {
    assert.deepEqual(codes(false), ["safe", "suspected_danger", "nobody_home", "house_gone"]);
  });
  test("a house found on the spot may be 疑似危房, and is not 房屋已不存在", () => {
    assert.deepEqual(codes(true), ["suspected_danger", "nobody_home", "new_found"]);
  });
});

describe("planNodes", () => {
  const codes = (plan) => plan.map((p) => p.node.code);
  test("the phase's nodes with no photos yet first, only the first open; other phases last", () => {
    const plan = planNodes(rebuild, draftOf({}), { photographed: new Set(["trench", "foundation"]) });
    assert.deepEqual(codes(plan).slice(0, 3), ["wall", "tie_column", "ring_beam"]);
    assert.deepEqual(plan.filter((p) => p.open).map((p) => p.node.code), ["wall"]);
    assert.deepEqual(codes(plan).slice(-2), ["site", "final"]);
    assert.deepEqual(plan.filter((p) => p.group === "done").map((p) => p.node.code), ["trench", "foundation"]);
  });

  test("a node the draft has answers in stays open", () => {
    const plan = planNodes(rebuild, draftOf({ "roof.truss": answer("pass", ["p"]) }));
    assert.deepEqual(plan.filter((p) => p.open).map((p) => p.node.code), ["trench", "roof"]);
  });

  test("answering a return opens the returned items' nodes first", () => {
    const plan = planNodes(rebuild, draftOf({}), { focus: new Set(["ring_beam.section"]) });
    assert.equal(plan[0].node.code, "ring_beam");
    assert.deepEqual(plan.filter((p) => p.open).map((p) => p.node.code), ["ring_beam"]);
  });
});

test("formProgress counts the answered items of the draft's phase", () => {
  const p = formProgress(rebuild, draftOf({ "trench.soil": answer("pass"), "site.safety": answer("pass"),
    "wall.bond": answer(null) }));
  assert.deepEqual(p, { answered: 1, total: 22 });
});

test("a node with an item the case lacks a photo of is open too", () => {
  const plan = planNodes(rebuild, draftOf({}), { missing: new Set(["floor.slab_type"]) });
  assert.deepEqual(plan.filter((p) => p.open).map((p) => p.node.code), ["trench", "floor"]);
});

test("a completion visit opens every node of its phase", () => {
  const completion = load("completion");
  const plan = planNodes(completion, draftOf({}, { kind: "completion", phase: "after" }));
  assert.ok(plan.every((p) => p.open));
});
