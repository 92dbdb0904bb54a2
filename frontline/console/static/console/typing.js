/* Typing, both ways, in the open conversation: who is typing there (the AI, the customer,
 * another operator), and telling the others while this operator types a reply. */

import { CFG } from "./config.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { on, send } from "./socket.js";
import { current } from "./state.js";

var TYPING_SEND_MS = 3000;
var TYPING_IDLE_MS = 5000;
var VISITOR_TYPING_MS = 8000;

var typingState = { ai: false, contact: false, contactTimer: null, operator: null, operatorTimer: null };
var typingSent = { active: false, at: 0, timer: null, conversation: null };

function renderTyping() {
  var text = "";
  if (typingState.ai) {
    text = t("typing.ai");
  } else if (typingState.contact) {
    text = t("typing.contact");
  } else if (typingState.operator) {
    text = t("typing.operator", { name: typingState.operator });
  }
  $("typing").textContent = text;
}

/** Another conversation is open: nobody is typing there yet. */
export function resetTyping() {
  typingState.ai = false;
  typingState.contact = false;
  typingState.operator = null;
  renderTyping();
}

/** Someone typing in the open conversation: the customer, or another operator. */
function onTyping(data) {
  if (!current || data.conversation_id !== current.conv.id) { return; }
  var active = !!data.active;
  if (data.sender === "operator") {
    if (data.user_id === CFG.user_id) { return; } // our own typing, echoed
    typingState.operator = active ? (data.author_name || t("sender.operator")) : null;
    clearTimeout(typingState.operatorTimer);
    if (active) {
      typingState.operatorTimer = setTimeout(function () {
        typingState.operator = null;
        renderTyping();
      }, VISITOR_TYPING_MS);
    }
  } else {
    typingState.contact = active;
    clearTimeout(typingState.contactTimer);
    if (active) {
      typingState.contactTimer = setTimeout(function () {
        typingState.contact = false;
        renderTyping();
      }, VISITOR_TYPING_MS);
    }
  }
  renderTyping();
}

/** This operator stopped typing (sent, left the conversation, or idle). */
export function stopTyping() {
  clearTimeout(typingSent.timer);
  if (typingSent.active) {
    send("typing", { conversation_id: typingSent.conversation, active: false });
  }
  typingSent.active = false;
}

function typed() {
  if (!current) { return; }
  var now = Date.now();
  if (!typingSent.active || now - typingSent.at > TYPING_SEND_MS) {
    typingSent.active = true;
    typingSent.at = now;
    typingSent.conversation = current.conv.id;
    send("typing", { conversation_id: current.conv.id, active: true });
  }
  clearTimeout(typingSent.timer);
  typingSent.timer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function wire() {
  $("reply-text").addEventListener("input", typed);
  on("ai.typing", function (data) {
    if (current && data.conversation_id === current.conv.id) {
      typingState.ai = !!data.active;
      renderTyping();
    }
  });
  on("typing", onTyping);
}
