// Review pages: small enhancements; every page works without this module.
import { idNumberProblem } from "../app/rules.js";

// A return needs a comment, a dismissal a reason: say so before the round trip.
function requireTextFor(form) {
  form.addEventListener("submit", (event) => {
    const button = event.submitter;
    const needs = button && button.dataset.needs;
    if (!needs) return;
    const field = form.querySelector(`[name="${needs}"]`);
    if (field && !field.value.trim()) {
      event.preventDefault();
      field.setCustomValidity(button.dataset.message || "请填写");
      field.reportValidity();
      field.addEventListener("input", () => field.setCustomValidity(""), { once: true });
    }
  });
}

// Hovering a point or its legend row lights up both; a point opens its photo.
function linkPlot(root) {
  const rows = new Map();
  root.querySelectorAll("[data-point]").forEach((el) => {
    const key = el.dataset.point;
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key).push(el);
  });
  rows.forEach((els) => {
    const on = () => els.forEach((e) => e.classList.add("hi"));
    const off = () => els.forEach((e) => e.classList.remove("hi"));
    els.forEach((el) => {
      el.addEventListener("mouseenter", on);
      el.addEventListener("mouseleave", off);
      el.addEventListener("focus", on);
      el.addEventListener("blur", off);
      if (el.dataset.href) {
        el.addEventListener("click", () => { window.location.href = el.dataset.href; });
        el.addEventListener("keydown", (event) => {
          if (event.key === "Enter") window.location.href = el.dataset.href;
        });
      }
    });
  });
}

// The viewer: load the original on demand; ← and → page through the case.
function viewer(root) {
  const button = root.querySelector("[data-original]");
  const img = root.querySelector(".stage img");
  if (button && img) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      button.textContent = "正在载入原图…";
      img.addEventListener("load", () => { button.textContent = "已显示原图"; }, { once: true });
      img.src = button.dataset.original;
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select")) return;
    const link = root.querySelector(event.key === "ArrowLeft" ? "[rel=prev]"
      : event.key === "ArrowRight" ? "[rel=next]" : null);
    if (link) window.location.href = link.href;
  });
}

document.querySelectorAll("form[data-require]").forEach(requireTextFor);
document.querySelectorAll("[data-plot]").forEach(linkPlot);
document.querySelectorAll("[data-viewer]").forEach(viewer);

// The application form: ID numbers checked as they are typed (GB 11643, the phone's own rule),
// and more family rows on demand (a copy of the last one, emptied).
function applicationForm(form) {
  const check = (input) => {
    const hint = input.parentElement.querySelector("[data-id-problem]");
    const problem = input.value.trim() ? idNumberProblem(input.value) : null;
    input.setCustomValidity(problem || "");
    if (hint) { hint.textContent = problem || ""; hint.hidden = !problem; }
  };
  form.addEventListener("input", (event) => {
    if (event.target.matches("[data-id-number]")) check(event.target);
  });
  const body = form.querySelector("[data-members]");
  form.querySelector("[data-add-member]")?.addEventListener("click", () => {
    const last = body.lastElementChild;
    const row = last.cloneNode(true);
    const index = body.children.length;
    row.querySelectorAll("input").forEach((input) => {
      input.name = input.name.replace(/member-\d+-/, `member-${index}-`);
      input.value = "";
      input.setCustomValidity("");
    });
    row.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; el.hidden = true; });
    body.append(row);
    row.querySelector("input").focus();
  });
}

document.querySelectorAll("form[data-application]").forEach(applicationForm);

// A table wider than its card scrolls inside it; say so, since a phone shows no scrollbar.
function hintWideTables() {
  for (const wrap of document.querySelectorAll(".table-wrap")) {
    const wide = wrap.scrollWidth > wrap.clientWidth + 1;
    wrap.classList.toggle("scrolls", wide);
    let hint = wrap.previousElementSibling;
    if (!hint || !hint.classList.contains("scroll-hint")) {
      if (!wide) continue;
      hint = document.createElement("p");
      hint.className = "scroll-hint small";
      hint.textContent = wrap.dataset.hint || "表格较宽：左右滑动查看全部列 →";
      wrap.before(hint);
    }
    hint.hidden = !wide;
  }
}
hintWideTables();
window.addEventListener("resize", hintWideTables);
// A position plot wider than a phone opens on its centre, the house.
for (const frame of document.querySelectorAll(".plot-frame")) {
  frame.scrollLeft = (frame.scrollWidth - frame.clientWidth) / 2;
}
