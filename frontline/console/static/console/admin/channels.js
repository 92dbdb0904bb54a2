/* Channels: every channel of the workspace with its state, a form per channel type built
 * from that type's config schema (GET /api/v1/channel-types: types added to the server
 * appear here without console changes), secrets write-only (a new channel's secret is shown
 * once), the web widget's snippet with a copy button and a live preview, delivery health
 * (dead delivery jobs overall; per channel its traffic, failures and provider state:
 * ./health.js) and the operator alerts in Telegram (./alerts.js). A refused config shows
 * each error under its field (the API locates them as body.config.<field>). */

import { api } from "../api.js";
import { CFG } from "../config.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import * as alerts from "./alerts.js";
import * as health from "./health.js";
import { button, clearErrors, copyButton, field, form, row, section, showErrors, showOnce, submitButton, table } from "./ui.js";

var types = {};
var listBox = null;

export function start(body) {
  listBox = section(body, "admin.ch.list", "channels");
  var create = section(body, "admin.ch.create", "channel-create");
  api("GET", "/channel-types").then(function (rows) {
    rows.forEach(function (r) { types[r.type] = r.config_schema; });
    createForm(create);
    load();
  });
  alerts.start(body);
}

function isSecret(prop) { return prop && (prop.writeOnly || prop.format === "password"); }

function resolve(schema, prop) {
  if (prop && prop.$ref) { return schema.$defs[prop.$ref.split("/").pop()] || prop; }
  if (prop && prop.anyOf) {
    var real = prop.anyOf.filter(function (p) { return p.type !== "null"; })[0];
    return Object.assign({}, resolve(schema, real), { title: prop.title, default: prop.default, description: prop.description, nullable: true });
  }
  return prop;
}

/** Config inputs for a type, from its JSON schema; returns a function reading the values. */
function configFields(f, into, type, current) {
  var schema = types[type] || { properties: {} };
  var readers = [];
  Object.keys(schema.properties || {}).forEach(function (name) {
    var prop = resolve(schema, schema.properties[name]);
    var value = current && current[name] !== undefined ? current[name] : prop.default;
    var spec = { name: name, rawLabel: prop.title || name, into: into };
    var kind = "text";
    if (isSecret(prop)) { kind = "password"; value = ""; spec.placeholder = current ? t("admin.ch.secret_kept") : ""; spec.autocomplete = "off"; }
    else if (prop.type === "boolean") { kind = "checkbox"; }
    else if (prop.type === "integer" || prop.type === "number") { kind = "number"; }
    else if (prop.enum) { kind = "select"; spec.options = (prop.nullable ? [["", "—"]] : []).concat(prop.enum.map(function (v) { return [v, v]; })); }
    else if (prop.type === "array") { kind = "textarea"; spec.rows = 2; value = (value || []).join("\n"); spec.help = "admin.ch.one_per_line"; }
    spec.type = kind;
    spec.value = value;
    var input = field(f, spec);
    readers.push(function (out) {
      if (kind === "checkbox") { out[name] = input.checked; }
      else if (kind === "password") { if (input.value) { out[name] = input.value; } }
      else if (kind === "number") { if (input.value !== "") { out[name] = Number(input.value); } }
      else if (kind === "textarea") { out[name] = input.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean); }
      else if (input.value !== "") { out[name] = input.value; }
      else if (prop.nullable && current) { out[name] = null; }
    });
  });
  return function () { var out = {}; readers.forEach(function (r) { r(out); }); return out; };
}

function createForm(box) {
  var f = form("channel");
  var typeSelect = field(f, { name: "type", label: "admin.ch.type", type: "select",
    options: Object.keys(types).map(function (k) { return [k, typeLabel(k)]; }) });
  var name = field(f, { name: "name", label: "admin.ch.name" });
  var holder = el("div", "config");
  f.appendChild(holder);
  var read = null;
  function rebuild() { clear(holder); read = configFields(f, holder, typeSelect.value, null); }
  typeSelect.addEventListener("change", rebuild);
  rebuild();
  submitButton(f, "admin.ch.create_button", "channel-submit");
  var result = el("div");
  box.appendChild(f);
  box.appendChild(result);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    clear(result);
    api("POST", "/channels", { type: typeSelect.value, name: name.value, config: read() }).then(function (ch) {
      showOnce(result, "admin.ch.secret_once", ch.secret, "channel-secret");
      name.value = "";
      load();
    }, function (error) { showErrors(f, error); });
  });
}

