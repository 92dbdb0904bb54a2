/* The console's WebSocket (/ws/console): connection, reconnection with back-off, a watchdog
 * for a silent line, and a dispatch table that routes frames to the views by `type`.
 *
 * A frame is {type, data}. Views subscribe with on(type, handler) and are called as
 * handler(data, type) in the order they subscribed; types nobody subscribed to are ignored
 * (newer servers may send more). onConnect(handler) runs after every (re)connection: events
 * missed while offline are in the database, so views read their state again there. */

import { api } from "./api.js";
import { CFG } from "./config.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";

var SILENCE_MS = 70000;

/** The frame types that carry a conversation's new state (data: the conversation). */
export var CONVERSATION_FRAMES = [
  "conversation.created",
  "conversation.updated",
  "conversation.status",
  "conversation.assigned",
  "conversation.handoff_requested"
];

var handlers = new Map(); // type -> [handler]
var connectHandlers = [];
var socket = { ws: null, attempt: 0, timer: null, watchdog: null };

/** Call handler(data, type) for every frame of this type. */
export function on(type, handler) {
  if (!handlers.has(type)) { handlers.set(type, []); }
  handlers.get(type).push(handler);
}

/** Call handler() after every (re)connection. */
export function onConnect(handler) {
  connectHandlers.push(handler);
}

function dispatch(type, data) {
  (handlers.get(type) || []).forEach(function (handler) {
    try {
      handler(data, type);
    } catch (error) {
      // one view's failure must not keep the frame from the others
      if (window.reportError) { window.reportError(error); } else { console.error(error); }
    }
  });
}

/** Send a frame now if the socket is open (else it is dropped: state is re-read on connect). */
export function send(type, data) {
  var ws = socket.ws;
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: type, data: data }));
  }
}

on("ping", function () { send("pong", {}); });

function setOnline(online) {
  var node = $("conn");
  node.textContent = online ? t("conn.online") : t("conn.offline");
  node.className = "conn " + (online ? "online" : "offline");
}

export function connect() {
  clearTimeout(socket.timer);
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var ws;
  try {
    ws = new WebSocket(scheme + window.location.host + CFG.ws_path);
  } catch (e) {
    reconnectLater();
    return;
  }
  socket.ws = ws;
  ws.addEventListener("open", function () {
    socket.attempt = 0;
    setOnline(true);
    alive();
    connectHandlers.forEach(function (handler) { handler(); });
  });
  ws.addEventListener("message", function (event) {
    alive();
    var frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; }
    if (frame && typeof frame.type === "string") { dispatch(frame.type, frame.data || {}); }
  });
  ws.addEventListener("close", function (event) {
    if (socket.ws !== ws) { return; }
    socket.ws = null;
    clearTimeout(socket.watchdog);
    setOnline(false);
    if (event.code === 4401 || event.code === 4403) {
      // the session may have expired: a REST call tells (and goes to the login page)
      api("GET", "/me").catch(function () {});
    }
    reconnectLater();
  });
}

function alive() {
  clearTimeout(socket.watchdog);
  socket.watchdog = setTimeout(function () {
    if (socket.ws) { socket.ws.close(); } // silent too long: start over
  }, SILENCE_MS);
}

function reconnectLater() {
  clearTimeout(socket.timer);
  var base = Math.min(30000, 1000 * Math.pow(2, socket.attempt));
  socket.attempt = Math.min(socket.attempt + 1, 10);
  var delay = base / 2 + Math.random() * base / 2;
  socket.timer = setTimeout(connect, delay);
}
