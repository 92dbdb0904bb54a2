/* The open conversation's history: messages in id order whatever order events arrive in,
 * their delivery state, and AI replies streaming in before they are stored. */

import { renderAiPanel } from "./aipanel.js";
import { api, failed } from "./api.js";
import { $, clear, el } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { knownContactName, memberName, moderationChip } from "./reference.js";
import { on } from "./socket.js";
import { current } from "./state.js";

function senderLabel(m) {
  if (m.sender_type === "operator" && m.author_id) { return memberName(m.author_id); }
  if (m.sender_type === "contact" && current) { return knownContactName(current.conv.contact_id); }
  return t("sender." + m.sender_type);
}

function fileSize(bytes) {
  if (typeof bytes !== "number") { return ""; }
  if (bytes < 1024) { return t("file.bytes", { n: bytes }); }
  if (bytes < 1024 * 1024) { return t("file.kb", { n: Math.round(bytes / 1024) }); }
  return t("file.mb", { n: (bytes / 1048576).toFixed(1) });
}

/** A message's files: images as thumbnails, other files as links (same-origin paths only),
 * and the state of those not stored yet. */
function renderFiles(files) {
  var box = el("div", "files");
  box.setAttribute("data-testid", "files");
  (files || []).forEach(function (f) {
    var name = String(f.filename || "file");
    var url = typeof f.url === "string" && f.url.charAt(0) === "/" && f.url.charAt(1) !== "/" ? f.url : null;
    if (url && f.inline) {
      var a = el("a", "file-thumb");
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener";
      a.title = t("file.open", { name: name });
      var img = el("img", "thumb");
      img.src = url;
      img.alt = name;
      img.loading = "lazy";
      a.appendChild(img);
      box.appendChild(a);
    } else if (url) {
      var link = el("a", "file", name);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener";
      var size = fileSize(f.size);
      if (size) { link.appendChild(el("span", "file-size small", " " + size)); }
      box.appendChild(link);
    } else if (f.status === "failed") {
      var failedFile = el("span", "file file-failed", t("file.failed", { name: name }));
      if (f.failure_reason) { failedFile.title = f.failure_reason; }
      box.appendChild(failedFile);
    } else {
      box.appendChild(el("span", "file file-pending", t("file.pending", { name: name })));
    }
  });
  return box;
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
  var flagged = moderationChip(m.meta && m.meta.moderation, "msg-moderation");
  if (flagged) { head.appendChild(flagged); }
  var time = el("time", "msg-time", formatTime(m.created_at));
  time.dateTime = m.created_at;
  head.appendChild(time);
  if (!m.is_internal && (m.sender_type === "operator" || m.sender_type === "ai")) {
    var status = m.delivery_status;
    if (["queued", "sending", "sent", "delivered", "read", "failed", "unknown"].indexOf(status) >= 0) {
      var d = el("span", "delivery delivery-" + status, t("delivery." + status));
      d.setAttribute("data-testid", "delivery");
      if (status === "failed" && m.failure_reason) { d.title = m.failure_reason; }
      head.appendChild(d);
    }
  }
  li.appendChild(head);
  if (m.text) { li.appendChild(el("p", "msg-text", m.text)); }
  if (m.attachments && m.attachments.length) { li.appendChild(renderFiles(m.attachments)); }
  if (m.delivery_status === "failed" && m.failure_reason) {
    li.appendChild(el("p", "msg-failure small", m.failure_reason));
  }
  if (m.delivery_status === "unknown" && !m.is_internal) { li.appendChild(renderUnknown(m)); }
  return li;
}

/** Why an interrupted send is not repeated by itself, and the operator's deliberate
 * resend (the customer may then get the message twice). */
function renderUnknown(m) {
  var box = el("div", "msg-unknown small");
  box.setAttribute("data-testid", "delivery-unknown");
  box.appendChild(el("p", "msg-failure", t("delivery.unknown_help")));
  var button = el("button", "secondary", t("delivery.resend"));
  button.type = "button";
  button.setAttribute("data-testid", "resend");
  button.addEventListener("click", function () {
    button.disabled = true;
    var path = "/conversations/" + m.conversation_id + "/messages/" + m.id + "/resend";
    api("POST", path).then(function (updated) {
      var known = current && current.messages.get(updated.id);
      // the socket may have brought a newer state (sent) first: keep that one
      if (!known || known.delivery_status === "unknown") { addMessage(updated); }
    }).catch(function (error) {
      button.disabled = false;
      failed(error);
    });
  });
  box.appendChild(button);
  return box;
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
  // moderation's verdict on a message of the open conversation (message.created carries
  // it too; this keeps a history loaded in between up to date)
  on("message.moderated", function (data) {
    var known = current && data && current.messages.get(data.message_id);
    if (!known) { return; }
    var meta = Object.assign({}, known.meta || {}, { moderation: { mode: data.mode, reasons: data.reasons } });
    addMessage(Object.assign({}, known, { meta: meta }));
  });
}
