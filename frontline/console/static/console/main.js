/* Frontline operator console: the entry module (loaded by console.html as
 * <script type="module">). It reads the page's JSON blocks, wires the views and starts.
 *
 * Plain browser JavaScript, ES modules, no build step and no libraries. Views talk to the
 * REST API (/api/v1) through api.js (session cookie, X-CSRF-Token, errors to the flash) and
 * get live events from /ws/console through socket.js; the database is the source of truth,
 * so after every (re)connection they read their state again. Text from the server only ever
 * goes into the page with textContent.
 *
 * Modules: config.js, i18n.js, dom.js (shared helpers); api.js, flash.js, socket.js
 * (transport); reference.js (members, categories, channels, contacts); state.js (the open
 * conversation); inbox.js, conversation.js, messages.js, aipanel.js, typing.js, notify.js
 * (views).
 *
 * To add a view: a module here that exports wire() (find its elements, add listeners,
 * subscribe to frames) and reads t() from i18n.js, CFG from config.js, api() from api.js;
 * import it below and call its wire() in start(). Strings go to frontline/console/i18n.py
 * (ru and en), markup to the template. Import siblings by relative URL ("./x.js"): the page
 * loads this module from /static/v/<asset version>/console/main.js, so every relative
 * import carries the version and an upgrade never mixes old and new modules.
 *
 * To react to socket frames: on("message.created", function (data, type) { ... }) from
 * socket.js; handlers of one type run in the order they subscribed (the order of wire()
 * calls below), an error in one does not stop the others. onConnect(fn) runs after every
 * (re)connection (re-read state there); send(type, data) sends a frame. Frame types are in
 * frontline/events.py.
 */

import { configure, CFG } from "./config.js";
import * as aipanel from "./aipanel.js";
import * as bookingpanel from "./bookingpanel.js";
import * as conversation from "./conversation.js";
import * as contactpanel from "./contactpanel.js";
import * as copilot from "./copilot.js";
import * as copilotBooking from "./copilotbooking.js";
import { setup } from "./i18n.js";
import * as inbox from "./inbox.js";
import * as messages from "./messages.js";
import * as notify from "./notify.js";
import { loadReference } from "./reference.js";
import { connect } from "./socket.js";
import * as typing from "./typing.js";

function readJson(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

function start() {
  configure(readJson("console-config"));
  setup(readJson("i18n"), CFG.lang);

  inbox.wire();
  conversation.wire();
  messages.wire();
  aipanel.wire();
  typing.wire();
  notify.wire();
  copilot.wire();
  copilotBooking.wire();
  contactpanel.wire();
  bookingpanel.wire();

  var first = CFG.conversation_id || conversation.idFromPath();
  if (first) {
    window.history.replaceState({ id: first }, "", "/console/conversations/" + first);
  }
  loadReference().then(function () {
    inbox.renderInbox();
    conversation.refresh(); // operator names are known now
  });
  inbox.loadInbox(false);
  if (first) { conversation.openConversation(first, false); }
  connect();
}

start();
