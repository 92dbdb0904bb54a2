/* Team: the members with their roles (changed in place), their Telegram user ids (linked
 * in place: "Accept" on an operator alert in Telegram assigns the conversation to the
 * linked member), removal (deactivation in this workspace) and the invitation form (an account with a first password, or an existing
 * account added to the workspace). */

import { api } from "../api.js";
import { CFG } from "../config.js";
import { clear, el, option } from "../dom.js";
import { t } from "../i18n.js";
import { button, clearErrors, errorText, field, form, row, section, showErrors, submitButton, table } from "./ui.js";

var ROLES = ["owner", "admin", "operator"];
var tbody = null;
var note = null;

export function start(body) {
  var list = section(body, "admin.team.members", "team");
  note = el("p", "form-error");
  note.hidden = true;
  note.setAttribute("data-testid", "team-error");
  list.appendChild(note);
  tbody = table(list, [t("admin.team.name"), t("login.email"), t("admin.team.role"), t("admin.team.telegram"), ""], "team-list");
  list.appendChild(el("p", "help", t("admin.team.telegram_help")));
  invite(section(body, "admin.team.invite", "team-invite"));
  load();
}

function fail(error) { note.textContent = errorText(error); note.hidden = false; load(); }

function load() {
  return api("GET", "/members").then(function (members) {
    clear(tbody);
    members.forEach(function (m) {
      var select = el("select");
      select.setAttribute("aria-label", t("admin.team.role"));
      select.setAttribute("data-testid", "member-role");
      ROLES.forEach(function (r) { select.appendChild(option(r, t("role." + r), r === m.role)); });
      select.addEventListener("change", function () {
        note.hidden = true;
        api("PATCH", "/members/" + m.user_id, { role: select.value }).then(load, fail);
      });
      var actions = el("span", "actions");
      if (m.user_id !== CFG.user_id) {
        actions.appendChild(button(t("admin.team.remove"), function () {
          if (!window.confirm(t("admin.team.remove_confirm", { name: m.email }))) { return; }
          note.hidden = true;
          api("DELETE", "/members/" + m.user_id).then(load, fail);
        }, "member-remove", "danger"));
      }
      row(tbody, [m.name || "—", m.email, select, telegramCell(m), actions], "member-row").setAttribute("data-email", m.email);
    });
  });
}

/** The member's Telegram user id, linked with PUT /members/{id}/telegram (empty unlinks). */
function telegramCell(m) {
  var cell = el("span", "telegram-link");
  var input = el("input");
  input.type = "text";
  input.inputMode = "numeric";
  input.size = 12;
  input.value = m.telegram_user_id === null || m.telegram_user_id === undefined ? "" : String(m.telegram_user_id);
  input.setAttribute("aria-label", t("admin.team.telegram"));
  input.setAttribute("data-testid", "member-telegram");
  var done = el("span", "saved");
  done.hidden = true;
  done.setAttribute("data-testid", "member-telegram-saved");
  cell.appendChild(input);
  cell.appendChild(button(t("admin.team.telegram_save"), function () {
    note.hidden = true;
    done.hidden = true;
    var raw = input.value.trim();
    if (raw !== "" && !/^[0-9]{1,16}$/.test(raw)) {
      note.textContent = t("admin.team.telegram_invalid");
      note.hidden = false;
      return;
    }
    var value = raw === "" ? null : Number(raw);
    api("PUT", "/members/" + m.user_id + "/telegram", { telegram_user_id: value }).then(function () {
      done.textContent = value === null ? t("admin.team.telegram_unlinked") : t("admin.team.telegram_saved");
      done.hidden = false;
    }, function (error) { note.textContent = errorText(error); note.hidden = false; });
  }, "member-telegram-save"));
  cell.appendChild(done);
  return cell;
}

function invite(box) {
  var f = form("invite");
  var email = field(f, { name: "email", label: "login.email", type: "email" });
  var name = field(f, { name: "name", label: "admin.team.name" });
  var password = field(f, { name: "password", label: "admin.team.password", type: "password", autocomplete: "new-password", help: "admin.team.password_help" });
  var role = field(f, { name: "role", label: "admin.team.role", type: "select", value: "operator",
    options: ROLES.map(function (r) { return [r, t("role." + r)]; }) });
  submitButton(f, "admin.team.invite_button", "invite-submit");
  var done = el("p", "saved");
  done.hidden = true;
  done.setAttribute("data-testid", "invite-done");
  f.appendChild(done);
  box.appendChild(f);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    done.hidden = true;
    api("POST", "/members", { email: email.value, name: name.value, password: password.value, role: role.value }).then(function (m) {
      done.textContent = t("admin.team.invited", { email: m.email });
      done.hidden = false;
      email.value = ""; name.value = ""; password.value = "";
      load();
    }, function (error) { showErrors(f, error); });
  });
}
