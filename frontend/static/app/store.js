// Cached data for offline use: the session, my households and assignments, checklist templates,
// case timelines and photo thumbnails. Refreshed from the server whenever it can be reached.

import { blob, pages, request } from "./api.js";
import { kvDel, kvGet, kvSet } from "./db.js";
import { SURVEY_KINDS } from "./rules.js";

export const session = () => kvGet("session");

export async function login(username, password) {
  const data = await request("/auth/login", { method: "POST", json: { username, password }, auth: false });
  const previous = await session();
  if (previous && previous.user.id !== data.user.id) {
    await Promise.all(["households", "assignments", "checklists", "regions", "refreshed_at"].map(kvDel));
  }
  await kvSet("session", { token: data.token, expires_at: data.expires_at, user: data.user });
  await kvSet("auth_expired", false);
  return data.user;
}

export async function logout() {
  await kvDel("session");
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
  const mine = await refreshWork();
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
async function refreshWork() {
  const mine = await request("/visits?mine=true").catch(() => ({ items: [] }));
  await kvSet("my_visits", mine.items || []);
  const open = await request("/rectifications?status=open&limit=1000").catch(() => ({ items: [] }));
  await kvSet("open_rectifications", open.items || []);
  return mine.items || [];
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
        outcome_label: visit.outcome_label, revisit_needed: visit.outcome === "nobody_home",
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
  return found.find((f) => !f.row.visited_at || f.row.revisit_needed) || found[0] || null;
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

// A visit draft per household; a found house's reference stands for its registered id once known.
async function draftKey(householdId) {
  return `draft:${await registeredId(householdId)}`;
}
export async function draft(householdId) { return kvGet(await draftKey(householdId)); }
export async function saveDraft(householdId, value) { return kvSet(await draftKey(householdId), value); }
export async function dropDraft(householdId) { return kvDel(await draftKey(householdId)); }
