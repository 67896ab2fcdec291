// Cached data for offline use: the session, my households and assignments, checklist templates,
// case timelines and photo thumbnails. Refreshed from the server whenever it can be reached.

import { blob, pages, request } from "./api.js";
import { kvDel, kvGet, kvSet } from "./db.js";
import { isChecked, rowDue } from "./progress.js";
import { SURVEY_KINDS } from "./rules.js";
import { makeVerifier, tryUnlock } from "./unlock.js";

export const session = () => kvGet("session");

export async function login(username, password) {
  const data = await request("/auth/login", { method: "POST", json: { username, password }, auth: false });
  const previous = (await session())?.user || (await kvGet("offline_login"))?.user;
  if (previous && previous.id !== data.user.id) {
    await Promise.all(["households", "assignments", "checklists", "regions", "refreshed_at", "my_visits",
      "open_rectifications", "told_returns"].map(kvDel));
  }
  await kvSet("session", { token: data.token, expires_at: data.expires_at, user: data.user });
  await kvSet("auth_expired", false);
  // Only the last user who logged in online may unlock this phone offline (their data is on it).
  await kvSet("offline_login", await makeVerifier(data.user, password));
  unlockedWith = null;
  return data.user;
}

// Offline, the last user who logged in here online gets back in with the same password: the
// cached households and the outbox, no token (uploads wait for an online login).
let unlockedWith = null;  // this page's memory only: to log in online once the network is back
export async function unlock(username, password) {
  const verifier = await kvGet("offline_login");
  if (!verifier || verifier.username !== username) throw new Error("本机没有该用户的登录记录，首次登录需要联网");
  const result = await tryUnlock(verifier, password);
  await kvSet("offline_login", result.verifier);
  if (result.locked && !result.ok) throw new Error("密码错误次数过多，离线登录已锁定，请联网后登录");
  if (!result.ok) throw new Error(`密码错误，还可尝试 ${result.left} 次`);
  await kvSet("session", { token: null, expires_at: null, user: verifier.user, offline: true });
  unlockedWith = { username, password };
  return verifier.user;
}

// Back online after an offline unlock: the password typed then gets a token now.
export async function loginAfterUnlock() {
  const s = await session();
  if (!s?.offline || !unlockedWith) return false;
  await login(unlockedWith.username, unlockedWith.password);
  return true;
}

// Log out: the server revokes the token now, or on the next chance when offline.
export async function logout() {
  const s = await session();
  await kvDel("session");
  unlockedWith = null;
  if (s?.token) await kvSet("revoke", [...((await kvGet("revoke")) || []), s.token]);
  await revokeLoggedOut();
}

export async function revokeLoggedOut() {
  for (const token of (await kvGet("revoke")) || []) {
    try {
      await request("/auth/logout", { method: "POST", auth: false, bearer: token });
    } catch (e) {
      if (e.offline || e.retryable) return;
    }
    await kvSet("revoke", ((await kvGet("revoke")) || []).filter((t) => t !== token));
  }
}

export async function refresh() {
  const [households, assignments, checklists, regionTree] = await Promise.all([
    pages("/households"), request("/me/assignments").catch(() => []), request("/checklists"),
    request("/regions").catch(() => null)]);
  await kvSet("households", households);
  await kvSet("checklists", checklists);
  if (regionTree) await kvSet("regions", regionTree);
  for (const c of checklists) {
    const cached = await kvGet(`template:${c.code}`);
    if (!cached || cached.version !== c.version) await kvSet(`template:${c.code}`, await request(`/checklists/${c.code}`));
  }
  const mine = await refreshWork().catch(() => []);
  // A visit sent while the assignments were on their way is in my visits: count it already.
  for (const v of mine) applyToAssignments(assignments, v);
  // Houses found on the spot and not yet registered stay in their round until they are sent.
  for (const a of await kvGet("assignments") || []) {
    const local = (a.households || []).filter((r) => r.local);
    const fresh = assignments.find((x) => x.round?.id === a.round?.id);
    if (local.length && fresh) fresh.households.push(...local);
  }
  await kvSet("assignments", assignments);
  await kvSet("refreshed_at", new Date().toISOString());
  return households;
}

