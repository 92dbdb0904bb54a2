/* Delivery health of one channel (the channels page): last inbound and outbound message,
 * final failures in the last 24 hours with the latest reason (GET /channels/{id}/health);
 * for a mailbox its IMAP side (GET /channels/{id}/mailbox: last check, last error, IMAP
 * IDLE) beside SMTP (the outbound failures); for Telegram how updates reach Frontline
 * (GET /channels/{id}/telegram: Telegram's own webhook report, or the polling offset). */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, formatDate } from "./ui.js";

function line(list, labelKey, value, testid, bad) {
  var dt = el("dt", null, t(labelKey));
  var dd = el("dd", bad ? "bad" : null, value === null || value === undefined || value === "" ? "—" : value);
  if (testid) { dd.setAttribute("data-testid", testid); }
  list.appendChild(dt);
  list.appendChild(dd);
  return dd;
}

function verdict(box, ok, testid) {
  var p = el("p", ok === null ? "health" : ok ? "health ok" : "health bad",
    ok === null ? t("admin.health.unknown") : ok ? t("admin.health.ok") : t("admin.health.bad"));
  p.setAttribute("data-testid", testid);
  box.appendChild(p);
}

function when(iso) { return iso ? formatDate(iso) : t("admin.health.never"); }

/** Fill holder with the channel's health (replacing what it showed). */
export function show(holder, ch) {
  var calls = [api("GET", "/channels/" + ch.id + "/health")];
  if (ch.type === "mailbox") { calls.push(api("GET", "/channels/" + ch.id + "/mailbox")); }
  if (ch.type === "telegram") { calls.push(api("GET", "/channels/" + ch.id + "/telegram")); }
  return Promise.all(calls).then(function (r) {
    clear(holder);
    var h = r[0];
    holder.appendChild(el("h3", null, ch.type === "mailbox" ? t("admin.health.smtp") : t("admin.health.title")));
    verdict(holder, h.failed_24h === 0, "health-verdict");
    var dl = el("dl", "health-list");
    line(dl, "admin.health.last_inbound", when(h.last_inbound_at), "health-last-inbound");
    line(dl, "admin.health.last_outbound", when(h.last_outbound_at), "health-last-outbound");
    line(dl, "admin.health.failed", String(h.failed_24h), "health-failed", h.failed_24h > 0);
    if (h.last_failure_reason) { line(dl, "admin.health.last_failure", h.last_failure_reason, "health-last-failure", true); }
    holder.appendChild(dl);
    if (ch.type === "mailbox") { mailbox(holder, ch, r[1]); }
    if (ch.type === "telegram") { telegram(holder, r[1]); }
    holder.appendChild(button(t("admin.health.refresh"), function () { show(holder, ch); }, "health-refresh"));
  }, function (error) {
    clear(holder);
    holder.appendChild(el("p", "health bad", error.message));
  });
}

function mailbox(holder, ch, m) {
  var box = el("div", "health-imap");
  box.setAttribute("data-testid", "health-imap");
  box.appendChild(el("h3", null, t("admin.health.imap")));
  verdict(box, m.healthy, "imap-verdict");
  var dl = el("dl", "health-list");
  line(dl, "admin.health.last_poll", when(m.last_poll_at), "imap-last-poll");
  if (m.last_error) { line(dl, "admin.health.last_error", m.last_error, "imap-last-error", true); }
  line(dl, "admin.health.stored", String(m.stored), "imap-stored");
  line(dl, "admin.health.uidvalidity", m.uidvalidity ? m.uidvalidity + " / " + m.last_uid : null, "imap-uid");
  if (m.idle) {
    var idle = line(dl, "admin.health.idle", t("admin.health.idle." + m.idle), "imap-idle", m.idle === "error");
    idle.setAttribute("data-idle", m.idle);
    if (m.idle_error) { line(dl, "admin.health.last_error", m.idle_error, "imap-idle-error", true); }
  }
  box.appendChild(dl);
  var note = el("p", "saved");
  note.hidden = true;
  box.appendChild(button(t("admin.health.poll_now"), function () {
    api("POST", "/channels/" + ch.id + "/mailbox/poll").then(function () {
      note.textContent = t("admin.health.poll_queued");
      note.hidden = false;
    }, function (error) { note.textContent = error.message; note.hidden = false; });
  }, "mailbox-poll"));
  box.appendChild(note);
  holder.appendChild(box);
}

function telegram(holder, s) {
  var box = el("div", "health-telegram");
  box.setAttribute("data-testid", "health-telegram");
  box.appendChild(el("h3", null, t("admin.health.telegram")));
  verdict(box, s.healthy, "telegram-verdict");
  var dl = el("dl", "health-list");
  if (s.mode === "webhook") {
    line(dl, "admin.health.webhook", s.webhook_url || t("admin.health.webhook_none"), "telegram-webhook", s.webhook_url !== s.expected_url);
    if (s.webhook_url !== s.expected_url) { line(dl, "admin.health.webhook_expected", s.expected_url, "telegram-expected"); }
    line(dl, "admin.health.pending", s.pending_update_count === null ? null : String(s.pending_update_count), "telegram-pending");
  } else {
    line(dl, "admin.health.poll_offset", s.poll_offset === null ? null : String(s.poll_offset), "telegram-offset");
  }
  if (s.last_error_message) { line(dl, "admin.health.last_error", formatDate(s.last_error_at) + ": " + s.last_error_message, "telegram-last-error", true); }
  if (s.error) { line(dl, "admin.health.telegram_error", s.error, "telegram-error", true); }
  box.appendChild(dl);
  holder.appendChild(box);
}
