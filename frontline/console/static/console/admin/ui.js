/* Building blocks of the owner's pages: sections, forms whose fields show the API's
 * per-field errors, tables, buttons. */

import { failed } from "../api.js";
import { clear, el, option } from "../dom.js";
import { t } from "../i18n.js";

export function section(parent, titleKey, testid) {
  var s = el("section", "card");
  if (testid) { s.setAttribute("data-testid", testid); }
  if (titleKey) { s.appendChild(el("h2", null, t(titleKey))); }
  parent.appendChild(s);
  return s;
}

export function button(label, onClick, testid, kind) {
  var b = el("button", kind || null, label);
  b.type = "button";
  if (testid) { b.setAttribute("data-testid", testid); }
  b.addEventListener("click", onClick);
  return b;
}

/** A labelled input in form: spec {name, label (key), type, value, options: [[v, label]],
 * rows, min, max, step, help (key)}; the input is returned. */
export function field(form, spec) {
  var wrap = el("div", "field field-" + (spec.type || "text"));
  var id = "f-" + form.getAttribute("data-form") + "-" + spec.name;
  var label = el("label", null, spec.rawLabel || t(spec.label));
  label.htmlFor = id;
  var input;
  if (spec.type === "select") {
    input = el("select");
    (spec.options || []).forEach(function (o) { input.appendChild(option(o[0], o[1], String(o[0]) === String(spec.value))); });
  } else if (spec.type === "textarea") {
    input = el("textarea");
    input.rows = spec.rows || 4;
    input.value = spec.value === undefined || spec.value === null ? "" : spec.value;
  } else {
    input = el("input");
    input.type = spec.type || "text";
    if (spec.type === "checkbox") { input.checked = !!spec.value; } else if (spec.value !== undefined && spec.value !== null) { input.value = spec.value; }
    ["min", "max", "step", "placeholder", "autocomplete"].forEach(function (k) { if (spec[k] !== undefined) { input.setAttribute(k, spec[k]); } });
  }
  input.id = id;
  input.name = spec.name;
  input.setAttribute("data-testid", "field-" + spec.name);
  if (spec.type === "checkbox") { wrap.appendChild(input); wrap.appendChild(label); } else { wrap.appendChild(label); wrap.appendChild(input); }
  if (spec.help) { wrap.appendChild(el("small", "help", t(spec.help))); }
  var error = el("p", "field-error");
  error.hidden = true;
  error.setAttribute("data-error-for", spec.name);
  error.setAttribute("data-testid", "error-" + spec.name);
  wrap.appendChild(error);
  (spec.into || form).appendChild(wrap);
  return input;
}

export function form(name) {
  var f = el("form", "admin-form");
  f.setAttribute("data-form", name);
  f.setAttribute("data-testid", "form-" + name);
  f.noValidate = true;
  var general = el("p", "form-error");
  general.hidden = true;
  general.setAttribute("data-testid", "form-error-" + name);
  f.appendChild(general);
  return f;
}

export function clearErrors(f) {
  f.querySelectorAll(".field-error, .form-error").forEach(function (n) { n.hidden = true; n.textContent = ""; });
  f.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
}

/** A refusal in the reader's language: the console's words for its code, else the API's
 * message. */
export function errorText(error) {
  var key = error && error.code ? "error." + error.code : null;
  if (key && t(key) !== key) { return t(key); }
  return error && error.message ? error.message : "?";
}

/** A failing field's problem in the reader's language (by its type, with the limits of its
 * ctx), else the API's message. */
export function fieldText(fe) {
  var key = "error.field." + fe.type;
  return t(key) !== key ? t(key, fe.ctx || {}) : fe.message;
}

/** Show an API error on the form: each failing field under its input (the deepest name in
 * its loc that the form has), the rest on top. */
