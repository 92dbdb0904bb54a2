/* The inbox: tabs (pending, mine, all), filters, the list of conversations, live updates. */

import { api, failed, query } from "./api.js";
import { CFG } from "./config.js";
import { $, clear, el } from "./dom.js";
import { conversationTitle, formatTime, t } from "./i18n.js";
import { clearHandoffs, forgetHandoff, isUnseen } from "./notify.js";
import {
  categoryName,
  categories, channelTag, contactKnown, knownContactName, loadContact, memberName, moderationChip,
  tagChip
} from "./reference.js";
import { CONVERSATION_FRAMES, on, onConnect } from "./socket.js";
import { current } from "./state.js";

var PAGE_SIZE = 50;

var inbox = {
  tab: "pending",
  rows: new Map(), // id -> conversation
  cursor: null,
  generation: 0
};
var searchTimer = null;

function filters() {
  return {
    channel_id: $("f-channel").value,
    status: $("f-status").value,
    priority: $("f-priority").value,
    category_id: $("f-category").value,
    tag_id: $("f-tag").value,
    q: $("f-q").value.trim()
  };
}

function listParams(cursor) {
  var f = filters();
  var params = {
    channel_id: f.channel_id, priority: f.priority, category_id: f.category_id, tag_id: f.tag_id,
    q: f.q, limit: PAGE_SIZE, cursor: cursor
  };
  if (inbox.tab === "pending") {
    params.status = "pending";
  } else if (inbox.tab === "mine") {
    params.assignee = "me";
    params.status = f.status ? f.status : ["pending", "open"];
  } else {
    params.status = f.status;
  }
  return params;
}

function matches(c) {
  var f = filters();
  if (f.channel_id && c.channel_id !== f.channel_id) { return false; }
  if (f.priority && c.priority !== f.priority) { return false; }
  if (f.category_id && c.category_id !== f.category_id) { return false; }
  if (f.tag_id && !(c.tags || []).some(function (tag) { return tag.id === f.tag_id; })) { return false; }
  if (inbox.tab === "pending") { return c.status === "pending"; }
  if (inbox.tab === "mine") {
    if (c.assignee_id !== CFG.user_id) { return false; }
    return f.status ? c.status === f.status : (c.status === "pending" || c.status === "open");
  }
  return !f.status || c.status === f.status;
}

function sortedRows() {
  var rows = Array.from(inbox.rows.values());
  rows.sort(function (a, b) {
    if (inbox.tab === "all" && a.status !== b.status) {
      // pending first: those customers are waiting for a person
      if (a.status === "pending" || b.status === "pending") {
        return a.status === "pending" ? -1 : 1;
      }
    }
    var ta = Date.parse(a.last_activity_at), tb = Date.parse(b.last_activity_at);
    return tb - ta || b.id - a.id;
  });
  return rows;
}

function renderRow(c) {
  var li = el("li", "conv-row status-" + c.status + " priority-" + c.priority);
  if (current && current.conv.id === c.id) { li.classList.add("active"); }
  if (isUnseen(c.id)) { li.classList.add("unseen"); }
  var a = el("a");
  a.href = "/console/conversations/" + c.id;
  a.setAttribute("data-testid", "conv-row");
  a.setAttribute("data-id", String(c.id));
  a.setAttribute("data-status", c.status);
  if (current && current.conv.id === c.id) { a.setAttribute("aria-current", "page"); }
  var top = el("span", "row-top");
  var who = el("span", "row-contact", knownContactName(c.contact_id));
  who.setAttribute("data-contact-id", c.contact_id);
  top.appendChild(who);
  var time = el("time", "row-time", formatTime(c.last_activity_at));
  time.dateTime = c.last_activity_at;
  top.appendChild(time);
  a.appendChild(top);
  a.appendChild(el("span", "row-subject", conversationTitle(c)));
  if (c.last_message) {
    var preview = el("span", "row-preview", c.last_message.text);
    preview.setAttribute("data-testid", "conv-preview");
    a.appendChild(preview);
  }
  var tags = el("span", "row-tags");
  tags.appendChild(el("span", "tag tag-status-" + c.status, t("status." + c.status)));
  if (c.priority !== "normal") {
    tags.appendChild(el("span", "tag tag-priority-" + c.priority, t("priority." + c.priority)));
  }
  tags.appendChild(channelTag(c.channel_id, "row-channel"));
  var flagged = moderationChip(c.meta && c.meta.moderation, "row-moderation");
  if (flagged) { tags.appendChild(flagged); }
  if (c.assignee_id) { tags.appendChild(el("span", "tag", memberName(c.assignee_id))); }
  if (c.category_id && categories.has(c.category_id)) {
    tags.appendChild(el("span", "tag", categoryName(categories.get(c.category_id))));
  }
  (c.tags || []).forEach(function (tag) { tags.appendChild(tagChip(tag)); });
  a.appendChild(tags);
  li.appendChild(a);
  if (!contactKnown(c.contact_id)) { loadContact(c.contact_id).catch(function () {}); }
  return li;
}