// The parts that change with every visit: my visits (returned ones first), open rectifications.
// What cannot be fetched now stays as it was cached.
export async function refreshWork() {
  const [mine, open] = await Promise.all([request("/visits?mine=true"),
    request("/rectifications?status=open&limit=1000").catch((e) => { if (e.offline) throw e; return null; })]);
  await kvSet("my_visits", mine.items || []);
  if (open) await kvSet("open_rectifications", open.items || []);
  return mine.items || [];
}

// A returned visit still waiting for its answer to be approved (the server's return_open).
export const returnOpen = (v) => v.return_open ?? v.review_state === "returned";
export const openReturns = async () => (await myVisits()).filter(returnOpen);

// The returned visits answered already (sent, or saved in the outbox `queued`): awaiting review.
export async function answeredReturns(queued) {
  return new Set([...(await myVisits()).map((v) => v.answers_visit_id),
    ...queued.map((i) => i.body?.answers_visit_id)].filter(Boolean));
}

// Open returns the inspector has not been told about yet; told() marks them as told.
export async function untoldReturns() {
  const told = new Set((await kvGet("told_returns")) || []);
  return (await openReturns()).filter((v) => !told.has(v.id));
}
export async function told(ids) {
  await kvSet("told_returns", [...new Set([...((await kvGet("told_returns")) || []), ...ids])]);
}

// A visit the server has just confirmed: keep my visits and my round progress current offline.
export async function recordSentVisit(visit) {
  if (!visit?.id) return;
  const mine = (await myVisits()).filter((v) => v.id !== visit.id);
  await kvSet("my_visits", [visit, ...mine]);
  if (visit.round_id == null) return;
  const list = await assignments();
  applyToAssignments(list, visit);
  await kvSet("assignments", list);
}

function applyToAssignments(list, visit) {
  if (visit.round_id == null) return;
  for (const a of list) {
    if (a.round?.id !== visit.round_id) continue;
    for (const row of a.households || []) {
      if (row.household?.id !== visit.household_id) continue;
      if (row.visited_at && new Date(row.visited_at) >= new Date(visit.ended_at)) continue;
      Object.assign(row, { visited_at: visit.ended_at, outcome: visit.outcome,
        outcome_label: visit.outcome_label, revisit_needed: !isChecked(visit.outcome),
        visit_id: visit.id });
    }
  }
}

// 以房找人: a house found on the spot joins my round at once, under a local reference, so its
// survey can be recorded offline; confirmFound swaps in the household the server registered.
export async function addFound(roundId, ref, household) {
  const list = await assignments();
  const a = list.find((x) => x.round?.id === roundId);
  if (!a) throw new Error("本机没有这轮排查任务");
  a.households.unshift({ household: { ...household, id: ref, current_case: null }, visited_at: null,
    outcome: null, revisit_needed: false, found_in_round: true, visit_id: null, local: true });
  await kvSet("assignments", list);
}

export async function confirmFound(ref, row) {
  const id = row.household.id;
  // First, so that everything saved from now on (an open survey's draft too) uses the id.
  await kvSet(`found:${ref}`, id);
  const list = await assignments();
  for (const a of list) {
    const rows = a.households || [];
    const i = rows.findIndex((r) => r.household?.id === ref);
    if (i < 0) continue;
    // The ID number may name a household already on my list: then it is listed once.
    if (rows.some((r) => r.household?.id === id)) rows.splice(i, 1);
    else rows[i] = row;
  }
  await kvSet("assignments", list);
  const cached = await households();
  if (!cached.some((h) => h.id === id)) await kvSet("households", [...cached, row.household]);
  const pending = await kvGet(`draft:${ref}`);
  if (pending && !(await kvGet(`draft:${id}`))) await kvSet(`draft:${id}`, { ...pending, household_id: id });
  await kvDel(`draft:${ref}`);
}

// The household a local reference became, once the server has registered it.
export const foundAs = (ref) => kvGet(`found:${ref}`);

// A household id as the server knows it, when it does: a found house's reference is replaced.
export async function registeredId(householdId) {
  return typeof householdId === "string" ? (await foundAs(householdId)) ?? householdId : householdId;
}

// Villages of my area inside a round's area (from the cached region tree), for 以房找人.
export async function villagesOf(round) {
  const prefixes = (round.area_codes || []).map(areaPrefix);
  const out = [];
  const walk = (nodes, town) => {
    for (const n of nodes || []) {
      if (n.level === "village" && prefixes.some((p) => n.code.startsWith(p))) out.push({ ...n, town_name: town?.name || "" });
      walk(n.children, n.level === "town" ? n : town);
    }
  };
  walk(await kvGet("regions"));
  return out;
}

