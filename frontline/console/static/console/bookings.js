/* The bookings page (console.html's sibling, bookings.html): the list with filters, the
 * detail card of the selected booking, and a calendar per resource by month or week.
 * Everything comes from the REST API; text goes in with textContent only. */

import { api, failed } from "./api.js";
import { bookingsCalendar } from "./bookingcalendar.js";
import { renderDetail, period, statusText } from "./bookingview.js";
import { configure, CFG } from "./config.js";
import { $, clear, el, option } from "./dom.js";
import { setup, t } from "./i18n.js";

var resources = {};
var selected = null;

function readJson(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

function query() {
  var params = new URLSearchParams();
  var status = $("b-status").value;
  var resource = $("b-resource").value;
  if (status) { params.set("status", status); }
  if (resource) { params.set("resource_id", resource); }
  params.set("limit", "200");
  return "?" + params.toString();
}

function showDetail(b) {
  selected = b.id;
  renderDetail($("b-detail"), b, (resources[b.resource_id] || {}).name, function () { loadList(); });
  Array.prototype.forEach.call($("b-rows").children, function (row) {
    row.setAttribute("aria-selected", row.dataset.id === String(b.id) ? "true" : "false");
  });
}

function loadList() {
  return api("GET", "/bookings" + query()).then(function (page) {
    var rows = $("b-rows");
    clear(rows);
    $("b-state").textContent = page.items.length ? "" : t("bookings.empty");
    page.items.forEach(function (b) {
      var tr = el("tr");
      tr.dataset.id = String(b.id);
      tr.tabIndex = 0;
      tr.setAttribute("data-testid", "b-row");
      [String(b.id), (resources[b.resource_id] || {}).name || "", period(b),
       String(b.adults + b.children), b.customer_name, statusText(b.status)].forEach(function (text) {
        tr.appendChild(el("td", null, text));
      });
      tr.lastChild.className = "status-" + b.status;
      tr.addEventListener("click", function () { showDetail(b); });
      tr.addEventListener("keydown", function (e) { if (e.key === "Enter") { showDetail(b); } });
      rows.appendChild(tr);
      if (b.id === selected) { showDetail(b); }
    });
  }, failed);
}

function tabs() {
  var list = $("tab-list"), cal = $("tab-calendar");
  function show(calendar) {
    list.setAttribute("aria-selected", calendar ? "false" : "true");
    cal.setAttribute("aria-selected", calendar ? "true" : "false");
    $("list-view").hidden = calendar;
    $("calendar-view").hidden = !calendar;
    $("b-filters").hidden = calendar;
    if (calendar) { bookingsCalendar.refresh(); }
  }
  list.addEventListener("click", function () { show(false); });
  cal.addEventListener("click", function () { show(true); });
}

function start() {
  configure(readJson("console-config"));
  setup(readJson("i18n"), CFG.lang);
  tabs();
  $("b-status").addEventListener("change", loadList);
  $("b-resource").addEventListener("change", loadList);
  api("GET", "/resources").then(function (items) {
    items.forEach(function (r) {
      resources[r.id] = r;
      $("b-resource").appendChild(option(r.id, r.name));
      $("c-resource").appendChild(option(r.id, r.name));
    });
    bookingsCalendar.wire(resources);
    loadList();
  }, failed);
}

start();
