/* Canned replies: ready-made answers operators insert into a reply (the composer's
 * "Canned replies" picker). Add, edit in place, delete; titles are unique (409 shown on
 * the row or the form). */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, clearErrors, empty, errorText, field, form, row, section, showErrors, submitButton, table } from "./ui.js";

var tbody = null;

export function start(body) {
  var add = section(body, "admin.canned.add", "canned-add");
  var f = form("canned");
  var title = field(f, { name: "title", label: "admin.canned.title" });
  var text = field(f, { name: "text", label: "admin.canned.text", type: "textarea", rows: 3 });
  submitButton(f, "admin.add", "canned-submit");
  add.appendChild(f);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    api("POST", "/canned-replies", { title: title.value, text: text.value }).then(function () {
      title.value = ""; text.value = "";
      load();
    }, function (error) { showErrors(f, error); });
  });
  var list = section(body, "admin.nav.canned", "canned");
  tbody = table(list, [t("admin.canned.title"), t("admin.canned.text"), ""], "canned-list");
  load();
}

function load() {
  return api("GET", "/canned-replies").then(function (rows) {
    clear(tbody);
    if (!rows.length) { empty(tbody, 3); }
    rows.forEach(function (c) {
      var title = el("input");
      title.value = c.title;
      title.setAttribute("aria-label", t("admin.canned.title"));
      title.setAttribute("data-testid", "canned-title");
      var text = el("textarea");
      text.rows = 2;
      text.value = c.text;
      text.setAttribute("aria-label", t("admin.canned.text"));
      text.setAttribute("data-testid", "canned-text");
      var status = el("span", "muted");
      status.setAttribute("data-testid", "canned-status");
      var actions = el("span", "actions");
      actions.appendChild(button(t("admin.save"), function () {
        api("PATCH", "/canned-replies/" + c.id, { title: title.value, text: text.value }).then(load,
          function (e) { status.textContent = errorText(e); });
      }, "canned-save"));
      actions.appendChild(button(t("admin.delete"), function () {
        api("DELETE", "/canned-replies/" + c.id).then(load, function (e) { status.textContent = errorText(e); });
      }, "canned-delete", "danger"));
      actions.appendChild(status);
      row(tbody, [title, text, actions], "canned-row");
    });
  });
}
