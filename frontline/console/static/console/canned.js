/* The composer's canned replies: a picker beside the send button lists the tenant's canned
 * replies (GET /api/v1/canned-replies, loaded when first opened and again on each focus, so
 * an admin's new one shows up without a reload); choosing one inserts its text at the
 * cursor of the reply box (the operator edits it and sends as usual). */

import { api } from "./api.js";
import { clear, el, option } from "./dom.js";
import { t } from "./i18n.js";

export function setupCanned(form, textarea) {
  var pick = el("select", "canned-pick");
  pick.id = "canned-pick";
  pick.setAttribute("data-testid", "canned-pick");
  pick.setAttribute("aria-label", t("canned.pick"));
  var replies = {};

  function load() {
    return api("GET", "/canned-replies").then(function (rows) {
      var keep = pick.value;
      clear(pick);
      pick.appendChild(option("", rows.length ? t("canned.pick") : t("canned.none"), true));
      replies = {};
      rows.forEach(function (r) {
        replies[r.id] = r.text;
        pick.appendChild(option(r.id, r.title, false));
      });
      pick.value = keep in replies ? keep : "";
    }, function () { /* the picker stays as it was; sending is unaffected */ });
  }

  pick.addEventListener("focus", load);
  pick.addEventListener("change", function () {
    var text = replies[pick.value];
    pick.value = "";
    if (!text) { return; }
    var start = textarea.selectionStart === undefined ? textarea.value.length : textarea.selectionStart;
    var end = textarea.selectionEnd === undefined ? start : textarea.selectionEnd;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    var caret = start + text.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
  });
  var rowBox = form.querySelector(".row");
  rowBox.insertBefore(pick, rowBox.querySelector("button"));
  load();
}