export function renderInbox() {
  var list = $("conv-list");
  var focused = document.activeElement && document.activeElement.getAttribute("data-id");
  clear(list);
  var rows = sortedRows();
  rows.forEach(function (c) { list.appendChild(renderRow(c)); });
  if (focused) {
    var again = list.querySelector('[data-id="' + focused + '"]');
    if (again) { again.focus(); }
  }
  $("list-state").textContent = rows.length ? "" : t("inbox.empty");
  $("load-more").hidden = !inbox.cursor;
}

export function loadInbox(more) {
  var generation = more ? inbox.generation : ++inbox.generation;
  if (!more) { $("list-state").textContent = t("inbox.loading"); }
  return api("GET", "/conversations" + query(listParams(more ? inbox.cursor : null))).then(function (page) {
    if (generation !== inbox.generation) { return; } // a newer tab or filter won
    if (!more) { inbox.rows.clear(); }
    page.items.forEach(function (c) { inbox.rows.set(c.id, c); });
    inbox.cursor = page.next_cursor || null;
    renderInbox();
  }).catch(function (error) {
    $("list-state").textContent = "";
    failed(error);
  });
}

function selectTab(name, focus) {
  inbox.tab = name;
  document.querySelectorAll('[role="tab"]').forEach(function (tab) {
    var on = tab.getAttribute("data-tab") === name;
    tab.setAttribute("aria-selected", on ? "true" : "false");
    tab.tabIndex = on ? 0 : -1;
    if (on) {
      $("conv-list").setAttribute("aria-labelledby", tab.id);
      if (focus) { tab.focus(); }
    }
  });
  $("f-status").disabled = name === "pending";
  if (name === "pending") { clearHandoffs(); }
  loadInbox(false);
}

/** A conversation changed (event or own action): show it in the list where it belongs. */
export function upsertConversation(changed) {
  var c = Object.assign({}, changed);
  // frames and PATCH answers carry no tags (null): keep the ones the list knows
  if (c.tags === null || c.tags === undefined) {
    var known = inbox.rows.get(c.id);
    c.tags = known ? known.tags : [];
  }
  if (matches(c)) {
    inbox.rows.set(c.id, c);
  } else {
    inbox.rows.delete(c.id);
  }
  if (c.status !== "pending") { forgetHandoff(c.id); }
  renderInbox();
}

export function wire() {
  var tabs = Array.prototype.slice.call(document.querySelectorAll('[role="tab"]'));
  tabs.forEach(function (tab, index) {
    tab.addEventListener("click", function () { selectTab(tab.getAttribute("data-tab"), false); });
    tab.addEventListener("keydown", function (event) {
      var step = event.key === "ArrowRight" ? 1 : (event.key === "ArrowLeft" ? -1 : 0);
      if (!step) { return; }
      event.preventDefault();
      var next = tabs[(index + step + tabs.length) % tabs.length];
      selectTab(next.getAttribute("data-tab"), true);
    });
  });
  ["f-channel", "f-status", "f-priority", "f-category", "f-tag"].forEach(function (id) {
    $(id).addEventListener("change", function () { loadInbox(false); });
  });
  $("f-q").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { loadInbox(false); }, 300);
  });
  $("filters").addEventListener("submit", function (event) {
    event.preventDefault();
    loadInbox(false);
  });
  $("load-more").addEventListener("click", function () { loadInbox(true); });
  $("handoff-badge").addEventListener("click", function () { selectTab("pending", true); });

  CONVERSATION_FRAMES.forEach(function (type) {
    on(type, function (data) {
      if (data && data.id) { upsertConversation(data); }
    });
  });
  on("message.created", function (data) {
    var row = data && data.id ? inbox.rows.get(data.conversation_id) : null;
    if (row && !data.is_internal) {
      row.last_activity_at = data.created_at;
      row.last_message = {
        sender_type: data.sender_type, text: String(data.text || "").slice(0, 140),
        created_at: data.created_at
      };
      renderInbox();
    }
  });
  onConnect(function () { loadInbox(false); });
}
