/* Small DOM helpers. Text from the server only ever goes into the page through
 * textContent (el's text argument), never through anything that parses HTML. */

export function $(id) { return document.getElementById(id); }

export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

export function clear(node) {
  while (node.firstChild) { node.removeChild(node.firstChild); }
}

export function option(value, label, selected) {
  var o = el("option", null, label);
  o.value = value;
  if (selected) { o.selected = true; }
  return o;
}