// 12-digit region codes: county xxxxxx000000, town xxxxxxxxx000, village: all 12 digits.
function areaPrefix(code) {
  if (code.slice(6) === "000000") return code.slice(0, 6);
  if (code.slice(9) === "000") return code.slice(0, 9);
  return code;
}

// The open round (if any) that asks me to survey this household, preferring one not yet done.
export async function roundOf(householdId) {
  const found = [];
  for (const a of await assignments()) {
    const row = (a.households || []).find((r) => r.household?.id === householdId);
    if (row) found.push({ round: a.round, row, kind: SURVEY_KINDS[a.round?.kind] });
  }
  return found.find((f) => rowDue(f.row)) || found[0] || null;
}

export const households = async () => (await kvGet("households")) || [];
export const assignments = async () => (await kvGet("assignments")) || [];
export const checklists = async () => (await kvGet("checklists")) || [];
export const template = (code) => kvGet(`template:${code}`);
export const openRectifications = async () => (await kvGet("open_rectifications")) || [];
export const myVisits = async () => (await kvGet("my_visits")) || [];
export const refreshedAt = () => kvGet("refreshed_at");

export async function household(id) {
  const list = await households();
  const found = list.find((h) => h.id === id);
  if (found) return found;
  // A house added to a round on the spot (以房找人) may reach my assignments before my list.
  for (const a of await assignments()) {
    const row = (a.households || []).find((r) => r.household?.id === id);
    if (row) return row.household;
  }
  return null;
}

export async function saveHousehold(updated) {
  const list = await households();
  const i = list.findIndex((h) => h.id === updated.id);
  if (i >= 0) list[i] = { ...list[i], ...updated };
  await kvSet("households", list);
}

export async function timeline(caseId) {
  const key = `timeline:${caseId}`;
  try {
    const data = await request(`/cases/${caseId}/timeline`);
    await kvSet(key, data);
    return data;
  } catch (e) {
    if (e.status && e.status !== 0) throw e;
    return kvGet(key);
  }
}

export async function thumbUrl(photoId) {
  const key = `thumb:${photoId}`;
  let bytes = await kvGet(key);
  if (!bytes) {
    const b = await blob(`/photos/${photoId}/content?variant=thumb`);
    bytes = { type: b.type, data: await b.arrayBuffer() };
    await kvSet(key, bytes);
  }
  return URL.createObjectURL(new Blob([bytes.data], { type: bytes.type }));
}

// The photo large enough to look at full screen; its thumbnail when offline.
export async function largeUrl(photoId) {
  try {
    return URL.createObjectURL(await blob(`/photos/${photoId}/content?variant=large`));
  } catch {
    return thumbUrl(photoId);
  }
}

// "node name · item name" of every item in the cached checklists, by item code.
export async function itemNames() {
  const names = new Map();
  for (const c of await checklists()) {
    const t = await template(c.code);
    for (const node of t?.nodes || []) for (const item of node.items) names.set(item.code, `${node.name} · ${item.name}`);
  }
  return names;
}

// A visit draft per household; a found house's reference stands for its registered id once known.
async function draftKey(householdId) {
  return `draft:${await registeredId(householdId)}`;
}
export async function draft(householdId) { return kvGet(await draftKey(householdId)); }
export async function saveDraft(householdId, value) { return kvSet(await draftKey(householdId), value); }
export async function dropDraft(householdId) { return kvDel(await draftKey(householdId)); }

// The required photos the case still lacks, as the server counts them over all its visits
// (missing_photos on the household's case, else on its last fetched timeline).
export async function missingPhotos(h) {
  const c = h?.current_case;
  if (!c) return [];
  if (c.missing_photos) return c.missing_photos;
  if (h.missing_photos) return h.missing_photos;
  return (await kvGet(`timeline:${c.id}`))?.missing_photos || [];
}

// The nodes of the case that have photos already, by phase ("during:wall"), from its timeline.
export async function photographedNodes(caseId) {
  const data = caseId == null ? null : await kvGet(`timeline:${caseId}`);
  const out = new Set();
  for (const p of data?.phases || []) for (const n of p.nodes) if (n.photos.length) out.add(`${p.phase}:${n.node}`);
  return out;
}
