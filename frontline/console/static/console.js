/* Frontline operator console: the inbox, one conversation, live updates.
 *
 * Plain browser JavaScript, no build step and no libraries. It talks to the REST API
 * (/api/v1) with the session cookie and the X-CSRF-Token header, and to /ws/console for
 * live events; the database is the source of truth, so after every (re)connection the
 * inbox and the open conversation are read again. Text from the server is only ever put
 * into the page with textContent.
 */
(function () {
  "use strict";

  var S = JSON.parse(document.getElementById("i18n").textContent);
  var CFG = JSON.parse(document.getElementById("console-config").textContent);
  var API = CFG.api;
  var PAGE_SIZE = 50;
  var TYPING_SEND_MS = 3000;
  var TYPING_IDLE_MS = 5000;
  var VISITOR_TYPING_MS = 8000;
  var SILENCE_MS = 70000;

  function $(id) { return document.getElementById(id); }

  function t(key, params) {
    var s = Object.prototype.hasOwnProperty.call(S, key) ? S[key] : key;
    if (params) {
      Object.keys(params).forEach(function (name) {
        s = s.split("{" + name + "}").join(String(params[name]));
      });
    }
    return s;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function option(value, label, selected) {
    var o = el("option", null, label);
    o.value = value;
    if (selected) { o.selected = true; }
    return o;
  }

  var dateFormat = new Intl.DateTimeFormat(CFG.lang, {
    day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit"
  });

  function formatTime(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : dateFormat.format(d);
  }

  // --- feedback ----------------------------------------------------------------------------

  var flashTimer = null;

  function flash(message) {
    var node = $("flash");
    node.textContent = message;
    node.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { node.hidden = true; }, 8000);
  }

  function announce(message) {
    var node = $("announcer");
    node.textContent = "";
    setTimeout(function () { node.textContent = message; }, 50);
  }

  // --- the REST API ----------------------------------------------------------------------

  function csrfToken() {
    var prefix = CFG.csrf_cookie + "=";
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      if (part.indexOf(prefix) === 0) { return decodeURIComponent(part.slice(prefix.length)); }
    }
    return "";
  }

  function toLogin() {
    window.location.assign(CFG.login_url + "?next=" + encodeURIComponent(window.location.pathname));
  }

  function ApiError(status, message) {
    this.status = status;
    this.message = message;
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (method !== "GET") { headers["X-CSRF-Token"] = csrfToken(); }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (response) {
      if (response.status === 401) {
        flash(t("error.session"));
        toLogin();
        throw new ApiError(401, t("error.session"));
      }
      if (response.status === 204) { return null; }
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) {
          var message = data && data.error && data.error.message ? data.error.message : String(response.status);
          throw new ApiError(response.status, message);
        }
        return data;
      });
    }, function () {
      throw new ApiError(0, t("error.network"));
    });
  }

  function failed(error) {
    if (error && error.status === 401) { return; }
    flash(t("error.generic", { message: error && error.message ? error.message : "?" }));
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      if (value === null || value === undefined || value === "") { return; }
      (Array.isArray(value) ? value : [value]).forEach(function (v) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(v));
      });
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  // --- reference data: members, categories, channels, contacts ----------------------------

  var members = new Map();
  var categories = new Map();
  var channels = new Map();
  var contacts = new Map(); // id -> {data, promise}

  function memberName(id) {
    if (!id) { return t("conv.unassigned"); }
    var m = members.get(id);
    return m ? (m.name || m.email) : "…";
  }

  function contactName(contact) {
    if (!contact) { return ""; }
    if (contact.name) { return contact.name; }
    if (contact.email) { return contact.email; }
    if (contact.phone) { return contact.phone; }
    var ids = (contact.identities || []).map(function (i) { return i.external_id; });
    // a web chat visitor is anonymous until they introduce themselves: a short, stable tag
    var visitor = ids.filter(function (x) { return x.indexOf("visitor:") === 0; })[0];
    if (visitor) { return t("contact.visitor", { id: visitor.slice(8, 14) }); }
    if (ids.length) { return ids[0]; }
    return t("contact.anonymous");
  }

  function loadContact(id, fresh) {
    var entry = contacts.get(id);
    if (entry && !fresh) { return entry.promise; }
    var promise = api("GET", "/contacts/" + encodeURIComponent(id)).then(function (data) {
      contacts.set(id, { data: data, promise: promise });
      document.querySelectorAll("[data-contact-id]").forEach(function (node) {
        if (node.getAttribute("data-contact-id") === id) { node.textContent = contactName(data); }
      });
      return data;
    });
    promise.catch(function () { contacts.delete(id); });
    contacts.set(id, { data: entry ? entry.data : null, promise: promise });
    return promise;
  }

  function knownContactName(id) {
    var entry = contacts.get(id);
    return entry && entry.data ? contactName(entry.data) : "…";
  }

  function loadReference() {
    var jobs = [
      api("GET", "/members").then(function (rows) {
        members.clear();
        rows.forEach(function (m) { members.set(m.user_id, m); });
      }),
      api("GET", "/categories").then(function (rows) {
        categories.clear();
        rows.forEach(function (c) { categories.set(c.id, c); });
        fillCategorySelects();
      }),
      api("GET", "/inbox/channels").then(function (rows) {
        channels.clear();
        rows.forEach(function (c) { channels.set(c.id, c); });
        fillChannelFilter();
      }, function () {
        $("f-channel").disabled = true; // not available: filter by the other fields
      })
    ];
    return Promise.all(jobs.map(function (p) { return p.catch(failed); }));
  }

  function fillCategorySelects() {
    [["f-category", t("filter.any")], ["field-category", t("field.no_category")]].forEach(function (pair) {
      var select = $(pair[0]);
      var current = select.value;
      clear(select);
      select.appendChild(option("", pair[1], false));
      categories.forEach(function (c) { select.appendChild(option(c.id, c.name, c.id === current)); });
    });
  }

  function fillChannelFilter() {
    var select = $("f-channel");
    var current = select.value;
    clear(select);
    select.appendChild(option("", t("filter.any"), false));
    channels.forEach(function (c) { select.appendChild(option(c.id, c.name, c.id === current)); });
  }

  function channelName(id) {
    var c = channels.get(id);
    return c ? c.name : t("conv.channel");
  }

  // --- the inbox ---------------------------------------------------------------------------

  var inbox = {
    tab: "pending",
    rows: new Map(), // id -> conversation
    cursor: null,
    generation: 0
  };
  var STATUS_RANK = { pending: 0, open: 1, bot: 2, resolved: 3 };

  function filters() {
    return {
      channel_id: $("f-channel").value,
      status: $("f-status").value,
      priority: $("f-priority").value,
      category_id: $("f-category").value,
      q: $("f-q").value.trim()
    };
  }

  function listParams(cursor) {
    var f = filters();
    var params = {
      channel_id: f.channel_id, priority: f.priority, category_id: f.category_id,
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

  function rowTitle(c) {
    return c.subject || t("conv.untitled", { id: c.id });
  }

  function renderRow(c) {
    var li = el("li", "conv-row status-" + c.status + " priority-" + c.priority);
    if (current && current.conv.id === c.id) { li.classList.add("active"); }
    if (handoffs.has(c.id)) { li.classList.add("unseen"); }
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
    a.appendChild(el("span", "row-subject", rowTitle(c)));
    var tags = el("span", "row-tags");
    tags.appendChild(el("span", "tag tag-status-" + c.status, t("status." + c.status)));
    if (c.priority !== "normal") {
      tags.appendChild(el("span", "tag tag-priority-" + c.priority, t("priority." + c.priority)));
    }
    tags.appendChild(el("span", "tag", channelName(c.channel_id)));
    if (c.assignee_id) { tags.appendChild(el("span", "tag", memberName(c.assignee_id))); }
    if (c.category_id && categories.has(c.category_id)) {
      tags.appendChild(el("span", "tag", categories.get(c.category_id).name));
    }
    a.appendChild(tags);
    li.appendChild(a);
    if (!contacts.has(c.contact_id)) { loadContact(c.contact_id).catch(function () {}); }
    return li;
  }

  function renderInbox() {
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

  function loadInbox(more) {
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

  var searchTimer = null;

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

  /** A conversation changed (event or own action): show it where it belongs. */
  function upsertConversation(c) {
    if (matches(c)) {
      inbox.rows.set(c.id, c);
    } else {
      inbox.rows.delete(c.id);
    }
    if (c.status !== "pending") { forgetHandoff(c.id); }
    renderInbox();
    if (current && current.conv.id === c.id) {
      current.conv = c;
      if (current.loaded) { renderConversationState(); }
    }
  }

  // --- handoff announcements: badge, title, sound -------------------------------------------

  var handoffs = new Set();
  var baseTitle = document.title;
  var soundOn = window.localStorage.getItem("fl-console-sound") !== "off";
  var audio = null;

  function renderHandoffs() {
    var n = handoffs.size;
    $("handoff-count").textContent = String(n);
    $("handoff-badge").hidden = n === 0;
    document.title = n ? "(" + n + ") " + baseTitle : baseTitle;
  }

  function forgetHandoff(id) {
    if (handoffs.delete(id)) { renderHandoffs(); }
  }

  function clearHandoffs() {
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
    announce(t("handoff.announce", { subject: rowTitle(c) }));
  }

  // --- one conversation ----------------------------------------------------------------------

  var current = null; // {conv, messages: Map, contact, streams: Map}
  var loadToken = 0;

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

  function addMessage(m) {
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

  var typingState = { ai: false, contact: false, contactTimer: null, operator: null, operatorTimer: null };

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

  function renderAiPanel() {
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
    fact(dl, t("ai.handoff_reason"), current.conv.handoff_reason, "ai-handoff-reason");
    $("ai-none").hidden = dl.childNodes.length > 0;
    var draft = found.draft;
    $("ai-draft").hidden = !draft;
    $("ai-draft-text").textContent = draft ? draft.text : "";
    current.draft = draft ? draft.text : null;
  }

  function renderConversationState() {
    var c = current.conv;
    $("conv-title").textContent = rowTitle(c);
    $("conv-channel").textContent = channelName(c.channel_id);
    var status = $("conv-status");
    status.textContent = t("status." + c.status);
    status.className = "tag tag-status-" + c.status;
    $("conv-assignee").textContent = memberName(c.assignee_id);
    $("accept").hidden = c.assignee_id === CFG.user_id;
    $("handback").disabled = c.status === "bot";
    $("resolve").disabled = c.status === "resolved";
    $("field-status").value = c.status;
    $("field-priority").value = c.priority;
    $("field-category").value = c.category_id || "";
    var transfer = $("transfer-to");
    var chosen = transfer.value;
    clear(transfer);
    transfer.appendChild(option("", t("conv.unassigned"), false));
    members.forEach(function (m, id) {
      if (id !== c.assignee_id) { transfer.appendChild(option(id, m.name || m.email, id === chosen)); }
    });
    document.title = (handoffs.size ? "(" + handoffs.size + ") " : "") + rowTitle(c) + " · " + baseTitle;
    renderAiPanel();
  }

  function renderContact() {
    if (!current) { return; }
    var contact = current.contact;
    var node = $("conv-contact");
    node.setAttribute("data-contact-id", current.conv.contact_id);
    node.textContent = contact ? contactName(contact) : "…";
    var box = $("contact-ai");
    box.disabled = !contact;
    box.checked = !!(contact && contact.ai_enabled);
  }

  function renderMessageList() {
    var list = $("messages");
    clear(list);
    Array.from(current.messages.values()).sort(function (a, b) { return a.id - b.id; }).forEach(function (m) {
      list.appendChild(renderMessage(m));
    });
    current.streams.forEach(function (node) { list.appendChild(node); });
  }

  function renderConversation(detail) {
    var list = $("messages");
    var messages = detail.messages;
    delete detail.messages;
    current.conv = detail;
    current.loaded = true;
    current.messages = new Map();
    messages.forEach(function (m) { current.messages.set(m.id, m); });
    renderMessageList();
    $("no-conversation").hidden = true;
    $("conversation").hidden = false;
    renderConversationState();
    renderContact();
    list.scrollTop = list.scrollHeight;
  }

  function openConversation(id, push) {
    var token = ++loadToken;
    if (current && current.conv.id !== id) { send("unsubscribe", { conversation_id: current.conv.id }); stopTyping(); }
    if (!current || current.conv.id !== id) {
      current = {
        conv: { id: id, contact_id: null }, loaded: false, messages: new Map(),
        streams: new Map(), contact: null, draft: null
      };
      typingState.ai = false;
      typingState.contact = false;
      typingState.operator = null;
      renderTyping();
    }
    if (push) { window.history.pushState({ id: id }, "", "/console/conversations/" + id); }
    send("subscribe", { conversation_id: id });
    forgetHandoff(id);
    return api("GET", "/conversations/" + id).then(function (detail) {
      if (token !== loadToken) { return; }
      renderConversation(detail);
      renderInbox();
      return loadContact(detail.contact_id, true).then(function (contact) {
        if (token !== loadToken) { return; }
        current.contact = contact;
        renderContact();
      });
    }).catch(function (error) {
      if (token !== loadToken) { return; }
      failed(error);
    });
  }

  function closeConversation() {
    if (current) { send("unsubscribe", { conversation_id: current.conv.id }); }
    stopTyping();
    current = null;
    loadToken++;
    $("conversation").hidden = true;
    $("no-conversation").hidden = false;
    document.title = baseTitle;
    renderHandoffs();
    renderInbox();
  }

  function idFromPath() {
    var match = /^\/console\/conversations\/(\d+)$/.exec(window.location.pathname);
    return match ? Number(match[1]) : null;
  }

  // --- actions -------------------------------------------------------------------------------

  function act(promise) {
    return promise.then(function (c) {
      if (c) { upsertConversation(c); }
      return c;
    }).catch(failed);
  }

  function patchConversation(body) {
    if (!current) { return Promise.resolve(null); }
    return act(api("PATCH", "/conversations/" + current.conv.id, body)).then(function (c) {
      if (!c && current) { renderConversationState(); } // refused: show the real state again
    });
  }

  function assign(userId) {
    if (!current) { return; }
    act(api("POST", "/conversations/" + current.conv.id + "/assign", { assignee_id: userId || null }));
  }

  function submitText(form, textarea, path) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) { return; }
      var text = textarea.value;
      if (!text.trim()) { textarea.focus(); return; }
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      var id = current.conv.id;
      api("POST", "/conversations/" + id + path, { text: text }).then(function (m) {
        if (textarea.value === text) { textarea.value = ""; }
        // the socket may have brought it first, and a newer state of it (queued, then
        // sent): this answer must not put the older one back
        if (!(current && current.messages.has(m.id))) { addMessage(m); }
        if (path === "/messages") {
          stopTyping();
          // the reply may have opened and assigned the conversation: read its state
          return api("GET", "/conversations/" + id).then(function (detail) {
            delete detail.messages;
            upsertConversation(detail);
          });
        }
      }).catch(failed).then(function () {
        button.disabled = false;
      });
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  var typingSent = { active: false, at: 0, timer: null, conversation: null };

  function stopTyping() {
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

  // --- the live socket -------------------------------------------------------------------

  var socket = { ws: null, attempt: 0, timer: null, watchdog: null };

  function send(type, data) {
    var ws = socket.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: type, data: data }));
    }
  }

  function setOnline(online) {
    var node = $("conn");
    node.textContent = online ? t("conn.online") : t("conn.offline");
    node.className = "conn " + (online ? "online" : "offline");
  }

  function resync() {
    loadInbox(false);
    if (current) { openConversation(current.conv.id, false); }
  }

  function connect() {
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
      if (current) { send("subscribe", { conversation_id: current.conv.id }); }
      resync(); // events missed while offline are in the database
    });
    ws.addEventListener("message", function (event) {
      alive();
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") { onFrame(frame.type, frame.data || {}); }
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

  function onFrame(type, data) {
    switch (type) {
      case "ping":
        send("pong", {});
        break;
      case "conversation.created":
      case "conversation.updated":
      case "conversation.status":
      case "conversation.assigned":
        if (data && data.id) { upsertConversation(data); }
        break;
      case "conversation.handoff_requested":
        if (data && data.id) {
          upsertConversation(data);
          handoffRequested(data);
        }
        break;
      case "message.created":
      case "message.updated":
        if (data && data.id) {
          var row = inbox.rows.get(data.conversation_id);
          if (row && type === "message.created" && !data.is_internal) {
            row.last_activity_at = data.created_at;
            renderInbox();
          }
          addMessage(data);
        }
        break;
      case "message.delta":
        onDelta(data);
        break;
      case "ai.typing":
        if (current && data.conversation_id === current.conv.id) {
          typingState.ai = !!data.active;
          renderTyping();
        }
        break;
      case "typing":
        onTyping(data);
        break;
      default:
        break; // unknown events are ignored: newer servers may send more
    }
  }

  // --- wiring ------------------------------------------------------------------------------

  function wire() {
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
    ["f-channel", "f-status", "f-priority", "f-category"].forEach(function (id) {
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
    $("conv-list").addEventListener("click", function (event) {
      var link = event.target.closest('a[data-testid="conv-row"]');
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return;
      }
      event.preventDefault();
      openConversation(Number(link.getAttribute("data-id")), true);
    });
    window.addEventListener("popstate", function () {
      var id = idFromPath();
      if (id) { openConversation(id, false); } else { closeConversation(); }
    });

    $("handoff-badge").addEventListener("click", function () { selectTab("pending", true); });
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

    $("accept").addEventListener("click", function () { assign(CFG.user_id); });
    $("transfer").addEventListener("click", function () { assign($("transfer-to").value); });
    $("handback").addEventListener("click", function () { patchConversation({ status: "bot" }); });
    $("resolve").addEventListener("click", function () { patchConversation({ status: "resolved" }); });
    $("field-status").addEventListener("change", function () {
      patchConversation({ status: $("field-status").value });
    });
    $("field-priority").addEventListener("change", function () {
      patchConversation({ priority: $("field-priority").value });
    });
    $("field-category").addEventListener("change", function () {
      patchConversation({ category_id: $("field-category").value || null });
    });
    $("contact-ai").addEventListener("change", function () {
      if (!current || !current.contact) { return; }
      var box = $("contact-ai");
      var wanted = box.checked;
      var id = current.contact.id;
      api("PATCH", "/contacts/" + encodeURIComponent(id), { ai_enabled: wanted }).then(function (contact) {
        contacts.set(id, { data: contact, promise: Promise.resolve(contact) });
        if (current && current.contact && current.contact.id === id) {
          current.contact = contact;
          renderContact();
        }
      }).catch(function (error) {
        box.checked = !wanted;
        failed(error);
      });
    });
    $("insert-draft").addEventListener("click", function () {
      if (!current || !current.draft) { return; }
      var box = $("reply-text");
      box.value = current.draft;
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    });
    submitText($("reply-form"), $("reply-text"), "/messages");
    submitText($("note-form"), $("note-text"), "/notes");
    $("reply-text").addEventListener("input", typed);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && current) { forgetHandoff(current.conv.id); }
    });
  }

  function start() {
    wire();
    renderSound();
    renderHandoffs();
    var first = CFG.conversation_id || idFromPath();
    if (first) {
      window.history.replaceState({ id: first }, "", "/console/conversations/" + first);
    }
    loadReference().then(function () {
      renderInbox();
      if (current && current.loaded) {
        renderMessageList(); // operator names are known now
        renderConversationState();
        renderContact();
      }
    });
    loadInbox(false);
    if (first) { openConversation(first, false); }
    connect();
  }

  start();
}());
