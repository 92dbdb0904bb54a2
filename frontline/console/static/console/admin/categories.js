/* Categories of conversations: add, rename in place, delete. */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { categoryName } from "../reference.js";
import { button, clearErrors, empty, field, form, row, section, showErrors, submitButton, table } from "./ui.js";

var tbody = null;

export function start(body) {
  var list = section(body, "admin.nav.categories", "categories");
  tbody = table(list, [t("admin.cat.name"), t("admin.cat.shown"), t("admin.cat.description"), ""], "category-list");
  var add = section(body, "admin.cat.add", "category-add");
  var f = form("category");
  var name = field(f, { name: "name", label: "admin.cat.name" });
  var description = field(f, { name: "description", label: "admin.cat.description" });
  submitButton(f, "admin.add", "category-submit");
  add.appendChild(f);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    api("POST", "/categories", { name: name.value, description: description.value }).then(function () {
      name.value = ""; description.value = "";
      load();
    }, function (error) { showErrors(f, error); });
  });
  load();
}

function load() {
  return api("GET", "/categories").then(function (rows) {
    clear(tbody);
    if (!rows.length) { empty(tbody, 4); }
    rows.forEach(function (c) {
      var name = el("input");
      name.value = c.name;
      name.setAttribute("aria-label", t("admin.cat.name"));
      var description = el("input");
      description.value = c.description || "";
      description.setAttribute("aria-label", t("admin.cat.description"));
      var status = el("span", "muted");
      var actions = el("span", "actions");
      actions.appendChild(button(t("admin.save"), function () {
        api("PATCH", "/categories/" + c.id, { name: name.value, description: description.value }).then(load,
          function (e) { status.textContent = e.message; });
      }, "category-save"));
      actions.appendChild(button(t("admin.delete"), function () {
        api("DELETE", "/categories/" + c.id).then(load, function (e) { status.textContent = e.message; });
      }, "category-delete", "danger"));
      actions.appendChild(status);
      row(tbody, [name, categoryName(c), description, actions], "category-row");
    });
  });
}
