/* Bookable resources (owners and admins): the list (deactivate / activate in place), one
 * form to create a resource or edit the chosen one, and the chosen resource's schedule -
 * dated departures for a tour, blocked periods for a rental - entered and shown in the
 * resource's own time zone. A failing field shows its error under it. */

import { api } from "../api.js";
import { clear, el } from "../dom.js";
import { flash } from "../flash.js";
import { t } from "../i18n.js";
import { deleteButton, fieldError, heading, inZone, numberOrNull, showLocalized, textOrNull, zonedIso } from "./bookingforms.js";
import { button, clearErrors, empty, errorText, field, form, row, section, submitButton, table } from "./ui.js";

var KINDS = ["room", "house", "tour", "equipment"];
var AVAILABILITY = ["departures", "nightly", "daily", "hourly"];
var tbody = null;
var editor = null;
var schedule = null;
var templates = [];
var editingId = null;

export function start(body) {
  var list = section(body, "res.list", "resources");
  tbody = table(list, [t("res.name"), t("res.kind"), t("res.availability"), t("res.capacity"), t("res.price"),
    t("res.template"), t("bookings.status"), ""], "resource-list");
  editor = section(body, null, "resource-editor");
  schedule = section(body, null, "resource-schedule");
  schedule.hidden = true;
  api("GET", "/booking-templates").then(function (rows) {
    templates = rows;
    edit(null);
    load();
  }, function (e) { flash(errorText(e)); });
}

function templateName(id) {
  var found = templates.filter(function (x) { return x.id === id; })[0];
  return found ? found.name : "—";
}

function load() {
  return api("GET", "/resources").then(function (rows) {
    clear(tbody);
    if (!rows.length) { empty(tbody, 8); }
    rows.forEach(function (r) {
      var actions = el("span", "actions");
      actions.appendChild(button(t("admin.edit"), function () { edit(r); }, "resource-edit"));
      actions.appendChild(button(t("res.schedule"), function () { showSchedule(r); }, "resource-schedule-open"));
      actions.appendChild(button(t(r.active ? "res.deactivate" : "res.activate"), function () {
        api("PATCH", "/resources/" + r.id, { active: !r.active }).then(function () {
          flash(t(r.active ? "res.deactivated" : "res.activated"));
          if (editingId === r.id) { edit(null); } // its form would still show the old state
          load();
        }, function (e) { flash(errorText(e)); });
      }, r.active ? "resource-deactivate" : "resource-activate", r.active ? "danger" : null));
      var state = el("span", r.active ? "state-active" : "state-inactive", t(r.active ? "res.state.active" : "res.state.inactive"));
      var tr = row(tbody, [r.name, t("res.kind." + r.kind), t("res.availability." + r.availability), String(r.capacity),
        r.price + " " + r.currency + (r.per_person ? " " + t("res.per_person_short") : ""),
        templateName(r.template_id), state, actions], "resource-row");
      tr.dataset.id = r.id;
    });
  }, function (e) { flash(errorText(e)); });
}

/** The form for a new resource (r null) or for r. */
function edit(r) {
  editingId = r ? r.id : null;
  clear(editor);
  heading(editor, r ? t("res.edit", { name: r.name }) : t("res.add"), "resource-editor-title");
  var f = form("resource");
  var v = r || { kind: "room", availability: "nightly", capacity: 2, units: 1, per_person: false, currency: "RUB", timezone: "Europe/Moscow", active: true };
  var name = field(f, { name: "name", label: "res.name", value: v.name });
  var kind = field(f, { name: "kind", label: "res.kind", type: "select", value: v.kind,
    options: KINDS.map(function (k) { return [k, t("res.kind." + k)]; }) });
  var availability = field(f, { name: "availability", label: "res.availability", type: "select", value: v.availability,
    options: AVAILABILITY.map(function (a) { return [a, t("res.availability." + a)]; }), help: r ? "res.availability_fixed" : null });
  if (r) { availability.disabled = true; }
  var capacity = field(f, { name: "capacity", label: "res.capacity", type: "number", min: 1, value: v.capacity });
  var units = field(f, { name: "units", label: "res.units", type: "number", min: 1, value: v.units });
  var price = field(f, { name: "price", label: "res.price", type: "number", min: 0, step: "0.01", value: v.price });
  var perPerson = field(f, { name: "per_person", label: "res.per_person", type: "checkbox", value: v.per_person });
  var currency = field(f, { name: "currency", label: "res.currency", value: v.currency });
  var timezone = field(f, { name: "timezone", label: "res.timezone", value: v.timezone });
  var template = field(f, { name: "template_id", label: "res.template", type: "select", value: v.template_id || "",
    options: [["", t("res.no_template")]].concat(templates.map(function (x) { return [x.id, x.name]; })) });
  var description = field(f, { name: "description", label: "res.description", type: "textarea", rows: 3, value: v.description });
  var notes = field(f, { name: "notes", label: "res.notes", type: "textarea", rows: 2, value: v.notes });
  var active = field(f, { name: "active", label: "res.active", type: "checkbox", value: v.active });
  submitButton(f, r ? "admin.save" : "admin.add", "resource-submit");
  if (r) { f.appendChild(button(t("res.cancel_edit"), function () { edit(null); }, "resource-cancel")); }
  editor.appendChild(f);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    var body = {
      name: name.value.trim(),
      kind: kind.value,
      capacity: numberOrNull(capacity),
      units: numberOrNull(units),
      price: textOrNull(price),
      per_person: perPerson.checked,
      currency: currency.value.trim().toUpperCase(),
      timezone: timezone.value.trim(),
      template_id: template.value || null,
      description: description.value,
      notes: notes.value,
      active: active.checked
    };
    if (!r) { body.availability = availability.value; }
    var call = r ? api("PATCH", "/resources/" + r.id, body) : api("POST", "/resources", body);
    call.then(function (saved) {
      flash(t(r ? "res.saved" : "res.created"));
      edit(null);
      load();
      if (!schedule.hidden && schedule.dataset.id === saved.id) { showSchedule(saved); }
    }, function (error) { showLocalized(f, error); });
  });
}

