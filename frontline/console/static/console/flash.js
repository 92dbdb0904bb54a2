/* The flash: a message at the top of the page (errors), hidden again after a while. */

import { $ } from "./dom.js";

var flashTimer = null;

export function flash(message) {
  var node = $("flash");
  node.textContent = message;
  node.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(function () { node.hidden = true; }, 8000);
}
