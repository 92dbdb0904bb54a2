/* AI settings: the provider fallback chain, the model's parameters, the prompt and tone,
 * the switches and the handoff rules (escalation keywords); saved with PUT
 * /api/v1/ai/settings, whose 422 names the failing fields (nothing is saved then). Below,
 * the "test the AI" box: POST /api/v1/ai/test answers a question with the saved settings and
 * shows the decision, the confidence and the knowledge it was given. */

import { api } from "../api.js";
import { CFG } from "../config.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, clearErrors, field, form, row, section, showErrors, submitButton, table } from "./ui.js";

export function start(body) {
  var box = section(body, "admin.ai.settings", "ai-settings");
  var testBox = section(body, "admin.ai.test", "ai-test");
  api("GET", "/ai/settings").then(function (s) { settingsForm(box, s); });
  tryBox(testBox);
}

function kinds() {
  return CFG.provider_kinds.filter(function (k) { return k !== "local"; }).map(function (k) { return [k, k]; });
}

function chainRow(list, entry, index) {
  var item = el("fieldset", "chain-entry");
  item.setAttribute("data-testid", "chain-entry");
  item.appendChild(el("legend", null, t("admin.ai.link", { n: index + 1 })));
  var f = list.closest("form");
  var prefix = "provider_chain." + index + ".";
  var kind = field(f, { name: prefix + "kind", rawLabel: t("admin.ai.kind"), type: "select", options: kinds(), value: entry.kind, into: item });
  var model = field(f, { name: prefix + "model", rawLabel: t("admin.ai.model"), value: entry.model, into: item });
  var key = field(f, { name: prefix + "api_key", rawLabel: t("admin.ai.api_key"), type: "password", autocomplete: "off",
    placeholder: entry.has_api_key ? t("admin.ai.key_kept") : "", into: item });
  item.appendChild(button(t("admin.remove"), function () { item.remove(); }, "chain-remove"));
  item._entry = function () {
    var out = { kind: kind.value, model: model.value.trim() };
    if (entry.id && entry.kind === kind.value) { out.id = entry.id; }
    if (key.value) { out.api_key = key.value; }
    return out;
  };
  list.appendChild(item);
}

