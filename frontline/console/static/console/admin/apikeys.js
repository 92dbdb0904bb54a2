/* API keys: the keys with their prefix and last use; a new key is shown once; revoke. */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, clearErrors, empty, field, form, formatDate, row, section, showErrors, showOnce, submitButton, table } from "./ui.js";

var tbody = null;

export function start(body) {
  var add = section(body, "admin.keys.create", "key-create");
  var f = form("api-key");
  var name = field(f, { name: "name", label: "admin.keys.name" });
  var role = field(f, { name: "role", label: "admin.team.role", type: "select", value: "admin",
    options: [["admin", t("role.admin")], ["operator", t("role.operator")]] });
  submitButton(f, "admin.keys.create_button", "key-submit");
  var result = el("div");
  add.appendChild(f);
  add.appendChild(result);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    clear(result);
    api("POST", "/api-keys", { name: name.value, role: role.value }).then(function (k) {
      showOnce(result, "admin.keys.once", k.key, "new-key");
      name.value = "";
      load();
    }, function (error) { showErrors(f, error); });
  });
  var list = section(body, "admin.keys.list", "keys");
  tbody = table(list, [t("admin.keys.name"), t("admin.keys.prefix"), t("admin.team.role"), t("admin.keys.created"), t("admin.keys.state"), ""], "key-list");
  load();
}

function load() {
  return api("GET", "/api-keys").then(function (keys) {
    clear(tbody);
    if (!keys.length) { empty(tbody, 6); }
    keys.forEach(function (k) {
      var actions = el("span", "actions");
      if (!k.revoked_at) {
        actions.appendChild(button(t("admin.keys.revoke"), function () {
          if (!window.confirm(t("admin.keys.revoke_confirm"))) { return; }
          api("DELETE", "/api-keys/" + k.id).then(load);
        }, "key-revoke", "danger"));
      }
      row(tbody, [k.name, k.prefix + "…", t("role." + k.role), formatDate(k.created_at),
        k.revoked_at ? t("admin.keys.revoked") : t("admin.ch.active"), actions], "key-row");
    });
  });
}
