/* The platform superadmin: every tenant with its usage, plan limits edited in place,
 * suspend/resume, and a form for a new tenant with its owner. */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, clearErrors, field, form, formatDate, row, section, showErrors, submitButton, table } from "./ui.js";

var LIMITS = ["conversations_per_month", "operators", "documents"];
var tbody = null;

export function start(body) {
  var list = section(body, "admin.platform.tenants", "tenants");
  tbody = table(list, [t("admin.platform.tenant"), t("admin.platform.usage"), t("admin.platform.limits"), t("admin.ch.state"), ""], "tenant-list");
  create(section(body, "admin.platform.create", "tenant-create"));
  load();
}

function size(bytes) {
  return bytes < 1048576 ? (bytes / 1024).toFixed(1) + " " + t("admin.unit.kb") : (bytes / 1048576).toFixed(1) + " " + t("admin.unit.mb");
}

function load() {
  return api("GET", "/platform/tenants").then(function (tenants) {
    clear(tbody);
    tenants.forEach(function (tn) {
      var u = tn.usage;
      var usage = el("ul", "usage");
      [["admin.platform.conversations", u.conversations + " (" + t("admin.platform.this_month") + ": " + u.conversations_this_month + ")"],
       ["admin.platform.messages", u.messages], ["admin.platform.tokens", u.tokens],
       ["admin.platform.storage", size(u.storage_bytes)], ["admin.platform.members", u.members],
       ["admin.platform.documents", u.documents]].forEach(function (p) { usage.appendChild(el("li", null, t(p[0]) + ": " + p[1])); });
      var f = form("limits-" + tn.slug);
      var inputs = {};
      LIMITS.forEach(function (name) {
        inputs[name] = field(f, { name: name, label: "admin.platform.limit." + name, type: "number", min: 0, value: tn.limits[name] });
      });
      submitButton(f, "admin.save", "limits-save");
      f.addEventListener("submit", function (event) {
        event.preventDefault();
        clearErrors(f);
        var body = {};
        LIMITS.forEach(function (name) { body[name] = inputs[name].value === "" ? null : Number(inputs[name].value); });
        api("PUT", "/platform/tenants/" + tn.id + "/limits", body).then(load, function (error) { showErrors(f, error); });
      });
      var actions = el("span", "actions");
      actions.appendChild(button(tn.suspended ? t("admin.platform.resume") : t("admin.platform.suspend"), function () {
        api("POST", "/platform/tenants/" + tn.id + (tn.suspended ? "/resume" : "/suspend")).then(load);
      }, tn.suspended ? "tenant-resume" : "tenant-suspend", tn.suspended ? null : "danger"));
      var state = tn.suspended ? t("admin.platform.suspended") + " " + formatDate(tn.suspended_at) : t("admin.ch.active");
      row(tbody, [tn.name + " (" + tn.slug + ")", usage, f, state, actions], "tenant-row").setAttribute("data-slug", tn.slug);
    });
  });
}

function create(box) {
  var f = form("tenant");
  var name = field(f, { name: "name", label: "admin.platform.name" });
  var slug = field(f, { name: "slug", label: "admin.platform.slug", help: "admin.platform.slug_help" });
  var locale = field(f, { name: "locale", label: "lang.label", type: "select", value: "ru", options: [["ru", "Русский"], ["en", "English"]] });
  var email = field(f, { name: "owner_email", label: "admin.platform.owner_email", type: "email" });
  var password = field(f, { name: "owner_password", label: "admin.team.password", type: "password", autocomplete: "new-password" });
  submitButton(f, "admin.platform.create_button", "tenant-submit");
  box.appendChild(f);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    api("POST", "/platform/tenants", { name: name.value, slug: slug.value, locale: locale.value, owner_email: email.value, owner_password: password.value })
      .then(function () { name.value = ""; slug.value = ""; email.value = ""; password.value = ""; load(); },
        function (error) { showErrors(f, error); });
  });
}