function settingsForm(box, s) {
  clear(box);
  box.appendChild(el("h2", null, t("admin.ai.settings")));
  var f = form("ai");
  var chain = el("div", "chain");
  chain.setAttribute("data-testid", "chain");
  f.appendChild(el("h3", null, t("admin.ai.chain")));
  f.appendChild(el("p", "help", t("admin.ai.chain_help")));
  f.appendChild(chain);
  var chainError = el("p", "field-error");
  chainError.hidden = true;
  chainError.setAttribute("data-error-for", "provider_chain");
  chainError.setAttribute("data-testid", "error-provider_chain");
  f.appendChild(chainError);
  s.provider_chain.forEach(function (entry, i) { chainRow(chain, entry, i); });
  f.appendChild(button(t("admin.ai.add_link"), function () {
    chainRow(chain, { kind: "offline", model: "offline" }, chain.children.length);
  }, "chain-add"));
  var inputs = {
    ai_enabled: field(f, { name: "ai_enabled", label: "admin.ai.ai_enabled", type: "checkbox", value: s.ai_enabled }),
    auto_reply: field(f, { name: "auto_reply", label: "admin.ai.auto_reply", type: "checkbox", value: s.auto_reply }),
    auto_booking: field(f, { name: "auto_booking", label: "admin.ai.auto_booking", type: "checkbox", value: s.auto_booking }),
    offline_fallback: field(f, { name: "offline_fallback", label: "admin.ai.offline_fallback", type: "checkbox", value: s.offline_fallback }),
    temperature: field(f, { name: "temperature", label: "admin.ai.temperature", type: "number", step: "0.1", value: s.temperature, help: "admin.ai.temperature_help" }),
    max_tokens: field(f, { name: "max_tokens", label: "admin.ai.max_tokens", type: "number", value: s.max_tokens }),
    history_size: field(f, { name: "history_size", label: "admin.ai.history_size", type: "number", value: s.history_size }),
    system_prompt: field(f, { name: "system_prompt", label: "admin.ai.system_prompt", type: "textarea", rows: 6, value: s.system_prompt }),
    answer_style: field(f, { name: "answer_style", label: "admin.ai.answer_style", value: s.answer_style, help: "admin.ai.answer_style_help" }),
    escalation_keywords: field(f, { name: "escalation_keywords", label: "admin.ai.keywords", type: "textarea", rows: 3,
      value: s.escalation_keywords.join("\n"), help: "admin.ai.keywords_help" }),
    out_of_scope_examples: field(f, { name: "out_of_scope_examples", label: "admin.ai.out_of_scope", type: "textarea", rows: 4,
      value: s.out_of_scope_examples.join("\n"), help: "admin.ai.out_of_scope_help" })
  };
  var rules = behaviour(f, s);
  var screening = moderation(f, s.moderation);
  var saved = el("p", "saved");
  saved.hidden = true;
  saved.setAttribute("data-testid", "ai-saved");
  submitButton(f, "admin.save", "ai-save");
  f.appendChild(saved);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    saved.hidden = true;
    var payload = {
      provider_chain: Array.prototype.map.call(chain.children, function (item) { return item._entry(); }),
      ai_enabled: inputs.ai_enabled.checked,
      auto_reply: inputs.auto_reply.checked,
      auto_booking: inputs.auto_booking.checked,
      offline_fallback: inputs.offline_fallback.checked,
      temperature: inputs.temperature.value === "" ? null : Number(inputs.temperature.value),
      max_tokens: inputs.max_tokens.value === "" ? null : Number(inputs.max_tokens.value),
      history_size: inputs.history_size.value === "" ? null : Number(inputs.history_size.value),
      system_prompt: inputs.system_prompt.value,
      answer_style: inputs.answer_style.value,
      escalation_keywords: inputs.escalation_keywords.value.split(/\n|,/).map(function (k) { return k.trim(); }).filter(Boolean),
      out_of_scope_examples: inputs.out_of_scope_examples.value.split("\n").map(function (k) { return k.trim(); }).filter(Boolean)
    };
    Object.assign(payload, rules());
    payload.moderation = screening();
    api("PUT", "/ai/settings", payload).then(function (fresh) {
      settingsForm(box, fresh);
      var again = box.querySelector('[data-testid="ai-saved"]');
      again.textContent = t("admin.saved");
      again.hidden = false;
    }, function (error) { showErrors(f, error); });
  });
  box.appendChild(f);
}

var DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/* Languages, auto-reply per channel, the handoff threshold and working hours; returns a
 * function giving their part of the PUT payload. */
