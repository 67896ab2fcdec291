// Offline unlock (frontend/static/app/unlock.js): a salted PBKDF2 verifier, locked after 5 wrong tries.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ITERATIONS, makeVerifier, MAX_TRIES, tryUnlock } from "../../frontend/static/app/unlock.js";

const user = { id: 3, username: "inspector", name: "张工" };

test("the verifier is salted PBKDF2 of at least 600,000 iterations, never the password", async () => {
  assert.ok(ITERATIONS >= 600_000);
  const v = await makeVerifier(user, "s3cret-密码");
  assert.equal(v.iterations, ITERATIONS);
  assert.equal(v.salt.length, 32);
  assert.equal(v.hash.length, 64);
  assert.ok(!JSON.stringify(v).includes("s3cret"));
  const again = await makeVerifier(user, "s3cret-密码");
  assert.notEqual(again.salt, v.salt);
  assert.notEqual(again.hash, v.hash);
  assert.equal((await tryUnlock(v, "s3cret-密码")).ok, true);
});

test("five wrong passwords lock it, even against the right one; a success resets the count", async () => {
  let v = await makeVerifier(user, "right", { iterations: 1000 });
  let r = await tryUnlock(v, "wrong");
  assert.deepEqual([r.ok, r.left, r.locked], [false, 4, false]);
  r = await tryUnlock(r.verifier, "right");
  assert.deepEqual([r.ok, r.verifier.failures], [true, 0]);
  v = r.verifier;
  for (let i = 0; i < MAX_TRIES; i += 1) v = (await tryUnlock(v, `wrong${i}`)).verifier;
  r = await tryUnlock(v, "right");
  assert.deepEqual([r.ok, r.locked, r.left], [false, true, 0]);
});
