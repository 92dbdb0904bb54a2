/* The contact's profile (templates/contact_profile.html): whether the host site identified
 * them, their typed custom attributes (editable), their bookings (upcoming, then recent),
 * their past conversations, and merging
 * another contact into this one (recorded on the server). Follows the open conversation
 * through the "console:conversation" event. */

import { api } from "./api.js";
import { period, statusText } from "./bookingview.js";
import { $, clear, el } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { on } from "./socket.js";

var shown = { contact: null, conversation: null };

function notice(text) {
  $("profile-notice").textContent = text || "";
  $("profile-notice").hidden = !text;
}

function valueText(value) {
  if (value === true) { return t("profile.yes"); }
  if (value === false) { return t("profile.no"); }
  return String(value);
}

function render(contact) {
  var user = $("profile-user");
  user.hidden = !contact.user_id;
  user.textContent = contact.user_id ? t("profile.user", { id: contact.user_id }) : "";
  var dl = $("profile-attributes");
  clear(dl);
  var keys = Object.keys(contact.attributes || {}).sort();
  keys.forEach(function (key) {
    dl.appendChild(el("dt", null, key));
    var dd = el("dd", null, valueText(contact.attributes[key]));
    dd.setAttribute("data-key", key);
    dl.appendChild(dd);
  });
  $("profile-no-attributes").hidden = keys.length > 0;
}

function renderHistory(conversations) {
  var list = $("profile-history");
  clear(list);
  conversations.forEach(function (c) {
    var item = el("li");
    if (c.id === shown.conversation) {
      item.appendChild(el("span", null, "#" + c.id + " · " + t("profile.this")));
    } else {
      var link = el("a", null, "#" + c.id + " · " + t("status." + c.status));
      link.href = "/console/conversations/" + c.id;
      item.appendChild(link);
    }
    item.appendChild(el("span", "muted", " " + formatTime(c.last_activity_at)));
    list.appendChild(item);
  });
}

function renderBookings(found) {
  var list = $("profile-bookings");
  clear(list);
  [["upcoming", found.upcoming], ["recent", found.recent]].forEach(function (group) {
    group[1].forEach(function (b) {
      var item = el("li", null, "#" + b.id + " · " + b.resource_name + " · " + period(b) +
        " · " + statusText(b.status));
      item.setAttribute("data-testid", "profile-booking");
      item.setAttribute("data-group", group[0]);
      list.appendChild(item);
    });
  });
  $("profile-no-bookings").hidden = found.upcoming.length + found.recent.length > 0;
}

function loadBookings(contactId) {
  return api("GET", "/contacts/" + contactId + "/bookings").then(function (found) {
    if (shown.contact === contactId) { renderBookings(found); }
  });
}

function load(contactId) {
  return Promise.all([
    api("GET", "/contacts/" + contactId),
    api("GET", "/contacts/" + contactId + "/conversations"),
    loadBookings(contactId)
  ]).then(function (found) {
    if (shown.contact !== contactId) { return; }
    render(found[0]);
    renderHistory(found[1]);
  }).catch(function (error) { notice(error.message); });
}

/** "12" -> 12, "true" -> true, anything else stays text (the server checks the type). */
function parseValue(raw) {
  var text = raw.trim();
  if (text === "") { return null; }
  if (text === "true" || text === "false") { return text === "true"; }
  if (/^-?\d+(\.\d+)?$/.test(text)) { return Number(text); }
  return text;
}

function saveAttribute(event) {
  event.preventDefault();
  if (!shown.contact) { return; }
  var key = $("profile-key").value.trim();
  var attributes = {};
  attributes[key] = parseValue($("profile-value").value);
  api("PATCH", "/contacts/" + shown.contact, { attributes: attributes }).then(function (contact) {
    notice("");
    render(contact);
    $("profile-key").value = "";
    $("profile-value").value = "";
  }).catch(function (error) { notice(error.message); });
}

function merge(event) {
  event.preventDefault();
  if (!shown.contact) { return; }
  var source = $("profile-merge-id").value.trim();
  api("POST", "/contacts/" + shown.contact + "/merge", { source_contact_id: source }).then(function () {
    $("profile-merge-id").value = "";
    notice(t("profile.merged"));
    load(shown.contact);
  }).catch(function (error) { notice(error.message); });
}

function follow(conversation) {
  if (!conversation.contact_id) { return; }
  var changed = conversation.contact_id !== shown.contact || conversation.id !== shown.conversation;
  shown = { contact: conversation.contact_id, conversation: conversation.id };
  if (changed) {
    notice("");
    load(conversation.contact_id);
  }
}

export function wire() {
  document.addEventListener("console:conversation", function (event) { follow(event.detail); });
  $("profile-attribute-form").addEventListener("submit", saveAttribute);
  $("profile-merge-form").addEventListener("submit", merge);
  ["booking.created", "booking.confirmed", "booking.rejected", "booking.expired",
   "booking.updated", "booking.cancelled"].forEach(function (type) {
    on(type, function (data) {
      if (data && shown.contact && data.contact_id === shown.contact) {
        loadBookings(shown.contact).catch(function (error) { notice(error.message); });
      }
    });
  });
}
