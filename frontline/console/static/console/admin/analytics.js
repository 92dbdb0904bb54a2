/* Analytics: a date range and a channel, the headline numbers, and for each report a chart
 * (Chart.js from the chartkick package, served by Frontline), the table behind it and its
 * CSV export (the same GET /api/v1/analytics/<report> with format=csv). */

import { api, query } from "../api.js";
import { CFG } from "../config.js";
import { clear, el, option } from "../dom.js";
import { t } from "../i18n.js";
import { field, form, formatSeconds, formatShare, row, section, showErrors, submitButton, table } from "./ui.js";

var charts = [];
var WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function isoDay(d) { return d.toISOString().slice(0, 10); }

export function start(body) {
  var today = new Date();
  var monthAgo = new Date(today.getTime() - 29 * 86400000);
  var f = form("range");
  f.classList.add("inline-form");
  var startInput = field(f, { name: "start", label: "admin.analytics.start", type: "date", value: isoDay(monthAgo) });
  var endInput = field(f, { name: "end", label: "admin.analytics.end", type: "date", value: isoDay(today) });
  var channel = field(f, { name: "channel_id", label: "filter.channel", type: "select", options: [["", t("filter.any")]] });
  submitButton(f, "admin.analytics.apply");
  body.appendChild(f);
  api("GET", "/inbox/channels").then(function (rows) {
    rows.forEach(function (c) { channel.appendChild(option(c.id, c.name, false)); });
  }, function () {});
  var out = el("div", "analytics");
  out.setAttribute("data-testid", "analytics");
  body.appendChild(out);
  function load() {
    var params = { start: startInput.value, end: endInput.value, channel_id: channel.value };
    return render(out, params).catch(function (error) { showErrors(f, error); });
  }
  f.addEventListener("submit", function (event) { event.preventDefault(); load(); });
  load();
}

function get(report, params) {
  return api("GET", "/analytics/" + report + query(params));
}

function csvLink(report, params) {
  var a = el("a", "csv", t("admin.analytics.csv"));
  a.href = CFG.api + "/analytics/" + report + query(Object.assign({}, params, { format: "csv" }));
  a.setAttribute("download", "analytics-" + report + ".csv");
  a.setAttribute("data-testid", "csv-" + report);
  return a;
}

function render(out, params) {
  return Promise.all([
    get("summary", params), get("timeline", params), get("volume", params),
    get("handoff-reasons", params), get("categories", params), get("unanswered", params),
    get("usage", params), get("bookings", params)
  ]).then(function (r) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    clear(out);
    summary(out, r[0], params);
    var sm = r[0];
    // first response AI vs operator and time to resolution, in seconds (median and p90)
    report(out, "summary", "admin.analytics.times", params, "bar",
      [t("admin.analytics.ai_first"), t("admin.analytics.operator_first"), t("admin.analytics.resolution")],
      [["admin.analytics.median", [sm.ai_first_response.median, sm.operator_first_response.median, sm.resolution.median].map(seconds)],
       ["admin.analytics.p90", [sm.ai_first_response.p90, sm.operator_first_response.p90, sm.resolution.p90].map(seconds)]], "times");
    var days = r[1].days;
    report(out, "timeline", "admin.analytics.timeline", params, "line",
      days.map(function (d) { return d.day; }),
      [["admin.analytics.conversations", days.map(function (d) { return d.conversations; })],
       ["admin.analytics.ai_resolved", days.map(function (d) { return d.ai_resolved; })],
       ["admin.analytics.handed_off", days.map(function (d) { return d.handed_off; })]]);
    report(out, "timeline", "admin.analytics.csat", params, "line",
      days.map(function (d) { return d.day; }),
      [["admin.analytics.csat_average", days.map(function (d) { return d.csat_average; })],
       ["admin.analytics.csat_count", days.map(function (d) { return d.csat_count; })]], "csat");
    var hours = [];
    for (var h = 0; h < 24; h++) { hours.push(String(h).padStart(2, "0")); }
    report(out, "volume", "admin.analytics.by_hour", params, "bar", hours,
      [["admin.analytics.conversations", r[2].by_hour]], "hour");
    report(out, "volume", "admin.analytics.by_weekday", params, "bar",
      WEEKDAYS.map(function (d) { return t("admin.weekday." + d); }),
      [["admin.analytics.conversations", r[2].by_weekday]], "weekday");
    var reasons = r[3].items;
    report(out, "handoff-reasons", "admin.analytics.reasons", params, "bar",
      reasons.map(function (i) { return t("reason." + i.key); }),
      [["admin.analytics.handed_off", reasons.map(function (i) { return i.count; })]]);
    var cats = r[4].items;
    report(out, "categories", "admin.analytics.categories", params, "bar",
      cats.map(function (i) { return i.key || t("field.no_category"); }),
      [["admin.analytics.conversations", cats.map(function (i) { return i.count; })]]);
    var booked = r[7].days;
    report(out, "bookings", "admin.analytics.bookings_report", params, "bar",
      booked.map(function (d) { return d.day; }),
      [["admin.analytics.bookings_created", booked.map(function (d) { return d.created; })],
       ["admin.analytics.bookings_confirmed", booked.map(function (d) { return d.confirmed; })]]);
    unanswered(out, r[5].items, params);
    usage(out, r[6].days, params);
  });
}

function seconds(value) {
  return value === null || value === undefined ? null : Math.round(value * 10) / 10;
}

