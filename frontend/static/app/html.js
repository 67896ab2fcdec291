// Markup from template literals: html`<p>${value}</p>` escapes every interpolated value unless
// it is markup already (another html`` result); an array is its items one after the other, so
// html`<ul>${rows.map((r) => html`<li>${r}</li>`)}</ul>` needs no join. setHtml puts it on the
// page. The only place in the phone app that escapes text.

class Markup {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Markup as it is, arrays joined, anything else (text, numbers; null and undefined as nothing)
// escaped.
function part(value) {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(part).join("");
  return esc(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((value, i) => { out += part(value) + strings[i + 1]; });
  return new Markup(out);
}

// An element's content: html`` markup as it is, plain text escaped.
export function setHtml(element, content) {
  element.innerHTML = part(content);
  return element;
}
