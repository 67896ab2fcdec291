// 登录: once per week in the field; the outbox is never touched by logging in again.

import { html } from "../html.js";
import * as store from "../store.js";
import { $, view } from "../ui.js";

export async function render(ctx) {
  const s = await store.session();
  const expired = ctx.authExpired;
  view(html`
    <h1>登录</h1>
    ${expired ? html`<p class="card error">登录已过期，请重新登录。待上传的照片和记录仍保存在本机，不会丢失。</p>` : ""}
    <form id="login" class="card" autocomplete="on" novalidate>
      <label for="username">用户名</label>
      <input id="username" name="username" autocomplete="username" required value="${s?.user?.username || ""}">
      <label for="password">密码</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <p id="login-error" class="error" hidden></p>
      <p><button class="primary" type="submit">登录</button></p>
    </form>
    <p class="muted small">首次登录需要联网；登录后农户资料会保存在手机上，无信号时也能检查、拍照。在本机联网登录过的用户，无网络时也可用同一密码登录（连续输错 5 次锁定）。</p>`);
  $("#login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = $("#login-error");
    const username = $("#username").value.trim(), password = $("#password").value;
    if (!username || !password) { err.textContent = "请输入用户名和密码"; err.hidden = false; return; }
    const button = ev.target.querySelector("button");
    button.disabled = true;
    button.textContent = "正在登录…";
    try {
      await logIn(username, password, button, ctx);
      ctx.loggedIn();
      location.hash = "#/";
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      button.disabled = false;
      button.textContent = "登录";
    }
  });
}

// Online: the server's token and fresh data. No network: the offline unlock (unlock.js).
async function logIn(username, password, button, ctx) {
  try {
    await store.login(username, password);
  } catch (e) {
    if (!e.offline) throw e;
    button.textContent = "无网络，正在核对本机登录记录…";
    await store.unlock(username, password);  // the offline-login banner says so from now on
    return;
  }
  button.textContent = "正在下载农户资料…";
  await store.refresh();
}
