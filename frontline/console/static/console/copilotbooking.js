/* "Create a booking from this chat" in the copilot panel (templates/copilot.html): the
 * copilot reads the booking request from the conversation (POST .../copilot/booking), the
 * form opens pre-filled with what the chat says and names what it does not; the operator
 * checks it and saves, which creates the booking through the ordinary bookings API, linked
 * to the conversation and its contact (pending, or confirmed at once when ticked). */

import { api } from "./api.js";
import { day } from "./bookingview.js";
import { $, clear, option } from "./dom.js";
import { t } from "./i18n.js";

var current = { id: null, resources: [], draft: null };

function notice(text) {
  var node = $("copilot-booking-notice");
  node.textContent = text || "";
  node.hidden = !text;
}

function close() {
  $("copilot-booking-form").hidden = true;
}

/** An ISO time as the value of a datetime-local input (the browser's local time). */
function localInput(iso) {
  if (!iso) { return ""; }
  var d = new Date(iso);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function resource() {
  var id = $("cb-resource").value;
  return current.resources.find(function (r) { return r.id === id; }) || null;
}

function showDepartures(selected) {
  var r = resource();
  var departures = !!r && r.availability === "departures";
  $("cb-departure-row").hidden = !departures;
  $("cb-dates-row").hidden = !r || departures;
  var select = $("cb-departure");
  clear(select);
  if (!departures) { return Promise.resolve(); }
  var id = current.id;
  return api("GET", "/resources/" + r.id + "/departures?start=" +
    encodeURIComponent(new Date().toISOString())).then(function (rows) {
    if (current.id !== id) { return; }
    clear(select);
    if (!rows.length) { select.appendChild(option("", t("copilot.book_none"), true)); }
    rows.forEach(function (d) {
      select.appendChild(option(d.id, day(d.starts_at) + " – " + day(d.ends_at) +
        " (" + d.free_places + ")", d.id === selected));
    });
  });
}

function fill(draft) {
  var select = $("cb-resource");
  clear(select);
  select.appendChild(option("", t("copilot.book_choose"), !draft.resource_id));
  current.resources.forEach(function (r) {
    select.appendChild(option(r.id, r.name, r.id === draft.resource_id));
  });
  $("cb-starts").value = localInput(draft.starts_at);
  $("cb-ends").value = localInput(draft.ends_at);
  $("cb-adults").value = draft.adults || "";
  $("cb-name").value = draft.customer_name || "";
  $("cb-phone").value = draft.customer_phone || "";
  $("cb-email").value = draft.customer_email || "";
  $("cb-confirm").checked = false;
  var missing = draft.missing.map(function (m) { return t("copilot.missing." + m); });
  $("cb-missing").textContent = missing.length
    ? t("copilot.book_missing", { fields: missing.join(", ") })
    : t("copilot.book_complete");
  $("copilot-booking-form").hidden = false;
  return showDepartures(draft.departure_id);
}

function open() {
  if (!current.id) { return; }
  var id = current.id;
  var button = $("copilot-book");
  button.disabled = true;
  notice(t("copilot.working"));
  Promise.all([
    api("POST", "/conversations/" + id + "/copilot/booking", {}),
    api("GET", "/resources")
  ]).then(function (found) {
    if (current.id !== id) { return null; }
    current.draft = found[0];
    current.resources = found[1].filter(function (r) { return r.active; });
    notice(found[0].degraded ? t("copilot.down") : "");
    return fill(found[0]);
  }).catch(function (error) {
    if (current.id === id) { notice(t("copilot.failed", { message: error.message })); }
  }).then(function () { button.disabled = false; });
}

function body() {
  var r = resource();
  var out = {
    resource_id: r ? r.id : null,
    adults: Number($("cb-adults").value),
    customer_name: $("cb-name").value.trim(),
    customer_phone: $("cb-phone").value.trim() || null,
    customer_email: $("cb-email").value.trim() || null,
    conversation_id: current.id,
    locale: current.draft ? current.draft.locale : null
  };
  if (r && r.availability === "departures") {
    out.departure_id = $("cb-departure").value || null;
  } else {
    out.starts_at = $("cb-starts").value ? new Date($("cb-starts").value).toISOString() : null;
    out.ends_at = $("cb-ends").value ? new Date($("cb-ends").value).toISOString() : null;
  }
  return out;
}

function save(event) {
  event.preventDefault();
  if (!current.id) { return; }
  var id = current.id;
  var confirmNow = $("cb-confirm").checked;
  api("POST", "/bookings", body()).then(function (booking) {
    return confirmNow ? api("POST", "/bookings/" + booking.id + "/confirm", {}) : booking;
  }).then(function (booking) {
    if (current.id !== id) { return; }
    close();
    notice(t("copilot.book_created", { id: booking.id, status: t("booking.status." + booking.status) }));
  }).catch(function (error) {
    if (current.id === id) { notice(t("copilot.failed", { message: error.message })); }
  });
}

function follow(conversation) {
  if (conversation.id === current.id) { return; }
  current = { id: conversation.id, resources: [], draft: null };
  notice("");
  close();
}

export function wire() {
  document.addEventListener("console:conversation", function (event) { follow(event.detail); });
  $("copilot-book").addEventListener("click", open);
  $("cb-resource").addEventListener("change", function () { showDepartures(null); });
  $("cb-cancel").addEventListener("click", close);
  $("copilot-booking-form").addEventListener("submit", save);
}
