/* The bookings of the open conversation, beside it: each with its status, and the
 * detail card (confirm, reject with a reason, edit) of the one clicked. Re-read when
 * another conversation opens and on booking.* events. */

import { api, failed } from "./api.js";
import { period, renderDetail, statusText } from "./bookingview.js";
import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { on } from "./socket.js";
import * as state from "./state.js";

var shownFor = null;

function conversationId() {
  return state.current && state.current.conv ? state.current.conv.id : null;
}

function load() {
  var id = conversationId();
  var panel = $("booking-panel");
  if (!panel) { return; }
  shownFor = id;
  if (!id) { panel.hidden = true; return; }
  api("GET", "/bookings?conversation_id=" + id).then(function (page) {
    if (conversationId() !== id) { return; }
    panel.hidden = false;
    var list = $("booking-panel-list");
    clear(list);
    $("booking-panel-detail").hidden = true;
    if (!page.items.length) { list.appendChild(el("li", "muted", t("bookings.panel_empty"))); }
    page.items.forEach(function (b) {
      var item = el("li");
      var button = el("button", "link", "#" + b.id + " · " + period(b) + " · " + statusText(b.status));
      button.type = "button";
      button.setAttribute("data-testid", "panel-booking");
      button.addEventListener("click", function () {
        var detail = $("booking-panel-detail");
        detail.hidden = false;
        renderDetail(detail, b, "", function () { load(); });
      });
      item.appendChild(button);
      list.appendChild(item);
    });
  }, failed);
}

export function wire() {
  ["booking.created", "booking.confirmed", "booking.rejected", "booking.expired",
   "booking.updated", "booking.cancelled"].forEach(function (type) {
    on(type, function (data) {
      if (data && data.conversation_id === conversationId()) { load(); }
    });
  });
  // the open conversation is conversation.js's; follow it without reaching into it
  setInterval(function () { if (conversationId() !== shownFor) { load(); } }, 500);
}
