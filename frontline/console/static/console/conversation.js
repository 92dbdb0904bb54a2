/* One conversation: opening and closing it (with the URL), its state and contact, the
 * operator's actions, and the reply and note forms. The history is in messages.js, the AI
 * panel in aipanel.js, typing in typing.js. */

import { renderAiPanel } from "./aipanel.js";
import { api, failed } from "./api.js";
import { setupCanned } from "./canned.js";
import { CFG } from "./config.js";
import { $, clear, el, option } from "./dom.js";
import { conversationTitle, t } from "./i18n.js";
import { renderInbox, upsertConversation } from "./inbox.js";
import { addMessage, renderMessageList } from "./messages.js";
import { baseTitle, forgetHandoff, renderHandoffs, titleCount } from "./notify.js";
import {
  channelTag, contactName, loadContact, memberName, members, moderationChip, storeContact, tagChip,
  tags
} from "./reference.js";
import { CONVERSATION_FRAMES, on, onConnect, send } from "./socket.js";
import { current, setCurrent } from "./state.js";
import { resetTyping, stopTyping } from "./typing.js";

var loadToken = 0;

function renderConversationState() {
  var c = current.conv;
  $("conv-title").textContent = conversationTitle(c);
  var channel = $("conv-channel");
  clear(channel);
  var tag = channelTag(c.channel_id);
  while (tag.firstChild) { channel.appendChild(tag.firstChild); }
  channel.className = tag.className;
  channel.title = tag.title;
  var item = c.meta && c.meta.avito_item_id; // the Avito listing the chat is about
  if (item) {
    channel.appendChild(el("span", "channel-item", t("conv.avito_item", { id: item })));
    channel.title += " \u00b7 " + t("conv.avito_item", { id: item });
  }
  var moderation = $("conv-moderation");
  var chip = moderationChip(c.meta && c.meta.moderation, "conv-moderation");
  moderation.hidden = !chip;
  moderation.textContent = chip ? chip.textContent : "";
  moderation.className = chip ? chip.className : "tag";
  moderation.title = chip ? chip.title : "";
  var status = $("conv-status");
  status.textContent = t("status." + c.status);
  status.className = "tag tag-status-" + c.status;
  $("conv-assignee").textContent = memberName(c.assignee_id);
  $("accept").hidden = c.assignee_id === CFG.user_id;
  $("handback").disabled = c.status === "bot";
  $("resolve").disabled = c.status === "resolved";
  $("field-status").value = c.status;
  $("field-priority").value = c.priority;
  $("field-category").value = c.category_id || "";
  renderTags(c);
  var transfer = $("transfer-to");
  var chosen = transfer.value;
  clear(transfer);
  transfer.appendChild(option("", t("conv.unassigned"), false));
  members.forEach(function (m, id) {
    if (id !== c.assignee_id) { transfer.appendChild(option(id, m.name || m.email, id === chosen)); }
  });
  document.title = titleCount() + conversationTitle(c) + " · " + baseTitle;
  renderAiPanel();
  // other panels (copilot.js) follow the open conversation's state through this event
  document.dispatchEvent(new CustomEvent("console:conversation", { detail: c }));
}

/** The conversation's tags as chips with a remove button, and the tags it could get. */
function renderTags(c) {
  var list = $("conv-tags");
  clear(list);
  var mine = c.tags || [];
  if (!mine.length) { list.appendChild(el("li", "muted", t("field.no_tags"))); }
  mine.forEach(function (tag) {
    var li = el("li", "conv-tag");
    li.setAttribute("data-testid", "conv-tag");
    li.appendChild(tagChip(tag));
    var remove = el("button", "link tag-remove", "\u00d7");
    remove.type = "button";
    remove.setAttribute("aria-label", t("field.remove_tag", { name: tag.name }));
    remove.setAttribute("data-testid", "tag-remove");
    remove.addEventListener("click", function () {
      putTags(mine.filter(function (x) { return x.id !== tag.id; }).map(function (x) { return x.id; }));
    });
    li.appendChild(remove);
    list.appendChild(li);
  });
  var select = $("field-tag-add");
  clear(select);
  select.appendChild(option("", t("field.add_tag"), true));
  tags.forEach(function (tag) {
    if (!mine.some(function (x) { return x.id === tag.id; })) { select.appendChild(option(tag.id, tag.name, false)); }
  });
  select.disabled = select.options.length < 2;
}