/** Departures (a tour) or blocked periods (a rental) of r, with a form to add one. */
function showSchedule(r) {
  clear(schedule);
  schedule.hidden = false;
  schedule.dataset.id = r.id;
  heading(schedule, t("res.schedule_of", { name: r.name }) + " (" + r.timezone + ")", "schedule-title");
  if (r.availability === "departures") { departures(r); } else { blocks(r); }
  schedule.scrollIntoView();
}

function periodForm(name, extra, onSubmit) {
  var f = form(name);
  var starts = field(f, { name: "starts_at", label: "dep.starts_at", type: "datetime-local" });
  var ends = field(f, { name: "ends_at", label: "dep.ends_at", type: "datetime-local" });
  var more = extra(f);
  submitButton(f, "admin.add", name + "-submit");
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    if (!starts.value) { fieldError(f, "starts_at", "err.missing"); return; }
    if (!ends.value) { fieldError(f, "ends_at", "err.missing"); return; }
    if (ends.value <= starts.value) { fieldError(f, "ends_at", "err.end_before_start"); return; }
    onSubmit(f, starts.value, ends.value, more);
  });
  return f;
}

function departures(r) {
  heading(schedule, t("dep.list"));
  var body = table(schedule, [t("dep.starts_at"), t("dep.ends_at"), t("res.capacity"), t("dep.free"), t("res.price"), ""], "departure-list");
  function load() {
    api("GET", "/resources/" + r.id + "/departures").then(function (rows) {
      clear(body);
      if (!rows.length) { empty(body, 6); }
      rows.forEach(function (d) {
        row(body, [inZone(d.starts_at, r.timezone), inZone(d.ends_at, r.timezone), String(d.capacity), String(d.free_places),
          d.price + " " + r.currency, deleteButton(function () {
            api("DELETE", "/resources/" + r.id + "/departures/" + d.id).then(function () { flash(t("dep.deleted")); load(); },
              function (e) { flash(errorText(e)); });
          }, "departure-delete")], "departure-row");
      });
    }, function (e) { flash(errorText(e)); });
  }
  heading(schedule, t("dep.add"));
  schedule.appendChild(periodForm("departure", function (f) {
    return {
      capacity: field(f, { name: "capacity", label: "dep.capacity", type: "number", min: 1 }),
      price: field(f, { name: "price", label: "dep.price", type: "number", min: 0, step: "0.01" })
    };
  }, function (f, starts, ends, more) {
    var payload = { starts_at: zonedIso(starts, r.timezone), ends_at: zonedIso(ends, r.timezone) };
    if (more.capacity.value.trim()) { payload.capacity = numberOrNull(more.capacity); }
    if (more.price.value.trim()) { payload.price = more.price.value.trim(); }
    api("POST", "/resources/" + r.id + "/departures", payload).then(function () {
      flash(t("dep.added"));
      f.reset();
      load();
    }, function (error) { showLocalized(f, error); });
  }));
  load();
}

function blocks(r) {
  heading(schedule, t("block.list"));
  var body = table(schedule, [t("dep.starts_at"), t("dep.ends_at"), t("block.reason"), ""], "block-list");
  function load() {
    api("GET", "/resources/" + r.id + "/blocks").then(function (rows) {
      clear(body);
      if (!rows.length) { empty(body, 4); }
      rows.forEach(function (b) {
        row(body, [inZone(b.starts_at, r.timezone), inZone(b.ends_at, r.timezone), b.reason || "—", deleteButton(function () {
          api("DELETE", "/resources/" + r.id + "/blocks/" + b.id).then(function () { flash(t("block.deleted")); load(); },
            function (e) { flash(errorText(e)); });
        }, "block-delete")], "block-row");
      });
    }, function (e) { flash(errorText(e)); });
  }
  heading(schedule, t("block.add"));
  schedule.appendChild(periodForm("block", function (f) {
    return { reason: field(f, { name: "reason", label: "block.reason" }) };
  }, function (f, starts, ends, more) {
    api("POST", "/resources/" + r.id + "/blocks", {
      starts_at: zonedIso(starts, r.timezone), ends_at: zonedIso(ends, r.timezone), reason: more.reason.value.trim()
    }).then(function () {
      flash(t("block.added"));
      f.reset();
      load();
    }, function (error) { showLocalized(f, error); });
  }));
  load();
}
