/* The open conversation's history: messages in id order whatever order events arrive in,
 * their delivery state, and AI replies streaming in before they are stored. */

import { renderAiPanel } from "./aipanel.js";
import { $, clear, el } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { knownContactName, memberName } from "./reference.js";
import { on } from "./socket.js";
import { current } from "./state.js";

function senderLabel(m) {
  if (m.sender_type === "operator" && m.author_id) { return memberName(m.author_id); }
  if (m.sender_type === "contact" && current) { return knownContactName(current.conv.contact_id); }
  return t("sender." + m.sender_type);
}

function renderMessage(m) {
  var li = el("li", "msg msg-" + m.sender_type);
  li.setAttribute("data-testid", "message");
  li.setAttribute("data-id", String(m.id));
  var suggestion = m.meta && m.meta.suggestion === true;
  if (m.is_internal) { li.classList.add(suggestion ? "msg-suggestion" : "msg-note"); }
  var head = el("p", "msg-head");
  var author = el("span", "msg-author", senderLabel(m));
  if (m.sender_type === "contact" && current && current.conv.contact_id) {
    author.setAttribute("data-contact-id", current.conv.contact_id);
  }
  head.appendChild(author);
  if (m.is_internal) {
    head.appendChild(el("span", "tag tag-internal", suggestion ? t("msg.suggestion") : t("msg.note")));
  }
  var time = el("time", "msg-time", formatTime(m.created_at));
  time.dateTime = m.created_at;
  head.appendChild(time);
  if (!m.is_internal && (m.sender_type === "operator" || m.sender_type === "ai")) {
    var status = m.delivery_status;
    if (status === "queued" || status === "sent" || status === "failed") {
      var d = el("span", "delivery delivery-" + status, t("delivery." + status));
      if (status === "failed" && m.failure_reason) { d.title = m.failure_reason; }
      head.appendChild(d);
    }
  }
  li.appendChild(head);
  li.appendChild(el("p", "msg-text", m.text));
  if (m.delivery_status === "failed" && m.failure_reason) {
    li.appendChild(el("p", "msg-failure small", m.failure_reason));
  }
  return li;
}

function nearBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

/** The whole history again (another conversation, or names known now). */
export function renderMessageList() {
  var list = $("messages");
  clear(list);
  Array.from(current.messages.values()).sort(function (a, b) { return a.id - b.id; }).forEach(function (m) {
    list.appendChild(renderMessage(m));
  });
  current.streams.forEach(function (node) { list.appendChild(node); });
}

/** A message of the open conversation, new or in a newer state (others are ignored). */
export function addMessage(m) {
  if (!current || m.conversation_id !== current.conv.id) { return; }
  var list = $("messages");
  var stick = nearBottom(list);
  var node = renderMessage(m);
  var existing = list.querySelector('li.msg[data-id="' + m.id + '"]');
  current.messages.set(m.id, m);
  if (existing) {
    list.replaceChild(node, existing);
  } else {
    // keep the id order whatever order events arrive in
    var after = null;
    list.querySelectorAll("li.msg[data-id]").forEach(function (other) {
      if (!after && Number(other.getAttribute("data-id")) > m.id) { after = other; }
    });
    list.insertBefore(node, after || firstStream(list));
  }
  var streamId = m.meta && m.meta.stream_id;
  if (streamId) { dropStream(streamId); }
  renderAiPanel();
  if (stick) { list.scrollTop = list.scrollHeight; }
}

function firstStream(list) {
  return list.querySelector("li.msg-stream");
}

function dropStream(streamId) {
  if (!current) { return; }
  var node = current.streams.get(streamId);
  if (node && node.parentNode) { node.parentNode.removeChild(node); }
  current.streams.delete(streamId);
}

function onDelta(data) {
  if (!current || data.conversation_id !== current.conv.id || !data.stream_id) { return; }
  if (data.done) {
    if (data.discarded) { dropStream(data.stream_id); }
    return;
  }
  var node = current.streams.get(data.stream_id);
  var list = $("messages");
  if (!node) {
    node = el("li", "msg msg-ai msg-stream");
    node.setAttribute("aria-hidden", "true"); // announced once, when it is stored
    var head = el("p", "msg-head");
    head.appendChild(el("span", "msg-author", t("sender.ai")));
    head.appendChild(el("span", "tag", t("msg.streaming")));
    node.appendChild(head);
    node.appendChild(el("p", "msg-text", ""));
    current.streams.set(data.stream_id, node);
    list.appendChild(node);
  }
  var text = node.querySelector(".msg-text");
  if (data.reset) {
    text.textContent = "";
  } else if (typeof data.delta === "string") {
    var stick = nearBottom(list);
    text.textContent += data.delta;
    if (stick) { list.scrollTop = list.scrollHeight; }
  }
}

export function wire() {
  ["message.created", "message.updated"].forEach(function (type) {
    on(type, function (data) {
      if (data && data.id) { addMessage(data); }
    });
  });
  on("message.delta", onDelta);
}