function putTags(ids) {
  if (!current) { return; }
  var id = current.conv.id;
  api("PUT", "/conversations/" + id + "/tags", { tag_ids: ids }).then(function (rows) {
    if (current && current.conv.id === id) {
      current.conv.tags = rows;
      renderTags(current.conv);
      upsertConversation(Object.assign({}, current.conv));
    }
  }).catch(function (error) {
    if (current) { renderTags(current.conv); }
    failed(error);
  });
}

function renderContact() {
  if (!current) { return; }
  var contact = current.contact;
  var node = $("conv-contact");
  node.setAttribute("data-contact-id", current.conv.contact_id);
  node.textContent = contact ? contactName(contact) : "…";
  var box = $("contact-ai");
  box.disabled = !contact;
  box.checked = !!(contact && contact.ai_enabled);
}

function renderConversation(detail) {
  var list = $("messages");
  var messages = detail.messages;
  delete detail.messages;
  current.conv = detail;
  current.loaded = true;
  current.messages = new Map();
  messages.forEach(function (m) { current.messages.set(m.id, m); });
  renderMessageList();
  $("no-conversation").hidden = true;
  $("conversation").hidden = false;
  renderConversationState();
  renderContact();
  list.scrollTop = list.scrollHeight;
}

/** Names are known now (reference data loaded): render the open conversation again. */
export function refresh() {
  if (current && current.loaded) {
    renderMessageList();
    renderConversationState();
    renderContact();
  }
}

/** A conversation's new state: in the inbox, and here when it is the open one. */
function conversationChanged(c) {
  if (current && current.conv.id === c.id) {
    if (c.tags === null || c.tags === undefined) { c.tags = current.conv.tags; }
    current.conv = c;
    if (current.loaded) { renderConversationState(); }
  }
}

export function openConversation(id, push) {
  var token = ++loadToken;
  if (current && current.conv.id !== id) { send("unsubscribe", { conversation_id: current.conv.id }); stopTyping(); }
  if (!current || current.conv.id !== id) {
    setCurrent({
      conv: { id: id, contact_id: null }, loaded: false, messages: new Map(),
      streams: new Map(), contact: null, draft: null
    });
    resetTyping();
  }
  if (push) { window.history.pushState({ id: id }, "", "/console/conversations/" + id); }
  send("subscribe", { conversation_id: id });
  forgetHandoff(id);
  return api("GET", "/conversations/" + id).then(function (detail) {
    if (token !== loadToken) { return; }
    renderConversation(detail);
    renderInbox();
    return loadContact(detail.contact_id, true).then(function (contact) {
      if (token !== loadToken) { return; }
      current.contact = contact;
      renderContact();
    });
  }).catch(function (error) {
    if (token !== loadToken) { return; }
    failed(error);
  });
}

function closeConversation() {
  if (current) { send("unsubscribe", { conversation_id: current.conv.id }); }
  stopTyping();
  setCurrent(null);
  loadToken++;
  $("conversation").hidden = true;
  $("no-conversation").hidden = false;
  document.title = baseTitle;
  renderHandoffs();
  renderInbox();
}

/** The conversation id in the page's URL, or null. */
export function idFromPath() {
  var match = /^\/console\/conversations\/(\d+)$/.exec(window.location.pathname);
  return match ? Number(match[1]) : null;
}

// --- actions -------------------------------------------------------------------------------

