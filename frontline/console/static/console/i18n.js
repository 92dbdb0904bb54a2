/* UI strings (the page's JSON block "i18n", in the operator's language) and localized
 * formatting. */

var strings = {};
var dateFormat = null;

/** Set the strings and the locale (at boot, once). */
export function setup(values, lang) {
  strings = values;
  dateFormat = new Intl.DateTimeFormat(lang, {
    day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit"
  });
}

/** The string for key, with {name} placeholders filled from params; the key if unknown. */
export function t(key, params) {
  var s = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  if (params) {
    Object.keys(params).forEach(function (name) {
      s = s.split("{" + name + "}").join(String(params[name]));
    });
  }
  return s;
}

export function formatTime(iso) {
  var d = new Date(iso);
  return isNaN(d.getTime()) ? "" : dateFormat.format(d);
}

/** A conversation's title: its subject, or a numbered placeholder. */
export function conversationTitle(c) {
  return c.subject || t("conv.untitled", { id: c.id });
}
