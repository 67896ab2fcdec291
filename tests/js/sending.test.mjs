// The outbox's order and timing (frontend/static/app/sending.js), without a browser.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Backoff, retryAfterSeconds, sendingOrder, stopsDrain } from "../../frontend/static/app/sending.js";

const item = (id, type, created_at) => ({ id, type, created_at });
const ids = (items) => items.map((i) => i.id);

describe("sendingOrder", () => {
  test("registrations go before photos, photos before visits, whatever their age", () => {
    const queued = [
      item("visit", "visit", "2026-05-01T08:00:00.000Z"),
      item("photo", "photo", "2026-05-01T09:00:00.000Z"),
      item("house", "discovery", "2026-05-01T10:00:00.000Z"),
    ];
    assert.deepEqual(ids(sendingOrder(queued)), ["house", "photo", "visit"]);
  });

  test("oldest first within a type", () => {
    const queued = [
      item("p3", "photo", "2026-05-01T10:00:02.000Z"),
      item("v2", "visit", "2026-05-02T08:00:00.000Z"),
      item("p1", "photo", "2026-05-01T10:00:00.000Z"),
      item("v1", "visit", "2026-05-01T08:00:00.000Z"),
      item("p2", "photo", "2026-05-01T10:00:01.000Z"),
    ];
    assert.deepEqual(ids(sendingOrder(queued)), ["p1", "p2", "p3", "v1", "v2"]);
  });

  test("items of the same type and time keep the order they were listed in", () => {
    const at = "2026-05-01T10:00:00.000Z";
    const queued = ["a", "b", "c", "d"].map((id) => item(id, "photo", at));
    assert.deepEqual(ids(sendingOrder(queued)), ["a", "b", "c", "d"]);
    assert.deepEqual(ids(sendingOrder([...queued].reverse())), ["d", "c", "b", "a"]);
  });

  test("leaves the list it was given as it was", () => {
    const queued = [item("v", "visit", "2026-05-01T08:00:00.000Z"), item("p", "photo", "2026-05-01T08:00:00.000Z")];
    sendingOrder(queued);
    assert.deepEqual(ids(queued), ["v", "p"]);
  });
});

describe("Backoff", () => {
  test("doubles from 2 s after each failure in a row and stops at 5 min", () => {
    const backoff = new Backoff();
    const delays = Array.from({ length: 11 }, () => backoff.failed(0, 0));
    assert.deepEqual(delays, [2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000]);
  });

  test("starts again from 2 s once an item reaches the server", () => {
    const backoff = new Backoff();
    backoff.failed(0, 0);
    backoff.failed(0, 0);
    backoff.failed(0, 0);
    backoff.succeeded();
    assert.equal(backoff.failed(0, 0), 2000);
  });

  test("waits at least as long as the server's Retry-After", () => {
    const backoff = new Backoff();
    assert.equal(backoff.failed(120_000, 1_000), 120_000);
    // A Retry-After shorter than the backoff's own delay does not shorten it.
    backoff.failed(0, 0);
    assert.equal(backoff.failed(1_000, 0), 8000);
  });

  test("automatic attempts wait until the Retry-After has passed", () => {
    const backoff = new Backoff();
    assert.equal(backoff.waiting(0), false);
    backoff.failed(30_000, 1_000);
    assert.equal(backoff.waiting(1_000), true);
    assert.equal(backoff.waiting(30_999), true);
    assert.equal(backoff.waiting(31_000), false);
  });

  test("the retry timer firing, a success or a failure without Retry-After end the wait", () => {
    for (const end of [(b) => b.elapsed(), (b) => b.succeeded(), (b) => b.failed(0, 5_000)]) {
      const backoff = new Backoff();
      backoff.failed(60_000, 0);
      end(backoff);
      assert.equal(backoff.waiting(5_000), false);
    }
  });

  test("the network coming back restarts the delays but keeps the server's Retry-After", () => {
    const backoff = new Backoff();
    backoff.failed(0, 0);
    backoff.failed(0, 0);
    assert.equal(backoff.restart(0), true);  // no Retry-After: the pending timer may go
    assert.equal(backoff.failed(0, 0), 2000);

    backoff.failed(60_000, 0);
    assert.equal(backoff.restart(10_000), false);  // the server's wait still stands
    assert.equal(backoff.waiting(10_000), true);
    assert.equal(backoff.failed(0, 10_000), 2000);
    assert.equal(backoff.restart(70_000), true);
  });
});

describe("retryAfterSeconds", () => {
  const now = Date.parse("2026-05-01T10:00:00Z");

  test("reads seconds", () => {
    assert.equal(retryAfterSeconds("120", now), 120);
    assert.equal(retryAfterSeconds(" 5 ", now), 5);
    assert.equal(retryAfterSeconds("0", now), 0);
  });

  test("reads an HTTP date as the seconds until it, never below zero", () => {
    assert.equal(retryAfterSeconds("Fri, 01 May 2026 10:01:30 GMT", now), 90);
    assert.equal(retryAfterSeconds("Fri, 01 May 2026 09:00:00 GMT", now), 0);
  });

  test("is null when absent or unreadable", () => {
    for (const raw of [null, undefined, "", "soon", "in a minute"]) assert.equal(retryAfterSeconds(raw, now), null, raw);
  });
});

describe("stopsDrain", () => {
  test("offline, 429 and 503 stop the drain; other failures go on to the next item", () => {
    assert.equal(stopsDrain({ status: 0, offline: true }), true);
    assert.equal(stopsDrain({ status: 429, offline: false }), true);
    assert.equal(stopsDrain({ status: 503, offline: false }), true);
    for (const status of [500, 502, 504, 409, 422]) assert.equal(stopsDrain({ status, offline: false }), false, status);
  });
});
