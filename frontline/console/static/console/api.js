/* The REST API (/api/v1) with the session cookie and the X-CSRF-Token header. */

import { CFG } from "./config.js";
import { t } from "./i18n.js";
import { flash } from "./flash.js";

export function csrfToken() {
  var prefix = CFG.csrf_cookie + "=";
  var parts = document.cookie ? document.cookie.split(";") : [];
  for (var i = 0; i < parts.length; i++) {
    var part = parts[i].trim();
    if (part.indexOf(prefix) === 0) { return decodeURIComponent(part.slice(prefix.length)); }
  }
  return "";
}

function toLogin() {
  window.location.assign(CFG.login_url + "?next=" + encodeURIComponent(window.location.pathname));
}

export function ApiError(status, message, code, fields) {
  this.status = status;
  this.message = message;
  this.code = code || null;
  this.fields = fields || []; // a 422's failing fields: [{loc: [...], message}]
}

/** The answer's JSON (null for 204); rejects with an ApiError (401: to the login page). */
export function api(method, path, body) {
  var headers = { "Accept": "application/json" };
  var init = { method: method, credentials: "same-origin", headers: headers };
  if (method !== "GET") { headers["X-CSRF-Token"] = csrfToken(); }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(CFG.api + path, init).then(function (response) {
    if (response.status === 401) {
      flash(t("error.session"));
      toLogin();
      throw new ApiError(401, t("error.session"));
    }
    if (response.status === 204) { return null; }
    return response.json().catch(function () { return null; }).then(function (data) {
      if (!response.ok) {
        var message = data && data.error && data.error.message ? data.error.message : String(response.status);
        throw new ApiError(
          response.status,
          message,
          data && data.error ? data.error.code : null,
          data && data.error ? data.error.fields : null
        );
      }
      return data;
    });
  }, function () {
    throw new ApiError(0, t("error.network"));
  });
}

/** A failed call, shown in the flash (a 401 has already gone to the login page). */
export function failed(error) {
  if (error && error.status === 401) { return; }
  // an error the console knows by its code is explained in the operator's language
  var known = error && error.code ? "error." + error.code : null;
  if (known && t(known) !== known) { flash(t(known)); return; }
  flash(t("error.generic", { message: error && error.message ? error.message : "?" }));
}

/** "?a=1&b=x&b=y" from params, leaving out empty values. */
export function query(params) {
  var parts = [];
  Object.keys(params).forEach(function (key) {
    var value = params[key];
    if (value === null || value === undefined || value === "") { return; }
    (Array.isArray(value) ? value : [value]).forEach(function (v) {
      parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(v));
    });
  });
  return parts.length ? "?" + parts.join("&") : "";
}
