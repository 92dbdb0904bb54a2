/* Booking condition templates (owners and admins): the list, and one form to create a
 * template or edit the chosen one - prepayment, deposit, payment deadline, cancellation
 * penalties (rule rows), check-in rules and free text for the AI. A failing field shows
 * its error under it; delete asks twice. */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { flash } from "../flash.js";
import { t } from "../i18n.js";
import { deleteButton, heading, numberOrNull, showLocalized, textOrNull } from "./bookingforms.js";
import { button, clearErrors, empty, errorText, field, form, row, section, submitButton, table } from "./ui.js";

var tbody = null;
var editor = null;
var used = {};

export function start(body) {
  var list = section(body, "tpl.list", "templates");
  tbody = table(list, [t("tpl.name"), t("tpl.prepayment"), t("tpl.deposit"), t("tpl.deadline"),
    t("tpl.rules"), t("tpl.used_by"), ""], "template-list");
  editor = section(body, null, "template-editor");
  edit(null);
  load();
}

function rulesText(rules) {
  return (rules || []).map(function (r) {
    return t("tpl.rule_short", { days: r.days_before, penalty: r.penalty_percent });
  }).join("; ") || "—";
}

function load() {
  return Promise.all([api("GET", "/booking-templates"), api("GET", "/resources")]).then(function (got) {
    used = {};
    got[1].forEach(function (r) { if (r.template_id) { used[r.template_id] = (used[r.template_id] || 0) + 1; } });
    clear(tbody);
    if (!got[0].length) { empty(tbody, 7); }
    got[0].forEach(function (tpl) {
      var actions = el("span", "actions");
      actions.appendChild(button(t("admin.edit"), function () { edit(tpl); }, "template-edit"));
      actions.appendChild(deleteButton(function () {
        api("DELETE", "/booking-templates/" + tpl.id).then(function () {
          flash(t("tpl.deleted"));
          edit(null);
          load();
        }, function (e) { flash(errorText(e)); });
      }, "template-delete"));
      var tr = row(tbody, [tpl.name, tpl.prepayment_percent, tpl.deposit_amount, tpl.payment_deadline_days,
        rulesText(tpl.cancellation_rules), String(used[tpl.id] || 0), actions], "template-row");
      tr.dataset.id = tpl.id;
    });
  }, function (e) { flash(errorText(e)); });
}

function ruleRow(box, rule) {
  var line = el("div", "rule-row");
  line.setAttribute("data-testid", "rule-row");
  var days = el("input");
  days.type = "number"; days.min = "0"; days.name = "days_before";
  days.setAttribute("aria-label", t("tpl.rule_days"));
  days.setAttribute("data-testid", "rule-days");
  var penalty = el("input");
  penalty.type = "number"; penalty.min = "0"; penalty.max = "100"; penalty.name = "penalty_percent";
  penalty.setAttribute("aria-label", t("tpl.rule_penalty"));
  penalty.setAttribute("data-testid", "rule-penalty");
  if (rule) { days.value = rule.days_before; penalty.value = rule.penalty_percent; }
  line.appendChild(el("span", "muted", t("tpl.rule_days")));
  line.appendChild(days);
  line.appendChild(el("span", "muted", t("tpl.rule_penalty")));
  line.appendChild(penalty);
  line.appendChild(button(t("admin.remove"), function () { line.remove(); }, "rule-remove"));
  box.appendChild(line);
}

/** The form for a new template (tpl null) or for tpl. */
function edit(tpl) {
  clear(editor);
  heading(editor, tpl ? t("tpl.edit", { name: tpl.name }) : t("tpl.add"), "template-editor-title");
  var f = form("template");
  var v = tpl || {};
  var name = field(f, { name: "name", label: "tpl.name", value: v.name });
  var prepayment = field(f, { name: "prepayment_percent", label: "tpl.prepayment", type: "number", min: 0, max: 100, value: v.prepayment_percent });
  var deposit = field(f, { name: "deposit_amount", label: "tpl.deposit", type: "number", min: 0, step: "0.01", value: v.deposit_amount });
  var deadline = field(f, { name: "payment_deadline_days", label: "tpl.deadline", type: "number", min: 0, value: v.payment_deadline_days });
  // cancellation rules: rows of (days before, penalty %), one error slot for all of them
  var group = el("div", "field field-rules");
  group.appendChild(el("span", "label", t("tpl.rules")));
  var rules = el("div", "rules");
  rules.setAttribute("data-testid", "rules");
  group.appendChild(rules);
  (v.cancellation_rules || []).forEach(function (r) { ruleRow(rules, r); });
  group.appendChild(button(t("tpl.rule_add"), function () { ruleRow(rules, null); }, "rule-add"));
  var rulesError = el("p", "field-error");
  rulesError.hidden = true;
  rulesError.setAttribute("data-error-for", "cancellation_rules");
  rulesError.setAttribute("data-testid", "error-cancellation_rules");
  group.appendChild(rulesError);
  f.appendChild(group);
  var checkin = field(f, { name: "checkin_rules", label: "tpl.checkin", type: "textarea", rows: 2, value: v.checkin_rules });
  var text = field(f, { name: "text", label: "tpl.text", type: "textarea", rows: 4, value: v.text });
  submitButton(f, tpl ? "admin.save" : "admin.add", "template-submit");
  if (tpl) { f.appendChild(button(t("res.cancel_edit"), function () { edit(null); }, "template-cancel")); }
  editor.appendChild(f);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    var body = {
      name: name.value.trim(),
      prepayment_percent: numberOrNull(prepayment),
      deposit_amount: textOrNull(deposit),
      payment_deadline_days: numberOrNull(deadline),
      cancellation_rules: Array.prototype.map.call(rules.querySelectorAll(".rule-row"), function (line) {
        return {
          days_before: numberOrNull(line.querySelector('[name="days_before"]')),
          penalty_percent: numberOrNull(line.querySelector('[name="penalty_percent"]'))
        };
      }),
      checkin_rules: checkin.value,
      text: text.value
    };
    var call = tpl ? api("PATCH", "/booking-templates/" + tpl.id, body) : api("POST", "/booking-templates", body);
    call.then(function () {
      flash(t(tpl ? "tpl.saved" : "tpl.created"));
      edit(null);
      load();
    }, function (error) { showLocalized(f, error); });
  });
}
