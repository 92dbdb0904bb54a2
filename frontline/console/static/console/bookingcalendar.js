/* The calendar of one resource, by month or week: a grid of days, each listing the
 * bookings that hold places on it (pending ones marked as such) and, for tours, the
 * departures with their free places. */

import { api, failed } from "./api.js";
import { CFG } from "./config.js";
import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";

var mode = "month";
var anchor = new Date();
var resources = {};

function startOfDay(d) { return new Date(d.getFullYear(), d.getMonth(), d.getDate()); }

function range() {
  if (mode === "week") {
    var s = startOfDay(anchor);
    s.setDate(s.getDate() - ((s.getDay() + 6) % 7));
    var e = new Date(s); e.setDate(e.getDate() + 7);
    return [s, e];
  }
  var first = new Date(anchor.getFullYear(), anchor.getMonth(), 1);
  var start = new Date(first); start.setDate(1 - ((first.getDay() + 6) % 7));
  var end = new Date(anchor.getFullYear(), anchor.getMonth() + 1, 1);
  end.setDate(end.getDate() + ((7 - ((end.getDay() + 6) % 7)) % 7));
  return [start, end];
}

function label(b) {
  return (b.customer_name || "#" + b.id) + " (" + (b.adults + b.children) + ")";
}

function render(bookings, departures, start, end) {
  var grid = $("c-grid");
  clear(grid);
  grid.className = "calendar-grid calendar-" + mode;
  for (var d = new Date(start); d < end; d.setDate(d.getDate() + 1)) {
    var next = new Date(d); next.setDate(next.getDate() + 1);
    var cell = el("div", "calendar-day" + (d.getMonth() !== anchor.getMonth() && mode === "month" ? " other-month" : ""));
    cell.setAttribute("data-testid", "c-day");
    cell.dataset.date = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
    cell.appendChild(el("span", "calendar-date", d.toLocaleDateString(CFG.lang, { day: "numeric", month: "short" })));
    departures.forEach(function (dep) {
      var s = new Date(dep.starts_at);
      if (s >= d && s < next) {
        cell.appendChild(el("span", "calendar-departure", "▶ " + dep.free_places + "/" + dep.capacity));
      }
    });
    bookings.forEach(function (b) {
      var s = new Date(b.starts_at), e = new Date(b.ends_at);
      if (s < next && e > d) {
        var item = el("a", "calendar-booking status-" + b.status, label(b));
        item.href = "#";
        item.title = t("booking.status." + b.status);
        item.setAttribute("data-testid", "c-booking");
        cell.appendChild(item);
      }
    });
    grid.appendChild(cell);
  }
  $("c-title").textContent = mode === "week"
    ? start.toLocaleDateString(CFG.lang) + " – " + new Date(end - 1).toLocaleDateString(CFG.lang)
    : anchor.toLocaleDateString(CFG.lang, { month: "long", year: "numeric" });
}

function refresh() {
  var id = $("c-resource").value;
  if (!id) { return; }
  var r = range();
  var params = "?resource_id=" + id + "&start=" + r[0].toISOString() + "&end=" + r[1].toISOString() + "&limit=200";
  var deps = resources[id] && resources[id].availability === "departures"
    ? api("GET", "/resources/" + id + "/departures?start=" + r[0].toISOString() + "&end=" + r[1].toISOString())
    : Promise.resolve([]);
  Promise.all([api("GET", "/bookings" + params), deps]).then(function (both) {
    var holding = both[0].items.filter(function (b) { return b.status === "pending" || b.status === "confirmed"; });
    render(holding, both[1], r[0], r[1]);
  }, failed);
}

function move(step) {
  if (mode === "week") { anchor.setDate(anchor.getDate() + 7 * step); }
  else { anchor = new Date(anchor.getFullYear(), anchor.getMonth() + step, 1); }
  refresh();
}

function setMode(value) {
  mode = value;
  $("c-month").setAttribute("aria-pressed", value === "month" ? "true" : "false");
  $("c-week").setAttribute("aria-pressed", value === "week" ? "true" : "false");
  refresh();
}

export var bookingsCalendar = {
  wire: function (known) {
    resources = known;
    $("c-resource").addEventListener("change", refresh);
    $("c-prev").addEventListener("click", function () { move(-1); });
    $("c-next").addEventListener("click", function () { move(1); });
    $("c-month").addEventListener("click", function () { setMode("month"); });
    $("c-week").addEventListener("click", function () { setMode("week"); });
  },
  refresh: refresh,
  show: function (date) { anchor = new Date(date); refresh(); }
};
