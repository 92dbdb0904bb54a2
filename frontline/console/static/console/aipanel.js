/* The AI panel beside the open conversation: what the AI understood and decided (from the
 * latest AI message's meta), and its draft reply for the operator to insert. */

import { $, clear, el } from "./dom.js";
import { t } from "./i18n.js";
import { handoffReasonText } from "./reference.js";
import { current } from "./state.js";

function latestAi() {
  var decided = null, draft = null, lastPublicReply = 0;
  current.messages.forEach(function (m) {
    if (m.sender_type === "ai" && m.meta && m.meta.decision) {
      if (!decided || m.id > decided.id) { decided = m; }
      if (m.meta.suggestion === true && (!draft || m.id > draft.id)) { draft = m; }
    }
    if (m.sender_type === "operator" && !m.is_internal && m.id > lastPublicReply) {
      lastPublicReply = m.id;
    }
  });
  // a draft answered by an operator since is stale
  if (draft && draft.id < lastPublicReply) { draft = null; }
  return { decided: decided, draft: draft };
}

function fact(dl, label, value, testid) {
  if (value === undefined || value === null || value === "") { return; }
  dl.appendChild(el("dt", null, label));
  var dd = el("dd", null, value);
  if (testid) { dd.setAttribute("data-testid", testid); }
  dl.appendChild(dd);
}

export function renderAiPanel() {
  if (!current) { return; }
  var found = latestAi();
  var dl = $("ai-facts");
  clear(dl);
  var m = found.decided;
  var meta = m ? m.meta : {};
  if (m) {
    fact(dl, t("ai.summary"), meta.issue_summary, "ai-summary");
    fact(dl, t("ai.decision"), t("decision." + meta.decision), "ai-decision");
    fact(dl, t("ai.name"), meta.full_name, "ai-name");
    fact(dl, t("ai.language"), meta.language, "ai-language");
    if (Array.isArray(meta.citations) && meta.citations.length) {
      fact(dl, t("ai.citations"), meta.citations.map(function (c) { return "#" + c; }).join(", "), "ai-citations");
    }
  }
  fact(dl, t("ai.handoff_reason"), handoffReasonText(current.conv), "ai-handoff-reason");
  $("ai-none").hidden = dl.childNodes.length > 0;
  var draft = found.draft;
  $("ai-draft").hidden = !draft;
  $("ai-draft-text").textContent = draft ? draft.text : "";
  current.draft = draft ? draft.text : null;
}

export function wire() {
  $("insert-draft").addEventListener("click", function () {
    if (!current || !current.draft) { return; }
    var box = $("reply-text");
    box.value = current.draft;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });
}
