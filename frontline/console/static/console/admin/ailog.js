/* The AI log: every LLM call with its provider, decision, tokens, latency and cost,
 * filtered by provider, decision or conversation; a call opens to its prompt and answer. */

import { api, query } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, empty, field, form, formatDate, row, section, showErrors, submitButton, table } from "./ui.js";

export function start(body) {
  var box = section(body, null, "ai-log");
  var f = form("ai-log");
  f.classList.add("inline-form");
  var provider = field(f, { name: "provider", label: "admin.ai.provider" });
  var decision = field(f, { name: "decision", label: "ai.decision", type: "select",
    options: [["", t("filter.any")], ["full_answer", t("decision.full_answer")], ["need_more_info", t("decision.need_more_info")], ["escalate_to_human", t("decision.escalate_to_human")]] });
  var conversation = field(f, { name: "conversation_id", label: "admin.log.conversation", type: "number", min: 1 });
  submitButton(f, "admin.analytics.apply");
  box.appendChild(f);
  var tbody = table(box, [t("admin.log.when"), t("admin.ai.provider"), t("admin.ai.model"), t("ai.decision"), t("admin.log.tokens"), t("admin.ai.latency"), t("admin.log.cost"), ""], "call-list");
  var more = null;
  var detail = el("pre", "call-detail");
  detail.hidden = true;
  detail.setAttribute("data-testid", "call-detail");
  box.appendChild(detail);
  function load(cursor) {
    var params = { provider: provider.value.trim(), decision: decision.value, conversation_id: conversation.value, cursor: cursor, limit: 50 };
    return api("GET", "/ai/calls" + query(params)).then(function (page) {
      if (!cursor) { clear(tbody); }
      if (!cursor && !page.items.length) { empty(tbody, 8); }
      page.items.forEach(function (c) {
        var open = button(t("admin.log.open"), function () {
          api("GET", "/ai/calls/" + c.id).then(function (full) {
            detail.textContent = JSON.stringify({ prompt: full.prompt, answer: full.answer, error: full.error }, null, 2);
            detail.hidden = false;
            detail.scrollIntoView();
          });
        }, "call-open");
        row(tbody, [formatDate(c.created_at), c.provider, c.model, c.decision ? t("decision." + c.decision) : "—",
          c.tokens_in + " / " + c.tokens_out, c.latency_ms + " " + t("admin.unit.ms"), c.cost === null ? "—" : c.cost, open], "call-row");
      });
      if (more) { more.remove(); more = null; }
      if (page.next_cursor) {
        more = button(t("inbox.more"), function () { load(page.next_cursor); }, "calls-more");
        box.appendChild(more);
      }
    }, function (error) { showErrors(f, error); });
  }
  f.addEventListener("submit", function (e) { e.preventDefault(); load(null); });
  load(null);
}