export function showErrors(f, error) {
  clearErrors(f);
  var rest = [];
  (error && error.fields ? error.fields : []).forEach(function (fe) {
    var loc = (fe.loc || []).slice().reverse();
    var slot = null;
    for (var i = 0; i < loc.length && !slot; i++) {
      slot = f.querySelector('[data-error-for="' + String(loc[i]).replace(/"/g, "") + '"]');
    }
    if (slot) {
      slot.textContent = fieldText(fe);
      slot.hidden = false;
      var input = f.querySelector('[name="' + slot.getAttribute("data-error-for") + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); }
    } else {
      rest.push((fe.loc || []).join(".") + ": " + fieldText(fe));
    }
  });
  if (rest.length || !(error && error.fields && error.fields.length)) {
    var general = f.querySelector(".form-error");
    general.textContent = rest.length ? rest.join("; ") : errorText(error);
    general.hidden = false;
  }
  if (error && error.status === 401) { failed(error); }
}

export function table(parent, headers, testid) {
  var wrap = el("div", "table-wrap");
  var tbl = el("table", "data");
  if (testid) { tbl.setAttribute("data-testid", testid); }
  var head = el("thead");
  var tr = el("tr");
  headers.forEach(function (h) { tr.appendChild(el("th", null, h)); });
  head.appendChild(tr);
  tbl.appendChild(head);
  var body = el("tbody");
  tbl.appendChild(body);
  wrap.appendChild(tbl);
  parent.appendChild(wrap);
  return body;
}

/** A row of cells: strings/numbers become text, nodes are appended as they are. */
export function row(body, cells, testid) {
  var tr = el("tr");
  if (testid) { tr.setAttribute("data-testid", testid); }
  cells.forEach(function (c) {
    var td = el("td");
    if (c instanceof Node) { td.appendChild(c); } else { td.textContent = c === null || c === undefined ? "—" : String(c); }
    tr.appendChild(td);
  });
  body.appendChild(tr);
  return tr;
}

export function empty(body, columns, key) {
  clear(body);
  var tr = el("tr");
  var td = el("td", "muted", t(key || "admin.empty"));
  td.colSpan = columns;
  tr.appendChild(td);
  body.appendChild(tr);
}

export function submitButton(f, labelKey, testid) {
  var b = el("button", "primary", t(labelKey));
  b.type = "submit";
  b.setAttribute("data-testid", testid || "submit-" + f.getAttribute("data-form"));
  f.appendChild(b);
  return b;
}

/** A value shown once (a secret, a new API key) with a copy button. */
export function showOnce(parent, labelKey, value, testid) {
  var box = el("div", "once");
  box.setAttribute("data-testid", testid);
  box.appendChild(el("p", "once-label", t(labelKey)));
  var code = el("code", "once-value", value);
  box.appendChild(code);
  box.appendChild(copyButton(value, testid + "-copy"));
  parent.appendChild(box);
  return box;
}

export function copyButton(text, testid) {
  var b = button(t("admin.copy"), function () {
    var done = function () { b.textContent = t("admin.copied"); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else { fallbackCopy(text); done(); }
  }, testid);
  return b;
}

function fallbackCopy(text) {
  var area = el("textarea");
  area.value = text;
  document.body.appendChild(area);
  area.select();
  try { document.execCommand("copy"); } catch (e) { /* nothing to do */ }
  document.body.removeChild(area);
}

export function formatSeconds(s) {
  if (s === null || s === undefined) { return "—"; }
  if (s < 60) { return s.toFixed(1) + " " + t("admin.unit.s"); }
  if (s < 3600) { return (s / 60).toFixed(1) + " " + t("admin.unit.min"); }
  return (s / 3600).toFixed(1) + " " + t("admin.unit.h");
}

export function formatShare(x) {
  return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%";
}

export function formatDate(iso) {
  if (!iso) { return "—"; }
  var d = new Date(iso);
  return isNaN(d.getTime()) ? "—" : d.toLocaleString();
}
