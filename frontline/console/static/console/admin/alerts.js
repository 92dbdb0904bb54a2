/* Operator alerts in Telegram (a section of the channels page): the alert bot's token
 * (write-only: the API returns it masked and the field stays empty), the staff chat id,
 * how button presses reach Frontline, on/off, and a test alert whose failure shows
 * Telegram's own words (GET/PUT/DELETE /telegram/alerts, POST /telegram/alerts/test). */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, clearErrors, field, form, section, showErrors, submitButton } from "./ui.js";

var DEFAULT_API = "https://api.telegram.org";

export function start(body) {
  var box = section(body, "admin.alerts.title", "telegram-alerts");
  box.appendChild(el("p", "help", t("admin.alerts.help")));
  var state = el("p", "health");
  state.setAttribute("data-testid", "alerts-state");
  box.appendChild(state);
  var holder = el("div");
  box.appendChild(holder);
  load(holder, state);
}

function showState(state, current) {
  if (!current.configured) {
    state.className = "health";
    state.textContent = t("admin.alerts.state_none");
  } else if (current.enabled) {
    state.className = "health ok";
    state.textContent = t("admin.alerts.state_on", { chat: current.chat_id });
  } else {
    state.className = "health bad";
    state.textContent = t("admin.alerts.state_off");
  }
}

function load(holder, state) {
  return api("GET", "/telegram/alerts").then(function (current) {
    showState(state, current);
    build(holder, state, current);
  });
}

function build(holder, state, current) {
  clear(holder);
  var f = form("alerts");
  var token = field(f, { name: "bot_token", label: "admin.alerts.bot_token", type: "password", autocomplete: "off",
    placeholder: current.configured ? t("admin.alerts.token_kept") : "123456789:AA..." });
  var chat = field(f, { name: "chat_id", label: "admin.alerts.chat_id", value: current.chat_id || "", help: "admin.alerts.chat_help" });
  var mode = field(f, { name: "mode", label: "admin.alerts.mode", type: "select", value: current.mode || "webhook",
    options: [["webhook", t("admin.alerts.mode.webhook")], ["poll", t("admin.alerts.mode.poll")]] });
  var base = field(f, { name: "api_base_url", label: "admin.alerts.api_base_url", type: "url", value: current.api_base_url || DEFAULT_API });
  var enabled = field(f, { name: "enabled", label: "admin.alerts.enabled", type: "checkbox", value: current.configured ? current.enabled : true });
  submitButton(f, "admin.alerts.save", "alerts-save");
  var saved = el("p", "saved", t("admin.alerts.saved"));
  saved.hidden = true;
  saved.setAttribute("data-testid", "alerts-saved");
  f.appendChild(saved);
  var result = el("p", "health");
  result.hidden = true;
  result.setAttribute("data-testid", "alerts-test-result");
  var actions = el("div", "actions");
  var test = button(t("admin.alerts.test"), function () {
    result.hidden = true;
    test.disabled = true;
    api("POST", "/telegram/alerts/test").then(function (r) {
      result.className = "health ok";
      result.textContent = t("admin.alerts.test_ok", { chat: r.chat_id });
    }, function (error) {
      result.className = "health bad";
      result.textContent = t("admin.alerts.test_failed", { message: error.message });
    }).then(function () { result.hidden = false; test.disabled = false; });
  }, "alerts-test");
  test.disabled = !current.configured;
  actions.appendChild(test);
  if (current.configured) {
    actions.appendChild(button(t("admin.alerts.remove"), function () {
      if (!window.confirm(t("admin.alerts.remove_confirm"))) { return; }
      api("DELETE", "/telegram/alerts").then(function () { load(holder, state); }, function (error) { showErrors(f, error); });
    }, "alerts-remove", "danger"));
  }
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    saved.hidden = true;
    result.hidden = true;
    var payload = { chat_id: chat.value.trim(), mode: mode.value, api_base_url: base.value.trim() || DEFAULT_API, enabled: enabled.checked };
    if (token.value) { payload.bot_token = token.value.trim(); }
    api("PUT", "/telegram/alerts", payload).then(function (r) {
      showState(state, r);
      build(holder, state, r);
      holder.querySelector('[data-testid="alerts-saved"]').hidden = false;
    }, function (error) { showErrors(f, error); });
  });
  holder.appendChild(f);
  holder.appendChild(actions);
  holder.appendChild(result);
}
