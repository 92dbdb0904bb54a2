/* Categories of conversations: add, rename in place, delete. Tags (name and colour) that
 * operators put on conversations: add, delete. */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { categoryName } from "../reference.js";
import { button, clearErrors, empty, errorText, field, form, row, section, showErrors, submitButton, table } from "./ui.js";

var tbody = null;
var tagBody = null;

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
  startTags(body);
}

function startTags(body) {
  var list = section(body, "admin.tags.title", "tags");
  tagBody = table(list, [t("admin.cat.name"), t("admin.tags.color"), ""], "tag-list");
  var add = section(body, "admin.tags.add", "tag-add");
  var f = form("tag");
  var name = field(f, { name: "name", label: "admin.cat.name" });
  var color = field(f, { name: "color", label: "admin.tags.color", type: "color", value: "#2563eb" });
  submitButton(f, "admin.add", "tag-submit");
  add.appendChild(f);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    api("POST", "/tags", { name: name.value, color: color.value }).then(function () {
      name.value = "";
      loadTags();
    }, function (error) { showErrors(f, error); });
  });
  loadTags();
}

function loadTags() {
  return api("GET", "/tags").then(function (rows) {
    clear(tagBody);
    if (!rows.length) { empty(tagBody, 3); }
    rows.forEach(function (tag) {
      var chip = el("span", "tag-chip", tag.name);
      chip.style.setProperty("--tag-color", tag.color);
      var status = el("span", "muted");
      var actions = el("span", "actions");
      actions.appendChild(button(t("admin.delete"), function () {
        api("DELETE", "/tags/" + tag.id).then(loadTags, function (e) { status.textContent = errorText(e); });
      }, "tag-delete", "danger"));
      actions.appendChild(status);
      row(tagBody, [chip, tag.color, actions], "tag-row");
    });
  });
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
          function (e) { status.textContent = errorText(e); });
      }, "category-save"));
      actions.appendChild(button(t("admin.delete"), function () {
        api("DELETE", "/categories/" + c.id).then(load, function (e) { status.textContent = errorText(e); });
      }, "category-delete", "danger"));
      actions.appendChild(status);
      row(tbody, [name, categoryName(c), description, actions], "category-row");
    });
  });
}
