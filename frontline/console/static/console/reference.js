/* Reference data the views show by name: members, categories, channels, contacts. */

import { api, failed } from "./api.js";
import { $, clear, el, option } from "./dom.js";
import { t } from "./i18n.js";

export var members = new Map();
export var categories = new Map();
export var tags = new Map(); // id -> {id, name, color}
var channels = new Map();
var contacts = new Map(); // id -> {data, promise}

export function memberName(id) {
  if (!id) { return t("conv.unassigned"); }
  var m = members.get(id);
  return m ? (m.name || m.email) : "…";
}

export function contactName(contact) {
  if (!contact) { return ""; }
  if (contact.name) { return contact.name; }
  if (contact.email) { return contact.email; }
  if (contact.phone) { return contact.phone; }
  var ids = (contact.identities || []).map(function (i) { return i.external_id; });
  // a web chat visitor is anonymous until they introduce themselves: a short, stable tag
  var visitor = ids.filter(function (x) { return x.indexOf("visitor:") === 0; })[0];
  if (visitor) { return t("contact.visitor", { id: visitor.slice(8, 14) }); }
  if (ids.length) { return ids[0]; }
  return t("contact.anonymous");
}

/** The contact (cached unless fresh); every [data-contact-id] node of it is renamed. */
export function loadContact(id, fresh) {
  var entry = contacts.get(id);
  if (entry && !fresh) { return entry.promise; }
  var promise = api("GET", "/contacts/" + encodeURIComponent(id)).then(function (data) {
    contacts.set(id, { data: data, promise: promise });
    document.querySelectorAll("[data-contact-id]").forEach(function (node) {
      if (node.getAttribute("data-contact-id") === id) { node.textContent = contactName(data); }
    });
    return data;
  });
  promise.catch(function () { contacts.delete(id); });
  contacts.set(id, { data: entry ? entry.data : null, promise: promise });
  return promise;
}

/** Whether the contact has been asked for (loaded or on its way). */
export function contactKnown(id) {
  return contacts.has(id);
}

/** A contact's new state, from an answer of the API. */
export function storeContact(id, contact) {
  contacts.set(id, { data: contact, promise: Promise.resolve(contact) });
}

export function knownContactName(id) {
  var entry = contacts.get(id);
  return entry && entry.data ? contactName(entry.data) : "…";
}

export function loadReference() {
  var jobs = [
    api("GET", "/members").then(function (rows) {
      members.clear();
      rows.forEach(function (m) { members.set(m.user_id, m); });
    }),
    api("GET", "/categories").then(function (rows) {
      categories.clear();
      rows.forEach(function (c) { categories.set(c.id, c); });
      fillCategorySelects();
    }),
    api("GET", "/tags").then(function (rows) {
      tags.clear();
      rows.forEach(function (tag) { tags.set(tag.id, tag); });
      fillTagFilter();
    }),
    api("GET", "/inbox/channels").then(function (rows) {
      channels.clear();
      rows.forEach(function (c) { channels.set(c.id, c); });
      fillChannelFilter();
    }, function () {
      $("f-channel").disabled = true; // not available: filter by the other fields
    })
  ];
  return Promise.all(jobs.map(function (p) { return p.catch(failed); }));
}

function fillCategorySelects() {
  [["f-category", t("filter.any")], ["field-category", t("field.no_category")]].forEach(function (pair) {
    var select = $(pair[0]);
    var current = select.value;
    clear(select);
    select.appendChild(option("", pair[1], false));
    categories.forEach(function (c) { select.appendChild(option(c.id, categoryName(c), c.id === current)); });
  });
}

function fillTagFilter() {
  var select = $("f-tag");
  var current = select.value;
  clear(select);
  select.appendChild(option("", t("filter.any"), false));
  tags.forEach(function (tag) { select.appendChild(option(tag.id, tag.name, tag.id === current)); });
}

/** A coloured chip of a tag (its colour is a #rrggbb the API checked). */
export function tagChip(tag) {
  var chip = el("span", "tag tag-label", tag.name);
  chip.style.setProperty("--tag-color", tag.color);
  chip.setAttribute("data-tag-id", tag.id);
  return chip;
}

function fillChannelFilter() {
  var select = $("f-channel");
  var current = select.value;
  clear(select);
  select.appendChild(option("", t("filter.any"), false));
  channels.forEach(function (c) { select.appendChild(option(c.id, c.name, c.id === current)); });
}

// the demo's built-in categories, by their names in either language: shown in the
// console's language (a category a tenant named itself is shown as it is)
var BUILT_IN_CATEGORIES = {
  "бронирование": "booking", "booking": "booking",
  "оплата": "payment", "payment": "payment",
  "жалоба": "complaint", "complaint": "complaint",
  "другое": "other", "other": "other"
};

/** A category's name in the console's language (built-in ones), else as named. */
export function categoryName(c) {
  var key = BUILT_IN_CATEGORIES[String(c.name).trim().toLowerCase()];
  return key ? t("category.builtin." + key) : c.name;
}

/** Moderation's verdict on a message or a conversation (``meta.moderation``: {mode,
 * reasons}) as a tag: "Held by moderation: flood, repeated spam"; null without one. */
export function moderationChip(flag, testid) {
  if (!flag || (flag.mode !== "flag" && flag.mode !== "hold")) { return null; }
  var reasons = (Array.isArray(flag.reasons) ? flag.reasons : []).map(function (r) {
    var label = t("moderation.rule." + r);
    return label === "moderation.rule." + r ? String(r) : label;
  });
  var text = t("moderation." + flag.mode) + (reasons.length ? ": " + reasons.join(", ") : "");
  var chip = el("span", "tag tag-moderation tag-moderation-" + flag.mode, text);
  chip.setAttribute("data-testid", testid || "moderation");
  chip.setAttribute("data-mode", flag.mode);
  chip.title = text;
  return chip;
}

/** A handoff reason in the console's language: the reason's code, then its detail. */
export function handoffReasonText(conv) {
  if (!conv.handoff_reason) { return ""; }
  var code = conv.handoff_reason_code || "other";
  if (code === "other") { return conv.handoff_reason; }
  var text = t("reason." + code);
  var m = /\((.*)\)\s*$/.exec(conv.handoff_reason);
  return m ? text + " (" + m[1] + ")" : text;
}

export function channelName(id) {
  var c = channels.get(id);
  return c ? c.name : t("conv.channel");
}

/** A conversation's channel as a tag: the type's label (coloured per type), then the
 * channel's name. */
export function channelTag(id, testid) {
  var c = channels.get(id);
  var type = c ? c.type : "";
  var tag = el("span", "tag tag-channel" + (type ? " tag-channel-" + type : ""));
  if (testid) { tag.setAttribute("data-testid", testid); }
  var label = type ? t("channel.type." + type) : "";
  if (label === "channel.type." + type) { label = type; } // a type this console does not know yet
  tag.appendChild(el("span", "channel-type", label || t("conv.channel")));
  if (c && c.name && c.name !== label) { tag.appendChild(el("span", "channel-name", c.name)); }
  tag.title = t("conv.channel") + ": " + (label ? label + " \u00b7 " : "") + (c ? c.name : "");
  return tag;
}