function summary(out, s, params) {
  var box = section(out, "admin.analytics.summary", "analytics-summary");
  box.appendChild(csvLink("summary", params));
  var grid = el("dl", "kpis");
  [
    ["admin.analytics.conversations", s.conversations, "kpi-conversations"],
    ["admin.analytics.ai_resolved_share", formatShare(s.ai_resolved_share) + " (" + s.ai_resolved + ")", "kpi-ai-resolved"],
    ["admin.analytics.handoff_rate", formatShare(s.handoff_rate) + " (" + s.handed_off + ")", "kpi-handoff"],
    ["admin.analytics.csat_average", s.csat_average === null ? "—" : s.csat_average + " / 5 (" + s.csat_count + ")", "kpi-csat"],
    ["admin.analytics.ai_first", formatSeconds(s.ai_first_response.median) + " / " + formatSeconds(s.ai_first_response.p90), "kpi-ai-first"],
    ["admin.analytics.operator_first", formatSeconds(s.operator_first_response.median) + " / " + formatSeconds(s.operator_first_response.p90), "kpi-operator-first"],
    ["admin.analytics.resolution", formatSeconds(s.resolution.median) + " / " + formatSeconds(s.resolution.p90), "kpi-resolution"]
  ].forEach(function (k) {
    var item = el("div", "kpi");
    item.appendChild(el("dt", null, t(k[0])));
    var dd = el("dd", null, k[1]);
    dd.setAttribute("data-testid", k[2]);
    item.appendChild(dd);
    grid.appendChild(item);
  });
  box.appendChild(grid);
  box.appendChild(el("p", "help", t("admin.analytics.strict_help")));
  var booked = el("p", null, t("admin.analytics.bookings", { created: s.bookings.created, confirmed: s.bookings.confirmed }));
  booked.setAttribute("data-testid", "kpi-bookings");
  box.appendChild(booked);
}

function report(out, name, titleKey, params, type, labels, series, suffix) {
  var id = name + (suffix ? "-" + suffix : "");
  var box = section(out, titleKey, "report-" + id);
  box.appendChild(csvLink(name, params));
  chart(box, id, titleKey, type, labels,
    series.map(function (s) { return { label: t(s[0]), data: s[1], spanGaps: true }; }));
  var details = el("details", "behind");
  details.appendChild(el("summary", null, t("admin.analytics.table")));
  box.appendChild(details);
  var tbody = table(details, [""].concat(series.map(function (s) { return t(s[0]); })), "table-" + id);
  labels.forEach(function (label, i) {
    row(tbody, [label].concat(series.map(function (s) { return s[1][i]; })));
  });
}

/* A Chart.js chart in box (canvas data-testid "chart-<id>"); options extend the defaults. */
function chart(box, id, titleKey, type, labels, datasets, options) {
  var holder = el("div", "chart");
  var canvas = el("canvas");
  canvas.setAttribute("data-testid", "chart-" + id);
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", t(titleKey));
  holder.appendChild(canvas);
  box.appendChild(holder);
  if (!window.Chart) { return; }
  var scales = options && options.scales ? options.scales : { y: { beginAtZero: true }, x: { beginAtZero: true } };
  charts.push(new window.Chart(canvas, {
    type: type,
    data: { labels: labels, datasets: datasets },
    options: Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, options || {}, { scales: scales })
  }));
}

function unanswered(out, items, params) {
  var box = section(out, "admin.analytics.unanswered", "report-unanswered");
  box.appendChild(csvLink("unanswered", params));
  box.appendChild(el("p", "help", t("admin.analytics.unanswered_help")));
  chart(box, "unanswered", "admin.analytics.unanswered", "bar",
    items.map(function (i) { return i.key.length > 40 ? i.key.slice(0, 39) + "…" : i.key; }),
    [{ label: t("admin.analytics.count"), data: items.map(function (i) { return i.count; }) }], { indexAxis: "y" });
  var tbody = table(box, [t("admin.analytics.question"), t("admin.analytics.count")], "table-unanswered");
  if (!items.length) { row(tbody, [t("admin.empty"), ""]); }
  items.forEach(function (i) { row(tbody, [i.key, i.count]); });
}

function usage(out, days, params) {
  var providers = [];
  var labels = [];
  days.forEach(function (d) {
    if (providers.indexOf(d.provider) < 0) { providers.push(d.provider); }
    if (labels.indexOf(d.day) < 0) { labels.push(d.day); }
  });
  var series = providers.map(function (p) {
    return [p, labels.map(function (day) {
      var found = days.filter(function (d) { return d.day === day && d.provider === p; })[0];
      return found ? found.tokens_in + found.tokens_out : 0;
    })];
  });
  var cost = providers.map(function (p) {
    return [p, labels.map(function (day) {
      var found = days.filter(function (d) { return d.day === day && d.provider === p; })[0];
      return found && found.cost !== null ? Number(found.cost) : 0;
    })];
  });
  var stacked = { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };
  var box = section(out, "admin.analytics.usage", "report-usage");
  box.appendChild(csvLink("usage", params));
  box.appendChild(el("h3", null, t("admin.usage.tokens")));
  chart(box, "usage", "admin.analytics.usage", "bar", labels,
    series.map(function (s) { return { label: s[0], data: s[1] }; }), stacked);
  box.appendChild(el("h3", null, t("admin.usage.cost")));
  chart(box, "usage-cost", "admin.usage.cost", "bar", labels,
    cost.map(function (s) { return { label: s[0], data: s[1] }; }), stacked);
  var details = el("details", "behind");
  details.appendChild(el("summary", null, t("admin.analytics.table")));
  box.appendChild(details);
  var tbody = table(details, ["day", "provider", "calls", "tokens_in", "tokens_out", "cost"].map(function (h) { return t("admin.usage." + h); }), "table-usage");
  days.forEach(function (d) { row(tbody, [d.day, d.provider, d.calls, d.tokens_in, d.tokens_out, d.cost]); });
}