function typeLabel(type) {
  var label = t("channel.type." + type);
  return label === "channel.type." + type ? type : label;
}

function load() {
  return Promise.all([api("GET", "/channels"), api("GET", "/jobs?status=dead&limit=500").catch(function () { return []; })]).then(function (r) {
    var dead = r[1].filter(function (j) { return j.kind === "message.deliver"; }).length;
    clear(listBox);
    listBox.appendChild(el("h2", null, t("admin.ch.list")));
    var health = el("p", dead ? "health bad" : "health ok", dead ? t("admin.ch.dead", { n: dead }) : t("admin.ch.healthy"));
    health.setAttribute("data-testid", "delivery-health");
    listBox.appendChild(health);
    var tbody = table(listBox, [t("admin.ch.name"), t("admin.ch.type"), t("admin.ch.state"), ""], "channel-list");
    r[0].forEach(function (ch) { channelRow(tbody, ch); });
  });
}

function channelRow(tbody, ch) {
  var actions = el("span", "actions");
  var details = el("div", "channel-details");
  details.setAttribute("data-channel", ch.id);
  actions.appendChild(button(t("admin.edit"), function () { toggleEdit(ch, details); }, "channel-edit"));
  var tr = row(tbody, [ch.name, typeLabel(ch.type), ch.is_active ? t("admin.ch.active") : t("admin.ch.inactive"), actions], "channel-row");
  tr.setAttribute("data-type", ch.type);
  var extra = el("tr");
  var td = el("td");
  td.colSpan = 4;
  td.appendChild(details);
  extra.appendChild(td);
  tbody.appendChild(extra);
  if (ch.type === "web") { snippet(details, ch); }
  var state = el("div", "channel-health");
  state.setAttribute("data-testid", "channel-health");
  details.appendChild(state);
  health.show(state, ch);
}

function snippet(holder, ch) {
  var key = CFG.widget_key_prefix + ch.id.replace(/-/g, "");
  var code = '<script src="' + CFG.public_url + '/widget.js" data-key="' + key + '" async></script>';
  var box = el("div", "snippet");
  box.setAttribute("data-testid", "widget-snippet");
  box.appendChild(el("p", null, t("admin.ch.snippet")));
  var pre = el("pre", null, code);
  pre.setAttribute("data-testid", "widget-snippet-code");
  box.appendChild(pre);
  box.appendChild(copyButton(code, "snippet-copy"));
  var url = "/console/settings/channels/" + ch.id + "/preview";
  // the live preview, inline: a small page of our own that loads /widget.js with this
  // channel's key (the widget opens in the frame's corner); and the same page in a tab
  var frame = el("iframe", "widget-frame");
  frame.src = url;
  frame.title = t("admin.ch.preview") + ": " + ch.name;
  frame.setAttribute("data-testid", "widget-preview-frame");
  box.appendChild(el("h3", null, t("admin.ch.preview")));
  box.appendChild(frame);
  var preview = el("a", "preview", t("admin.ch.preview_tab"));
  preview.href = url;
  preview.target = "_blank";
  preview.rel = "noopener";
  preview.setAttribute("data-testid", "widget-preview");
  box.appendChild(preview);
  holder.appendChild(box);
}

function toggleEdit(ch, holder) {
  var open = holder.querySelector("form");
  if (open) { open.remove(); return; }
  var f = form("channel-" + ch.type);
  var name = field(f, { name: "name", label: "admin.ch.name", value: ch.name });
  var active = field(f, { name: "is_active", label: "admin.ch.active", type: "checkbox", value: ch.is_active });
  var read = configFields(f, f, ch.type, ch.config);
  submitButton(f, "admin.save", "channel-save");
  var rotated = el("div");
  f.appendChild(button(t("admin.ch.rotate"), function () {
    if (!window.confirm(t("admin.ch.rotate_confirm"))) { return; }
    api("POST", "/channels/" + ch.id + "/rotate-secret").then(function (r) {
      clear(rotated);
      showOnce(rotated, "admin.ch.secret_once", r.secret, "channel-secret");
    });
  }, "channel-rotate"));
  f.appendChild(rotated);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    api("PATCH", "/channels/" + ch.id, { name: name.value, is_active: active.checked, config: read() }).then(load,
      function (error) { showErrors(f, error); });
  });
  holder.insertBefore(f, holder.firstChild);
}
