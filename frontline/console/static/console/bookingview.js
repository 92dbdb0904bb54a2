/* Shared pieces of the bookings views: formatting and a booking's detail card with its
 * actions (confirm, reject with a reason, edit). Used by bookings.js (the bookings page)
 * and bookingpanel.js (the panel in the conversation view). */

import { api, failed } from "./api.js";
import { CFG } from "./config.js";
import { clear, el } from "./dom.js";
import { flash } from "./flash.js";
import { t } from "./i18n.js";

export function day(iso) {
  var d = new Date(iso);
  return isNaN(d.getTime()) ? "" : d.toLocaleDateString(CFG.lang, { day: "2-digit", month: "2-digit", year: "numeric" });
}

export function period(b) {
  return day(b.starts_at) + " – " + day(b.ends_at);
}

export function statusText(status) {
  return t("booking.status." + status);
}

function field(form, name, label, value, type) {
  var id = "bk-" + name;
  var wrap = el("p");
  var l = el("label", null, label);
  l.htmlFor = id;
  var input = el("input");
  input.id = id;
  input.name = name;
  input.type = type || "text";
  input.value = value === null || value === undefined ? "" : String(value);
  input.setAttribute("data-testid", id);
  wrap.appendChild(l);
  wrap.appendChild(input);
  form.appendChild(wrap);
}

/** Render booking b into node; onChange(updated) after an action succeeds. */
export function renderDetail(node, b, resourceName, onChange) {
  clear(node);
  node.appendChild(el("h2", null, "#" + b.id + " · " + (resourceName || "")));
  var dl = el("dl", "booking-facts");
  [
    ["bookings.status", statusText(b.status)],
    ["bookings.when", period(b)],
    ["bookings.guests", b.adults + (b.children ? " + " + b.children : "")],
    ["bookings.customer", [b.customer_name, b.customer_phone, b.customer_email].filter(Boolean).join(", ")],
    ["bookings.price", b.total_price + " " + b.currency],
    ["bookings.hold", b.hold_until ? day(b.hold_until) : ""],
    ["bookings.reason", b.reject_reason || ""]
  ].forEach(function (pair) {
    if (!pair[1]) { return; }
    dl.appendChild(el("dt", null, t(pair[0])));
    var dd = el("dd", null, pair[1]);
    dd.setAttribute("data-testid", "bk-fact-" + pair[0].split(".")[1]);
    dl.appendChild(dd);
  });
  node.appendChild(dl);
  if (b.conversation_id) {
    var link = el("a", null, t("bookings.conversation") + " #" + b.conversation_id);
    link.href = "/console/conversations/" + b.conversation_id;
    node.appendChild(link);
  }
  if (b.status !== "pending" && b.status !== "confirmed") { return; }
  function act(path, body, doneKey) {
    return api("POST", "/bookings/" + b.id + path, body).then(function (updated) {
      flash(t(doneKey));
      onChange(updated);
    }, failed);
  }
  var actions = el("div", "actions");
  if (b.status === "pending") {
    var confirm = el("button", "primary", t("bookings.confirm"));
    confirm.type = "button";
    confirm.setAttribute("data-testid", "bk-confirm");
    confirm.addEventListener("click", function () { act("/confirm", undefined, "bookings.done.confirmed"); });
    actions.appendChild(confirm);
    var reason = el("input");
    reason.placeholder = t("bookings.reason");
    reason.setAttribute("aria-label", t("bookings.reason"));
    reason.maxLength = 1000;
    reason.setAttribute("data-testid", "bk-reason");
    var reject = el("button", null, t("bookings.reject"));
    reject.type = "button";
    reject.setAttribute("data-testid", "bk-reject");
    reject.addEventListener("click", function () {
      if (!reason.value.trim()) { flash(t("bookings.reason_required")); reason.focus(); return; }
      act("/reject", { reason: reason.value.trim() }, "bookings.done.rejected");
    });
    actions.appendChild(reason);
    actions.appendChild(reject);
  }
  node.appendChild(actions);
  var form = el("form", "booking-edit");
  form.appendChild(el("h3", null, t("bookings.edit")));
  field(form, "adults", t("bookings.adults"), b.adults, "number");
  field(form, "children", t("bookings.children"), b.children, "number");
  field(form, "customer_name", t("bookings.name"), b.customer_name);
  field(form, "customer_phone", t("bookings.phone"), b.customer_phone);
  field(form, "customer_email", t("bookings.email"), b.customer_email);
  field(form, "notes", t("bookings.notes"), b.notes);
  var save = el("button", null, t("bookings.save"));
  save.type = "submit";
  save.setAttribute("data-testid", "bk-save");
  form.appendChild(save);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {};
    ["adults", "children"].forEach(function (name) { body[name] = Number(form.elements[name].value); });
    ["customer_name", "customer_phone", "customer_email", "notes"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value || name === "notes" || name === "customer_name") { body[name] = value; }
    });
    api("PATCH", "/bookings/" + b.id, body).then(function (updated) {
      flash(t("bookings.done.saved"));
      onChange(updated);
    }, failed);
  });
  node.appendChild(form);
}
