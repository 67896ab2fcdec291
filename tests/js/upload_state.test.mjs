// What the phone says about uploads (frontend/static/app/sending.js): one count for the header,
// the household's card and 待上传; each state said once; file names in local time.
import assert from "node:assert/strict";
import { test } from "node:test";

import { badgeText, itemStatus, localStamp, uploadSummary, waitingWords } from "../../frontend/static/app/sending.js";

const photo = (id, extra = {}) => ({ id, type: "photo", size: 1000, status: "pending", ...extra });
const visit = (id, extra = {}) => ({ id, type: "visit", status: "pending", ...extra });

test("a draft's held photos are not waiting to upload, anywhere", () => {
  const s = uploadSummary([photo("a", { held: true }), photo("b"), visit("v")]);
  assert.deepEqual([s.photos, s.visits, s.total, s.held, s.bytes], [1, 1, 2, 1, 1000]);
  assert.equal(waitingWords(s), "1 张照片、1 条检查记录");
  assert.equal(badgeText(uploadSummary([photo("a", { held: true })]), { uploaded: 3 }), "已全部上传 ✓");
});

test("the header never says all is uploaded while something waits", () => {
  const s = uploadSummary([visit("v")]);
  assert.equal(badgeText(s, { uploaded: 9 }), "待上传 1 条");
  assert.equal(badgeText(uploadSummary([visit("v", { status: "failed" })])), "上传失败 1 项");
});

test("an item's state is said once, without the offline error's own words", () => {
  const offline = itemStatus(photo("a", { error: { code: "offline", message: "网络不可用，稍后自动重试" } }));
  assert.equal(offline.text, "待上传（无网络，联网后自动上传）");
  const busy = itemStatus(photo("a", { error: { code: "http_503", message: "服务器错误（503）" } }));
  assert.equal(busy.text, "待上传（上次未成功：服务器错误（503）；将自动重试）");
  assert.equal(itemStatus(photo("a"), { sending: "a" }).text, "上传中…");
  assert.equal(itemStatus(photo("a", { status: "failed", error: { message: "结束时间早于开始时间" } })).code, "failed");
});

test("export names carry the phone's local time, not UTC", () => {
  process.env.TZ = "Asia/Shanghai";
  // 2026-11-30 16:17:42 UTC is 2026-12-01 00:17:42 in China.
  assert.equal(localStamp(new Date(Date.UTC(2026, 10, 30, 16, 17, 42))), "2026-12-01-001742");
});