function behaviour(f, s) {
  f.appendChild(el("h3", null, t("admin.ai.behaviour")));
  var langs = el("fieldset", "languages");
  langs.appendChild(el("legend", null, t("admin.ai.languages")));
  var langInputs = ["ru", "en"].map(function (code) {
    return [code, field(f, { name: "lang_" + code, rawLabel: t("lang." + code), type: "checkbox",
      value: s.reply_languages.indexOf(code) >= 0, into: langs })];
  });
  langs.appendChild(el("small", "help", t("admin.ai.languages_help")));
  var langError = el("p", "field-error");
  langError.hidden = true;
  langError.setAttribute("data-error-for", "reply_languages");
  langs.appendChild(langError);
  f.appendChild(langs);
  var threshold = field(f, { name: "handoff_threshold", label: "admin.ai.threshold", type: "number", step: "0.05",
    min: "0", max: "1", value: s.handoff_threshold, help: "admin.ai.threshold_help" });
  var perChannel = el("fieldset", "channel-auto-reply");
  perChannel.setAttribute("data-testid", "channel-auto-reply");
  perChannel.appendChild(el("legend", null, t("admin.ai.channel_auto_reply")));
  f.appendChild(perChannel);
  var channelInputs = [];
  api("GET", "/channels").then(function (channels) {
    (channels.items || channels).forEach(function (ch) {
      var stored = s.channel_auto_reply[ch.id];
      var value = stored === undefined ? "" : (stored ? "on" : "off");
      var kind = t("channel.type." + ch.type);
      kind = kind === "channel.type." + ch.type ? ch.type : kind;
      var input = field(f, { name: "auto_reply_" + ch.id, rawLabel: ch.name + " (" + kind + ")", type: "select",
        options: [["", t("admin.ai.as_default")], ["on", t("admin.ai.on")], ["off", t("admin.ai.off")]], value: value, into: perChannel });
      channelInputs.push([ch.id, input]);
    });
  });
  var hours = el("fieldset", "working-hours");
  hours.setAttribute("data-testid", "working-hours");
  hours.appendChild(el("legend", null, t("admin.ai.working_hours")));
  var wh = s.working_hours;
  var enabled = field(f, { name: "hours_enabled", label: "admin.ai.hours_enabled", type: "checkbox", value: !!wh, into: hours });
  var zone = field(f, { name: "timezone", label: "admin.ai.timezone", value: wh ? wh.timezone : "Europe/Moscow", into: hours });
  var dayInputs = DAYS.map(function (d, i) {
    var day = wh ? wh.days[i] : (i < 5 ? { start: "09:00", end: "18:00" } : null);
    var line = el("div", "day-hours");
    line.setAttribute("data-testid", "hours-" + d);
    line.appendChild(el("span", "day-name", t("day." + d)));
    var start = field(f, { name: "start_" + d, rawLabel: t("admin.ai.from"), type: "time", value: day ? day.start : "", into: line });
    var end = field(f, { name: "end_" + d, rawLabel: t("admin.ai.to"), type: "time", value: day ? day.end : "", into: line });
    hours.appendChild(line);
    return [start, end];
  });
  hours.appendChild(el("small", "help", t("admin.ai.hours_help")));
  var hoursError = el("p", "field-error");
  hoursError.hidden = true;
  hoursError.setAttribute("data-error-for", "working_hours");
  hoursError.setAttribute("data-testid", "error-working_hours");
  hours.appendChild(hoursError);
  f.appendChild(hours);
  return function () {
    var auto = {};
    channelInputs.forEach(function (pair) { if (pair[1].value) { auto[pair[0]] = pair[1].value === "on"; } });
    return {
      reply_languages: langInputs.filter(function (p) { return p[1].checked; }).map(function (p) { return p[0]; }),
      handoff_threshold: threshold.value === "" ? 0 : Number(threshold.value),
      channel_auto_reply: auto,
      working_hours: enabled.checked ? {
        timezone: zone.value.trim(),
        days: dayInputs.map(function (p) { return p[0].value || p[1].value ? { start: p[0].value, end: p[1].value } : null; })
      } : null
    };
  };
}

var RULES = ["profanity", "flood", "spam", "link_only"];
var THRESHOLDS = [["flood_messages", 2, 100], ["flood_seconds", 1, 3600], ["spam_repeats", 2, 20],
  ["spam_window_seconds", 10, 86400]];

/* Moderation before the AI: a mode per rule (off | flag | hold) and the flood and spam
 * thresholds; returns a function giving the PUT payload's ``moderation``. */
