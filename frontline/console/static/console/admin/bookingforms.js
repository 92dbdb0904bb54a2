/* Shared parts of the owner's bookings pages (resources.js, bookingtemplates.js): API
 * errors shown under their fields in the console's language, wall-clock times in a
 * resource's own time zone, a delete button that asks twice. */

import { CFG } from "../config.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";
import { button, showErrors } from "./ui.js";

var BY_FIELD = { timezone: "err.timezone", currency: "err.currency" };

/** The API's error on form f, each failing field's message in the console's language
 * (by the error's type; the server's words when the console has none for it). A
 * duplicate name (409) goes under the name field. */
export function showLocalized(f, error) {
  if (error && error.code === "duplicate_name") {
    error = { status: error.status, message: error.message, fields: [{ loc: ["body", "name"], message: t("err.duplicate_name") }] };
  }
  var fields = (error && error.fields ? error.fields : []).map(function (fe) {
    var loc = fe.loc || [];
    var last = String(loc[loc.length - 1]);
    var key = BY_FIELD[last] && (fe.type === "value_error" || fe.type === "string_pattern_mismatch") ? BY_FIELD[last] : "err." + fe.type;
    return { loc: loc, message: t(key) !== key ? t(key) : fe.message };
  });
  showErrors(f, error ? { status: error.status, message: error.message, code: error.code, fields: fields } : error);
}

/** A field error found before sending (shown like the API's). */
export function fieldError(f, name, key) {
  showErrors(f, { status: 422, message: t(key), fields: [{ loc: ["body", name], message: t(key) }] });
}

function offsetMinutes(utcMillis, zone) {
  var parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit"
  }).formatToParts(new Date(utcMillis));
  var v = {};
  parts.forEach(function (p) { v[p.type] = p.value; });
  var asUtc = Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour, +v.minute, +v.second);
  return Math.round((asUtc - utcMillis) / 60000);
}

function pad(n) { return (n < 10 ? "0" : "") + n; }

/** "2027-06-09T10:00" (a datetime-local value, wall time in zone) as an ISO string with
 * that zone's offset then; "" for an empty or malformed value. */
export function zonedIso(local, zone) {
  var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local || "");
  if (!m) { return ""; }
  var wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  var offset = offsetMinutes(wall, zone);
  offset = offsetMinutes(wall - offset * 60000, zone);
  var sign = offset < 0 ? "-" : "+";
  var abs = Math.abs(offset);
  return local + ":00" + sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
}

/** An instant as "dd.mm.yyyy hh:mm" (RU) or the English form, in zone. */
export function inZone(iso, zone) {
  var d = new Date(iso);
  if (isNaN(d.getTime())) { return "—"; }
  return new Intl.DateTimeFormat(CFG.lang === "ru" ? "ru-RU" : "en-GB", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
  }).format(d);
}

/** A delete button that asks "Delete for good?" on the first click and acts on the second. */
export function deleteButton(onDelete, testid) {
  var armed = false;
  var b = button(t("admin.delete"), function () {
    if (!armed) { armed = true; b.textContent = t("admin.confirm_delete"); return; }
    onDelete();
  }, testid, "danger");
  return b;
}

/** The value of a number input as a number, or null when empty. */
export function numberOrNull(input) {
  var v = input.value.trim();
  return v === "" ? null : Number(v);
}

/** The value of a text input, or null when empty. */
export function textOrNull(input) {
  var v = input.value.trim();
  return v === "" ? null : v;
}

export function heading(parent, text, testid) {
  var h = el("h3", null, text);
  if (testid) { h.setAttribute("data-testid", testid); }
  parent.appendChild(h);
  return h;
}
