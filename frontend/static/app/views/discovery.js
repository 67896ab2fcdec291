// 以房找人: register a house found on the spot that is not on my list, offline, with the
// phone's position; it joins the round at once and its survey form opens next.

import * as camera from "../camera.js";
import { html, setHtml } from "../html.js";
import * as outbox from "../outbox.js";
import { CATEGORIES, idNumberProblem, STRUCTURE_TYPES } from "../rules.js";
import * as store from "../store.js";
import { $, $$, view } from "../ui.js";

export async function render(ctx, roundId) {
  const a = (await store.assignments()).find((x) => x.round?.id === roundId);
  if (!a) { location.hash = `#/round/${roundId}`; return; }
  const villages = await store.villagesOf(a.round);
  view(html`
    <p><a href="#/round/${roundId}" class="btn">‹ ${a.round.name}</a></p>
    <h1 id="discovery">新发现房屋（以房找人）</h1>
    <p class="muted small">名单上没有、但住房可能不安全的农户，在现场登记后立即排查。无网络也可登记，联网后自动上传。</p>
    <form id="found" class="card" novalidate>
      <label for="f-name">户主姓名 <span class="req">必填</span></label>
      <input id="f-name" name="name" required maxlength="50" autocomplete="off">
      <label for="f-id">身份证号 <span class="req">必填</span></label>
      <input id="f-id" name="id_number" required maxlength="18" autocomplete="off" inputmode="text" placeholder="18 位，末位可为 X">
      <label for="f-village">所在村 <span class="req">必填</span></label>
      <select id="f-village" name="village_code" required>
        ${villages.length === 1 ? "" : html`<option value="">请选择</option>`}
        ${villages.map((v) => html`<option value="${v.code}">${v.town_name} ${v.name}</option>`)}
      </select>
      ${villages.length ? "" : html`<p class="error">本机没有村名单，请联网后在首页点“刷新”。</p>`}
      <label for="f-category">对象类别 <span class="req">必填</span></label>
      <select id="f-category" name="category" required>
        <option value="">请选择</option>
        ${Object.entries(CATEGORIES).map(([k, label]) => html`<option value="${k}">${label}</option>`)}
      </select>
      <label for="f-phone">联系电话</label>
      <input id="f-phone" name="phone" type="tel" inputmode="tel" maxlength="20">
      <label for="f-family">家庭人口</label>
      <input id="f-family" name="family_size" type="number" inputmode="numeric" min="1" max="30">
      <label for="f-structure">结构类型</label>
      <select id="f-structure" name="structure_type"><option value="">不清楚</option>
        ${STRUCTURE_TYPES.map((t) => html`<option>${t}</option>`)}</select>
      <label for="f-address">详细地址</label>
      <input id="f-address" name="address" maxlength="200" placeholder="如：东坪村三组 12 号">
      <p id="gps" class="gps">正在定位…</p>
      <div id="problems"></div>
      <button class="primary" type="submit">登记并开始排查</button>
    </form>`);

  camera.startPosition();
  const gps = () => {
    const fix = camera.currentFix();
    const el = $("#gps");
    if (!el) return;
    el.className = fix ? (fix.accuracy_m > camera.settings.warnAccuracyM ? "gps warn" : "gps") : "gps bad";
    el.textContent = fix ? `房屋位置取当前定位：精度 ±${Math.round(fix.accuracy_m)} 米${fix.accuracy_m > camera.settings.warnAccuracyM ? "，误差较大，请站到房屋门前" : ""}`
      : `⚠ ${camera.positionError() || "正在定位…"}（须在房屋门前登记）`;
  };
  camera.geo.addEventListener("change", gps);
  ctx.onLeave(() => { camera.geo.removeEventListener("change", gps); camera.stopPosition(); });
  gps();

  $("#found").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(new FormData(ev.target));
    const problems = {};
    if (!values.name.trim()) problems.name = "请填写户主姓名";
    const idProblem = idNumberProblem(values.id_number);
    if (idProblem) problems.id_number = idProblem;
    if (!values.village_code) problems.village_code = "请选择所在村";
    if (!values.category) problems.category = "请选择对象类别";
    const fix = camera.currentFix();
    if (!fix) problems.position = "还没有定位，无法记录房屋位置，请稍候";
    for (const el of $$("[aria-invalid]", ev.target)) el.removeAttribute("aria-invalid");
    for (const key of Object.keys(problems)) ev.target.elements[key]?.setAttribute("aria-invalid", "true");
    setHtml($("#problems"), Object.values(problems).map((p) => html`<p class="error">${p}</p>`));
    if (Object.keys(problems).length) return;

    const body = { name: values.name.trim(), id_number: values.id_number.replace(/\s/g, "").toUpperCase(),
      village_code: values.village_code, category: values.category, lat: fix.lat, lon: fix.lon };
    for (const key of ["phone", "address", "structure_type"]) if (values[key].trim()) body[key] = values[key].trim();
    if (values.family_size) body.family_size = Number(values.family_size);
    const village = villages.find((v) => v.code === body.village_code);
    const ref = `new-${camera.uuid()}`;
    await outbox.addDiscovery(ref, roundId, body);
    await store.addFound(roundId, ref, { name: body.name, id_number: body.id_number,
      id_tail: body.id_number.slice(-4), village_code: body.village_code, village_name: village?.name,
      town_name: village?.town_name, category: body.category, category_label: CATEGORIES[body.category],
      location: { lat: fix.lat, lon: fix.lon, crs: "WGS-84", source: "inspector" } });
    if (navigator.onLine) outbox.drain();
    ctx.toast("已登记，请继续排查并拍照", "ok");
    location.hash = `#/h/${ref}/visit`;
  });
}