function moderation(f, m) {
  var box = el("fieldset", "moderation");
  box.setAttribute("data-testid", "moderation");
  box.appendChild(el("legend", null, t("admin.ai.moderation")));
  var modes = [["off", t("admin.ai.mode.off")], ["flag", t("admin.ai.mode.flag")], ["hold", t("admin.ai.mode.hold")]];
  var ruleInputs = RULES.map(function (rule) {
    return [rule, field(f, { name: rule, label: "admin.ai.rule." + rule, type: "select", options: modes, value: m[rule], into: box })];
  });
  var numberInputs = THRESHOLDS.map(function (n) {
    return [n[0], field(f, { name: n[0], label: "admin.ai." + n[0], type: "number", step: "1", min: String(n[1]),
      max: String(n[2]), value: m[n[0]], into: box })];
  });
  box.appendChild(el("small", "help", t("admin.ai.moderation_help")));
  var error = el("p", "field-error");
  error.hidden = true;
  error.setAttribute("data-error-for", "moderation");
  error.setAttribute("data-testid", "error-moderation");
  box.appendChild(error);
  f.appendChild(box);
  return function () {
    var out = {};
    ruleInputs.forEach(function (p) { out[p[0]] = p[1].value; });
    numberInputs.forEach(function (p) { if (p[1].value !== "") { out[p[0]] = Number(p[1].value); } });
    return out;
  };
}

function tryBox(box) {
  var f = form("ai-test");
  var q = field(f, { name: "question", label: "admin.ai.question", type: "textarea", rows: 2 });
  submitButton(f, "admin.ai.ask", "ai-ask");
  box.appendChild(f);
  var out = el("div", "try-out");
  out.setAttribute("data-testid", "ai-test-result");
  box.appendChild(out);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    clear(out);
    out.appendChild(el("p", "muted", t("inbox.loading")));
    api("POST", "/ai/test", { question: q.value }).then(function (r) {
      clear(out);
      var dl = el("dl", "facts");
      [["ai.decision", t("decision." + r.decision), "try-decision"],
       ["admin.ai.confidence", r.confidence.toFixed(2) + " (0–1)", "try-confidence"],
       ["admin.ai.threshold", r.threshold > 0 ? r.threshold.toFixed(2) + " — " +
         t(r.below_threshold ? "admin.ai.below_threshold" : "admin.ai.above_threshold") : t("admin.ai.threshold_off"), "try-threshold"],
       ["admin.ai.provider", r.attempts.map(function (a) { return a.provider + (a.error ? " ✗" : " ✓"); }).join(" → "), "try-provider"],
       ["admin.ai.latency", r.latency_ms + " " + t("admin.unit.ms"), "try-latency"]].forEach(function (fact) {
        dl.appendChild(el("dt", null, t(fact[0])));
        var dd = el("dd", null, fact[1]);
        dd.setAttribute("data-testid", fact[2]);
        dl.appendChild(dd);
      });
      out.appendChild(dl);
      var reply = el("blockquote", "try-reply", r.reply);
      reply.setAttribute("data-testid", "try-reply");
      out.appendChild(reply);
      if (r.handoff_reason) {
        // a known reason in the reader's language (with its evidence); any other as it was said
        var known = r.handoff_reason_code && r.handoff_reason_code !== "other";
        var why = known ? t("reason." + r.handoff_reason_code) : r.handoff_reason;
        if (known && r.handoff_reason_detail) { why += " (" + r.handoff_reason_detail + ")"; }
        var reason = el("p", "muted", t("ai.handoff_reason") + ": " + why);
        reason.setAttribute("data-testid", "try-reason");
        out.appendChild(reason);
      }
      out.appendChild(el("h3", null, t("admin.ai.sources")));
      var tbody = table(out, [t("admin.ai.source"), t("admin.ai.score"), t("admin.ai.cited"), t("admin.ai.text")], "try-sources");
      if (!r.sources.length) { row(tbody, [t("admin.ai.no_sources"), "", "", ""]); }
      r.sources.forEach(function (s) { row(tbody, [s.title, s.score.toFixed(3), s.cited ? "✓" : "", s.text]); });
    }, function (error) { clear(out); showErrors(f, error); });
  });
}
