/* Telling the operator: the screen reader announcer, and handoff requests (the badge, the
 * count in the title, a sound). Errors go to the flash (flash.js). */

import { $ } from "./dom.js";
import { conversationTitle, t } from "./i18n.js";
import { on } from "./socket.js";
import { current } from "./state.js";

export function announce(message) {
  var node = $("announcer");
  node.textContent = "";
  setTimeout(function () { node.textContent = message; }, 50);
}

// --- handoff requests: badge, title, sound -------------------------------------------------

var handoffs = new Set();
export var baseTitle = document.title;
var soundOn = window.localStorage.getItem("fl-console-sound") !== "off";
var audio = null;

/** Whether a handoff request for conversation id is still unseen. */
export function isUnseen(id) {
  return handoffs.has(id);
}

/** "(n) " when n handoff requests are unseen, else "" (a prefix for the page title). */
export function titleCount() {
  return handoffs.size ? "(" + handoffs.size + ") " : "";
}

export function renderHandoffs() {
  var n = handoffs.size;
  $("handoff-count").textContent = String(n);
  $("handoff-badge").hidden = n === 0;
  document.title = n ? "(" + n + ") " + baseTitle : baseTitle;
}

export function forgetHandoff(id) {
  if (handoffs.delete(id)) { renderHandoffs(); }
}

export function clearHandoffs() {
  handoffs.clear();
  renderHandoffs();
}

function unlockAudio() {
  if (audio || !(window.AudioContext || window.webkitAudioContext)) { return; }
  try {
    audio = new (window.AudioContext || window.webkitAudioContext)();
  } catch (e) {
    audio = null;
  }
}

function beep() {
  if (!soundOn || !audio) { return; }
  try {
    if (audio.state === "suspended") { audio.resume(); }
    var now = audio.currentTime;
    [0, 0.18].forEach(function (offset, i) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = i ? 1175 : 880;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.15);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.16);
    });
  } catch (e) {
    /* no sound is not an error */
  }
}

function renderSound() {
  var button = $("sound-toggle");
  button.textContent = soundOn ? t("sound.on") : t("sound.off");
  button.setAttribute("aria-pressed", soundOn ? "true" : "false");
}

function handoffRequested(c) {
  var watching = current && current.conv.id === c.id && !document.hidden;
  if (!watching) {
    handoffs.add(c.id);
    renderHandoffs();
    beep();
  }
  announce(t("handoff.announce", { subject: conversationTitle(c) }));
}

export function wire() {
  $("sound-toggle").addEventListener("click", function () {
    soundOn = !soundOn;
    window.localStorage.setItem("fl-console-sound", soundOn ? "on" : "off");
    unlockAudio();
    renderSound();
  });
  // browsers allow sound only after the user has interacted with the page
  ["pointerdown", "keydown"].forEach(function (name) {
    document.addEventListener(name, unlockAudio, { once: true, capture: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && current) { forgetHandoff(current.conv.id); }
  });
  // after the inbox and the open conversation have taken the new state
  on("conversation.handoff_requested", function (data) {
    if (data && data.id) { handoffRequested(data); }
  });
  renderSound();
  renderHandoffs();
}