/** Our own change to a conversation: shown like the same event from the socket. */
function changed(c) {
  upsertConversation(c);
  conversationChanged(c);
}

function act(promise) {
  return promise.then(function (c) {
    if (c) { changed(c); }
    return c;
  }).catch(failed);
}

function patchConversation(body) {
  if (!current) { return Promise.resolve(null); }
  return act(api("PATCH", "/conversations/" + current.conv.id, body)).then(function (c) {
    if (!c && current) { renderConversationState(); } // refused: show the real state again
  });
}

function assign(userId) {
  if (!current) { return; }
  act(api("POST", "/conversations/" + current.conv.id + "/assign", { assignee_id: userId || null }));
}

function submitText(form, textarea, path) {
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) { return; }
    var text = textarea.value;
    if (!text.trim()) { textarea.focus(); return; }
    var button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    var id = current.conv.id;
    api("POST", "/conversations/" + id + path, { text: text }).then(function (m) {
      if (textarea.value === text) { textarea.value = ""; }
      // the socket may have brought it first, and a newer state of it (queued, then
      // sent): this answer must not put the older one back
      if (!(current && current.messages.has(m.id))) { addMessage(m); }
      if (path === "/messages") {
        stopTyping();
        // the reply may have opened and assigned the conversation: read its state
        return api("GET", "/conversations/" + id).then(function (detail) {
          delete detail.messages;
          changed(detail);
        });
      }
    }).catch(failed).then(function () {
      button.disabled = false;
    });
  });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

export function wire() {
  $("conv-list").addEventListener("click", function (event) {
    var link = event.target.closest('a[data-testid="conv-row"]');
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    openConversation(Number(link.getAttribute("data-id")), true);
  });
  window.addEventListener("popstate", function () {
    var id = idFromPath();
    if (id) { openConversation(id, false); } else { closeConversation(); }
  });

  $("accept").addEventListener("click", function () { assign(CFG.user_id); });
  $("transfer").addEventListener("click", function () { assign($("transfer-to").value); });
  $("handback").addEventListener("click", function () { patchConversation({ status: "bot" }); });
  $("resolve").addEventListener("click", function () { patchConversation({ status: "resolved" }); });
  $("field-status").addEventListener("change", function () {
    patchConversation({ status: $("field-status").value });
  });
  $("field-priority").addEventListener("change", function () {
    patchConversation({ priority: $("field-priority").value });
  });
  $("field-category").addEventListener("change", function () {
    patchConversation({ category_id: $("field-category").value || null });
  });
  $("field-tag-add").addEventListener("change", function () {
    var chosen = $("field-tag-add").value;
    if (!current || !chosen) { return; }
    putTags((current.conv.tags || []).map(function (x) { return x.id; }).concat([chosen]));
  });
  $("contact-ai").addEventListener("change", function () {
    if (!current || !current.contact) { return; }
    var box = $("contact-ai");
    var wanted = box.checked;
    var id = current.contact.id;
    api("PATCH", "/contacts/" + encodeURIComponent(id), { ai_enabled: wanted }).then(function (contact) {
      storeContact(id, contact);
      if (current && current.contact && current.contact.id === id) {
        current.contact = contact;
        renderContact();
      }
    }).catch(function (error) {
      box.checked = !wanted;
      failed(error);
    });
  });
  submitText($("reply-form"), $("reply-text"), "/messages");
  setupCanned($("reply-form"), $("reply-text"));
  submitText($("note-form"), $("note-text"), "/notes");

  // after the inbox's handler (main.js wires the inbox first)
  CONVERSATION_FRAMES.forEach(function (type) {
    on(type, function (data) {
      if (data && data.id) { conversationChanged(data); }
    });
  });
  onConnect(function () {
    if (current) {
      send("subscribe", { conversation_id: current.conv.id });
      openConversation(current.conv.id, false);
    }
  });
}
