/* The copilot panel (templates/copilot.html): the AI beside the operator. It never writes
 * to the customer: the summary made when the conversation was handed off (stored with the
 * conversation by a job at the handoff, shown as soon as it is ready; "Summarize again"
 * makes a fresh one), a suggested reply
 * (streamed as the model writes it, with the knowledge passages it used) to insert into the
 * reply box, and rewrites/translations of the draft in that box, each undoable. The
 * operator edits and sends with the ordinary reply form.
 *
 * It follows the open conversation through the "console:conversation" event that
 * conversation.js dispatches whenever it renders the conversation's state. */

import { ApiError, api, csrfToken } from "./api.js";
import { CFG } from "./config.js";
import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";

var HANDED_OFF = { pending: true, open: true };
var state = { id: null, shown: null, suggestion: "", undo: [], busy: false };

function notice(text) {
  var node = $("copilot-notice");
  node.textContent = text || "";
  node.hidden = !text;
}

function showError(error) {
  if (error && error.status === 503) { notice(t("copilot.unavailable")); return; }
  notice(t("copilot.failed", { message: error && error.message ? error.message : "?" }));
}

/** The operator's own words for an answer the offline engine gave instead of a model. */
function degraded(out) {
  return out.degraded ? t("copilot.down") : "";
}

function reset(id) {
  state = { id: id, shown: null, suggestion: "", undo: [], busy: false };
  notice("");
  var summary = $("copilot-summary");
  summary.textContent = t("copilot.summary_none");
  summary.className = "muted";
  clear($("copilot-needs"));
  $("copilot-needs-title").hidden = true;
  $("copilot-suggestion").hidden = true;
  $("copilot-suggestion").textContent = "";
  clear($("copilot-passages"));
  $("copilot-insert").hidden = true;
  $("copilot-undo").disabled = true;
}

function path(action) {
  return "/conversations/" + state.id + "/copilot/" + action;
}

function busy(on) {
  state.busy = on;
  var root = $("copilot");
  root.setAttribute("aria-busy", on ? "true" : "false");
  root.querySelectorAll("button").forEach(function (b) {
    if (b.id !== "copilot-undo") { b.disabled = on; }
  });
  if (!on) { $("copilot-undo").disabled = state.undo.length === 0; }
}

/** Server-sent events of a streamed action: onDelta(text) for each piece, onReset() when
 * the provider failed mid-answer; resolves with the "done" body, rejects with an ApiError. */
function streamed(action, body, onDelta, onReset) {
  var init = {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Accept": "text/event-stream",
      "Content-Type": "application/json",
      "X-CSRF-Token": csrfToken()
    },
    body: JSON.stringify(Object.assign({ stream: true }, body))
  };
  return fetch(CFG.api + path(action), init).then(function (response) {
    if (!response.ok) {
      return response.json().catch(function () { return null; }).then(function (data) {
        var message = data && data.error ? data.error.message : String(response.status);
        throw new ApiError(response.status, message);
      });
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var result = null;
    function handle(block) {
      var event = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event: ") === 0) { event = line.slice(7); }
        if (line.indexOf("data: ") === 0) { data += line.slice(6); }
      });
      var payload = data ? JSON.parse(data) : {};
      if (event === "delta") { onDelta(payload.text || ""); }
      else if (event === "reset") { onReset(); }
      else if (event === "done") { result = payload; }
      else if (event === "error") { throw new ApiError(503, payload.message || payload.code); }
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          if (buffer.trim()) { handle(buffer); }
          if (!result) { throw new ApiError(0, t("error.network")); }
          return result;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(handle);
        return pump();
      });
    }
    return pump();
  }, function () {
    throw new ApiError(0, t("error.network"));
  });
}

function showSummary(out) {
  var summary = $("copilot-summary");
  summary.textContent = out.summary;
  summary.className = "";
  var list = $("copilot-needs");
  clear(list);
  (out.needs || []).forEach(function (need) { list.appendChild(el("li", null, need)); });
  $("copilot-needs-title").hidden = !(out.needs || []).length;
}

