// The html`` tagged template (frontend/static/app/html.js): text escaped, markup kept.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { html, setHtml } from "../../frontend/static/app/html.js";

const text = (markup) => String(markup);

describe("html", () => {
  test("escapes every interpolated value, in text and in attributes", () => {
    const name = `王<b>"&'`;
    assert.equal(text(html`<a title="${name}">${name}</a>`),
      `<a title="王&lt;b&gt;&quot;&amp;&#39;">王&lt;b&gt;&quot;&amp;&#39;</a>`);
  });

  test("a plain string that looks like markup is text", () => {
    assert.equal(text(html`<p>${"<script>alert(1)</script>"}</p>`), "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
  });

  test("keeps nested html`` results as markup, escaping only their own values", () => {
    const tag = (label) => html`<span class="tag">${label}</span>`;
    assert.equal(text(html`<li>${tag("A&B")}</li>`), `<li><span class="tag">A&amp;B</span></li>`);
  });

  test("joins arrays, each item escaped unless it is markup", () => {
    const rows = ["<1>", "2"].map((r) => html`<li>${r}</li>`);
    assert.equal(text(html`<ul>${rows}</ul>`), "<ul><li>&lt;1&gt;</li><li>2</li></ul>");
    assert.equal(text(html`${["<a>", html`<b></b>`, [html`<i></i>`, "&"]]}`), "&lt;a&gt;<b></b><i></i>&amp;");
  });

  test("shows null and undefined as nothing, numbers and booleans as their text", () => {
    assert.equal(text(html`[${null}][${undefined}][${0}][${1.5}][${false}]`), "[][][0][1.5][false]");
  });

  test("leaves the literal's own markup as it is", () => {
    assert.equal(text(html`<p class="a">&amp; 'b' "c"</p>`), `<p class="a">&amp; 'b' "c"</p>`);
  });
});

describe("setHtml", () => {
  test("puts markup on the element as it is and plain text escaped", () => {
    const el = {};
    setHtml(el, html`<b>${"1 < 2"}</b>`);
    assert.equal(el.innerHTML, "<b>1 &lt; 2</b>");
    setHtml(el, "<b>not markup</b>");
    assert.equal(el.innerHTML, "&lt;b&gt;not markup&lt;/b&gt;");
    setHtml(el, [html`<i>a</i>`, html`<i>b</i>`]);
    assert.equal(el.innerHTML, "<i>a</i><i>b</i>");
  });
});
