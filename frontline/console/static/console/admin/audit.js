/* The audit log: who changed what in the workspace, newest first, filtered by action. */

import { api, query } from "../api.js";
import { clear } from "../dom.js";
import { t } from "../i18n.js";
import { button, empty, field, form, formatDate, row, section, showErrors, submitButton, table } from "./ui.js";

var ACTIONS = ["ai_settings", "members", "api_keys", "channels", "platform"];

export function start(body) {
  var box = section(body, null, "audit");
  var f = form("audit");
  f.classList.add("inline-form");
  var action = field(f, { name: "action", label: "admin.audit.action", type: "select",
    options: [["", t("filter.any")]].concat(ACTIONS.map(function (a) { return [a, t("admin.audit.group." + a)]; })) });
  submitButton(f, "admin.analytics.apply");
  box.appendChild(f);
  var tbody = table(box, [t("admin.log.when"), t("admin.audit.actor"), t("admin.audit.action"), t("admin.audit.target"), t("admin.audit.data")], "audit-list");
  var more = null;
  function load(before) {
    return api("GET", "/audit-log" + query({ action: action.value, before: before, limit: 50 })).then(function (page) {
      if (!before) { clear(tbody); }
      if (!before && !page.items.length) { empty(tbody, 5); }
      page.items.forEach(function (e) {
        var name = t("admin.audit.do." + e.action);
        var what = name === "admin.audit.do." + e.action ? e.action : name;  // a new action: its code
        row(tbody, [formatDate(e.created_at), e.actor, what, e.target, JSON.stringify(e.data)], "audit-row")
          .setAttribute("data-action", e.action);
      });
      if (more) { more.remove(); more = null; }
      if (page.next_before) {
        more = button(t("inbox.more"), function () { load(page.next_before); }, "audit-more");
        box.appendChild(more);
      }
    }, function (error) { showErrors(f, error); });
  }
  action.addEventListener("change", function () { load(null); });
  f.addEventListener("submit", function (e) { e.preventDefault(); load(null); });
  load(null);
}