function summarize() {
  if (!state.id) { return; }
  var id = state.id;
  state.shown = "fresh";
  busy(true);
  api("POST", path("summary"), {}).then(function (out) {
    if (state.id !== id) { return; }
    showSummary(out);
    notice(degraded(out));
  }).catch(function (error) {
    if (state.id === id) { showError(error); }
  }).then(function () { if (state.id === id) { busy(false); } });
}

function renderPassages(passages) {
  var list = $("copilot-passages");
  clear(list);
  passages.filter(function (p) { return p.cited; }).forEach(function (p) {
    var item = el("li");
    var link = el("a", null, "[" + p.label + "] " + (p.title || "#" + p.document_id));
    link.href = p.url;
    link.target = "_blank";
    link.rel = "noopener";
    item.appendChild(link);
    item.appendChild(el("span", "muted", " — " + p.excerpt));
    list.appendChild(item);
  });
}

function suggest() {
  if (!state.id || state.busy) { return; }
  var id = state.id;
  var box = $("copilot-suggestion");
  box.textContent = t("copilot.working");
  box.hidden = false;
  $("copilot-insert").hidden = true;
  clear($("copilot-passages"));
  notice("");
  busy(true);
  var text = "";
  streamed("suggest", {}, function (delta) {
    if (state.id !== id) { return; }
    text += delta;
    box.textContent = text;
  }, function () {
    text = "";
    box.textContent = t("copilot.working");
  }).then(function (out) {
    if (state.id !== id) { return; }
    state.suggestion = out.text;
    box.textContent = out.text || t("copilot.nothing");
    $("copilot-insert").hidden = !out.text;
    renderPassages(out.passages);
    notice(degraded(out));
  }).catch(function (error) {
    if (state.id !== id) { return; }
    box.hidden = true;
    showError(error);
  }).then(function () { if (state.id === id) { busy(false); } });
}

function setDraft(text) {
  var reply = $("reply-text");
  state.undo.push(reply.value);
  reply.value = text;
  reply.focus();
  $("copilot-undo").disabled = false;
}

function insert() {
  if (state.suggestion) { setDraft(state.suggestion); }
}

function transform(action, body) {
  if (!state.id || state.busy) { return; }
  var draft = $("reply-text").value.trim();
  if (!draft) { notice(t("copilot.empty_draft")); return; }
  var id = state.id;
  notice(t("copilot.working"));
  busy(true);
  api("POST", path(action), Object.assign({ text: draft }, body)).then(function (out) {
    if (state.id !== id) { return; }
    setDraft(out.text);
    notice(action === "translate" ? t("copilot.translated", { language: out.language }) : "");
  }).catch(function (error) {
    if (state.id === id) { showError(error); }
  }).then(function () { if (state.id === id) { busy(false); } });
}

function undo() {
  if (!state.undo.length) { return; }
  $("reply-text").value = state.undo.pop();
  $("copilot-undo").disabled = state.undo.length === 0;
}

/** The stored handoff summary: shown once ready (unless the operator asked for a fresh
 * one); while the job is still writing it, a line says so. */
function follow(conversation) {
  if (conversation.id !== state.id) { reset(conversation.id); }
  var stored = conversation.meta ? conversation.meta.handoff_summary : null;
  if (!stored || !HANDED_OFF[conversation.status] || state.shown === "fresh") { return; }
  if (stored.summary && state.shown !== stored.handoff_at) {
    state.shown = stored.handoff_at;
    showSummary(stored);
    notice(degraded(stored));
  } else if (!stored.summary && state.shown === null) {
    $("copilot-summary").textContent = t("copilot.preparing");
  }
}

export function wire() {
  document.addEventListener("console:conversation", function (event) { follow(event.detail); });
  $("copilot-summarize").addEventListener("click", summarize);
  $("copilot-suggest").addEventListener("click", suggest);
  $("copilot-insert").addEventListener("click", insert);
  $("copilot-undo").addEventListener("click", undo);
  $("copilot-translate").addEventListener("click", function () { transform("translate", {}); });
  $("copilot").querySelectorAll("[data-copilot-rewrite]").forEach(function (button) {
    button.addEventListener("click", function () {
      transform("rewrite", { mode: button.getAttribute("data-copilot-rewrite") });
    });
  });
}
