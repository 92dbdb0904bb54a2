  // ---- widget part 5-connection.js (joined into /widget.js in name order) ----
  // ---- the connection ----
  const ready = () => ws && ws.readyState === 1 && helloed;
  const sendFrame = (type, data) => {
    if (!ready()) return false;
    try { ws.send(JSON.stringify({ type, data })); } catch (e) { return false; }
    lastSent = Date.now();
    if (type === 'message.send') sentAt.set(data.client_id, lastSent);
    return true;
  };
  const getSession = () => { // one call at a time
    if (!sessionCall) sessionCall = requestSession().finally(() => { sessionCall = null; });
    return sessionCall;
  };
  // a token of a signed-in user is not reused once nobody is signed in (a shared computer)
  const storedToken = () => {
    const kept = load(LS, K('token')) || token || null;
    if (kept && !USER && load(LS, K('identified')) === '1') { save(LS, K('token'), null); save(LS, K('identified'), null); return null; }
    return kept;
  };
  async function requestSession() {
    const res = await fetch(BASE + '/api/v1/widget/session', {
      method: 'POST', mode: 'cors', credentials: 'omit',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(Object.assign({ key: KEY, visitor_token: storedToken(), language: attr.language || NAV_LANG }, USER || {})),
    });
    if (!res.ok) {
      const e = new Error('Frontline widget: session refused (' + res.status + ')');
      e.fatal = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw e;
    }
    const s = await res.json();
    if (visitorId && s.visitor_id !== visitorId) resetView(); // the old token was refused
    session = s; token = s.visitor_token; visitorId = s.visitor_id;
    save(LS, K('token'), token);
    save(LS, K('identified'), s.identified ? '1' : null);
    if (s.conversation_id) convId = s.conversation_id;
    if (s.limits && s.limits.max_message_chars > 0) maxChars = s.limits.max_message_chars;
    if (s.limits && s.limits.max_files > 0) maxFiles = s.limits.max_files;
    if (s.limits && s.limits.max_file_bytes > 0) maxFileBytes = s.limits.max_file_bytes;
    applyConfig(s.config);
    setState({ state: s.state, status: s.status, operators_online: s.operators_online, conversation_id: s.conversation_id });
    return s;
  }
  async function connect() {
    clearTimeout(retryTimer); retryTimer = 0;
    if (ws || connecting || fatal) return;
    connecting = true;
    try {
      if (!session) await getSession();
    } catch (e) {
      connecting = false;
      if (e && e.fatal) { fatal = true; console.error(e.message); render(); return; }
      retry(); return;
    }
    connecting = false;
    const q = new URLSearchParams({ key: KEY, token, lang });
    if (lastId != null) q.set('last_id', String(lastId));
    let sock;
    try { sock = new WebSocket(WS_URL + '?' + q); } catch (e) { retry(); return; }
    ws = sock; helloed = false; lastSeen = Date.now(); sentAt.clear();
    sock.onmessage = (ev) => { if (ws === sock) onFrame(ev.data); };
    sock.onclose = (ev) => { if (ws === sock) { ws = null; lost(ev.code); } };
  }
  function lost(code) {
    helloed = false; awaiting = null; setAiTyping(false); setOpTyping(null);
    if (code === 4401) session = null; // key or token refused: ask for a session again
    if (code === 4408) attempt = 0; // the server asks for a resync: reconnect at once
    render(); retry();
  }
  function retry() {
    if (retryTimer || fatal) return;
    const base = Math.min(30000, 1000 * 2 ** Math.min(attempt++, 5));
    retryTimer = setTimeout(() => { retryTimer = 0; connect(); }, base / 2 + Math.random() * base / 2);
    render();
  }
  const drop = () => { const s = ws; if (!s) return; ws = null; try { s.close(); } catch (e) { /* gone */ } lost(1006); };
  const nudge = () => { // back online or back in view: do not wait for the backoff
    if (!started || fatal || navigator.onLine === false) return;
    if (ws && Date.now() - lastSeen > (heartbeat * 2 + 10) * 1000) drop();
    if (!ws && !connecting) { attempt = 0; connect(); }
  };
  setInterval(() => { // a silent socket is a dead one (sleeping laptop, changed network)
    if (!ws) return;
    const now = Date.now();
    // the server pings after a heartbeat in which *we* said nothing, hence the max()
    if (now - Math.max(lastSeen, helloed ? lastSent : 0) > (helloed ? heartbeat * 2 + 10 : 20) * 1000) drop();
    else for (const at of sentAt.values()) if (now - at > 20000) { drop(); break; } // no ack
  }, 5000);
  addEventListener('online', nudge);
  addEventListener('offline', () => { if (ws) drop(); });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    if (isOpen && unread) { unread = 0; paintLauncher(); }
    nudge();
  });

  function onFrame(raw) {
    lastSeen = Date.now();
    let f; try { f = JSON.parse(raw); } catch (e) { return; }
    if (!f || typeof f.type !== 'string') return;
    const d = (f.data && typeof f.data === 'object') ? f.data : {};
    switch (f.type) {
      case 'hello': onHello(d); break;
      case 'message.created': addMessage(d, true); break;
      case 'message.updated': updateFiles(d); break;
      case 'message.ack': onAck(d); break;
      case 'message.delta': onDelta(d); break;
      case 'ai.typing': setAiTyping(!!d.active); break;
      case 'typing': setOpTyping(d.active ? (d.author_name || '') : null); break;
      case 'conversation.status': setState(d); break;
      case 'error': onError(d); break;
      case 'ping': sendFrame('pong', {}); break;
      case 'csat.ack': if (awaiting === 'csat') rated(true); break;
      case 'contact.updated': if (awaiting === 'contact') emailSaved(); break;
      default: break;
    }
  }
  function onHello(d) {
    const reconnect = lastId != null;
    helloed = true; wasUp = true; attempt = 0;
    if (d.heartbeat_seconds > 0) heartbeat = d.heartbeat_seconds;
    if (d.visitor_id && visitorId && d.visitor_id !== visitorId) resetView();
    if (d.visitor_id) visitorId = d.visitor_id;
    if (d.conversation_id) convId = d.conversation_id;
    for (const m of Array.isArray(d.messages) ? d.messages : []) addMessage(m, reconnect);
    setState(d);
    for (const item of outbox) sendFrame('message.send', item); // same client_id: a no-op if stored
    if (wantHandoff && convId != null) { wantHandoff = false; sendFrame('handoff.request', {}); }
    toBottom();
    emit('ready', { visitor_id: visitorId, conversation_id: convId });
  }
  function onAck(d) {
    if (d.conversation_id) convId = d.conversation_id;
    sentAt.delete(d.client_id); unqueue(d.client_id);
    const el = pending.get(d.client_id);
    if (el && typeof d.message_id === 'number' && !byId.has(d.message_id)) {
      pending.delete(d.client_id); confirmed(el, d.message_id, null);
    }
    if (wantHandoff && convId != null) { wantHandoff = false; sendFrame('handoff.request', {}); }
    render();
  }
  const failed = (cid, canRetry) => {
    sentAt.delete(cid);
    const item = outbox.find((o) => o.client_id === cid); unqueue(cid);
    const el = pending.get(cid); if (!el) return;
    el.classList.add('failed');
    const meta = el.querySelector('.meta'); meta.textContent = t('failed');
    if (canRetry && item) {
      meta.append(h('button', { type: 'button', text: t('retry'), onclick: () => {
        el.classList.remove('failed'); meta.textContent = t('sending');
        outbox.push(item); saveOutbox(); sendFrame('message.send', item);
      } }));
    }
  };
  function onError(d) {
    const cid = typeof d.client_id === 'string' ? d.client_id : null;
    const was = cid ? null : awaiting; awaiting = null;
    if (was === 'contact' && d.code === 'invalid') { emailBtn.disabled = false; showError(t('badEmail')); emailInput.focus(); return; }
    if (was === 'csat') rateBtn.disabled = false;
    if (d.code === 'rate_limited') {
      const s = Math.max(1, Math.ceil(Number(d.retry_after) || 5));
      showError(t('rateLimited', { s }), s + 1);
      if (cid) { // still queued: sent again after the wait (or after a reconnect)
        sentAt.delete(cid);
        setTimeout(() => { const item = outbox.find((o) => o.client_id === cid); if (item) sendFrame('message.send', item); }, s * 1000 + 200);
      }
    } else if (d.code === 'too_long') {
      showError(t('tooLong', { n: maxChars }), 0, false, true); if (cid) failed(cid, false);
    } else if (d.code === 'no_conversation') {
      wantHandoff = true; showError(t('describe'), 10, true); input.focus();
    } else {
      if (cid) failed(cid, true);
      showError(t('error'));
    }
  }

